"""The architecture's rules, checked: the engine stays free of channels, web and ORM."""

from __future__ import annotations

import json
import subprocess
import sys

from server import PROJECT

FORBIDDEN = ("telegram", "fastapi", "starlette", "httpx", "sqlmodel", "sqlalchemy", "uvicorn")


def _modules_after_import(module: str) -> set[str]:
    code = f"import sys, json, {module}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT, check=True, capture_output=True, text=True
    )
    return set(json.loads(out.stdout))


def test_engine_imports_no_chat_sdk_web_framework_http_client_or_orm() -> None:
    loaded = _modules_after_import("bot.engine")
    leaked = sorted(m for m in loaded if m.split(".")[0] in FORBIDDEN)
    assert leaked == []


def test_storage_never_imports_the_bot() -> None:
    loaded = _modules_after_import("storage.repository")
    assert sorted(m for m in loaded if m.split(".")[0] in {"bot", "api", "hocvuso"}) == []
