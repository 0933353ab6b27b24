"""`hocvuso chat`: the same conversation in a terminal."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from dialog import make_engine
from server import PROJECT

from bot.channels import console
from storage.memory import MemoryRepository


def test_console_numbers_choices_and_accepts_numbers() -> None:
    source = io.StringIO("1\n1\n2\nbo qua\n1\n")
    sink = io.StringIO()
    console.run(make_engine(MemoryRepository()), source, sink, chat_id="tester")
    out = sink.getvalue()
    assert "1. ✅ Đồng ý" in out
    assert "Câu 2/3" in out and "Câu 3/3" in out
    assert "Thẻ một" in out
    assert out.rstrip().endswith("Tạm biệt! 👋")


def test_hocvuso_chat_command_runs_on_sqlite(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "HOCVUSO_DATABASE_URL": f"sqlite:///{tmp_path / 'chat.db'}",
        "HOCVUSO_CONTENT_DIR": str(PROJECT),
        "HOCVUSO_COMMUNE_FILE": str(PROJECT / "commune.yaml"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "hocvuso.cli", "chat", "--as", "author"],
        cwd=PROJECT,
        env=env,
        input="đồng ý\nnguoi dan\n1\n1970\nhoc tiep\n/quit\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "Câu 1/3" in result.stdout and "Bạn muốn làm gì?" in result.stdout
    assert "📖" in result.stdout and "(1/" in result.stdout
