"""No log line shows a bot token, a webhook secret or an API token.

Every server the end-to-end suites start (`server.running_server`) has its log scanned when
it stops, for each secret of its environment, each token registered with `never_logged`,
and anything shaped like a token; a leak fails the test. These tests show the scan catches a
leak, and that an official's token from `hocvuso officials add`, sent to a running server in
every way a client might, never reaches its log.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from server import (
    PROJECT,
    LeakedSecret,
    assert_no_secrets,
    never_logged,
    running_server,
    secrets_of_env,
)

TELEGRAM_TOKEN = "987654:LEAK-test_token_abcdefghijkl"
OFFICIAL_TOKEN_SHAPE = "hv_" + "A" * 43


def _env(database: Path) -> dict[str, str]:
    return {
        "HOCVUSO_DATABASE_URL": f"sqlite:///{database}",
        "HOCVUSO_CONTENT_DIR": str(PROJECT),
        "HOCVUSO_COMMUNE_FILE": str(PROJECT / "commune.yaml"),
    }


def test_the_scan_finds_each_kind_of_leak(tmp_path: Path) -> None:
    """Known secrets and token shapes are caught; masked lines pass."""
    log = tmp_path / "server.log"
    log.write_text("INFO started\nINFO POST https://api.telegram.org/bot***/getMe 200\n")
    assert_no_secrets(log, ["hook_secret-123"])
    for line in (
        "INFO webhook secret is hook_secret-123 (oops)",
        f"ERROR POST https://api.telegram.org/bot{TELEGRAM_TOKEN}/getMe failed",
        f"INFO GET /dashboard?token={OFFICIAL_TOKEN_SHAPE} 200",
        "WARNING 123456789:AAAbbbCCCdddEEEfffGGGhhh refused",
    ):
        log.write_text(f"INFO started\n{line}\n")
        with pytest.raises(LeakedSecret, match=r"server\.log:2"):
            assert_no_secrets(log, ["hook_secret-123"])


def test_secrets_are_taken_from_the_servers_environment() -> None:
    """Tokens, the webhook secret and a database password count; other settings do not."""
    env = {
        "HOCVUSO_TELEGRAM_TOKEN": TELEGRAM_TOKEN,
        "HOCVUSO_ZALO_TOKEN": "zalo-token-1234",
        "HOCVUSO_WEBHOOK_SECRET": "hook_secret-123",
        "HOCVUSO_DATABASE_URL": "postgresql://hv:db-pass-5678@localhost/hv",
        "HOCVUSO_CONTENT_DIR": "/srv/content",
        "PATH": "/usr/bin",
    }
    assert secrets_of_env(env) == {
        TELEGRAM_TOKEN,
        "zalo-token-1234",
        "hook_secret-123",
        "db-pass-5678",
    }


def test_a_server_whose_log_shows_a_secret_fails_its_test(tmp_path: Path) -> None:
    """The check is wired into `running_server`: a "secret" the server does log is caught."""
    log = tmp_path / "server.log"
    # uvicorn logs this line at start-up: standing in for a leaked secret, it must be caught.
    with (
        pytest.raises(LeakedSecret),
        running_server(
            _env(tmp_path / "hv.db"), log, 60.0, secrets=["Application startup complete"]
        ),
    ):
        pass
    assert "Application startup complete" in log.read_text(encoding="utf-8")


def test_an_officials_token_never_reaches_the_servers_log(tmp_path: Path) -> None:
    """The token printed by `hocvuso officials add`, then used every way against the server."""
    database = tmp_path / "hv.db"
    env = _env(database)
    made = subprocess.run(
        [sys.executable, "-m", "hocvuso.cli", "officials", "add", "Chủ tịch xã", "--role", "admin"],
        cwd=PROJECT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    token = made.stdout.strip()
    assert token.startswith("hv_") and len(token) > 20
    never_logged(token)
    revoked_shape = token[:-4] + "zzzz"
    log = tmp_path / "server.log"
    with running_server(env, log, 60.0) as base, httpx.Client(base_url=base, timeout=10) as client:
        bearer = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/v1/overview", headers=bearer).status_code == 200
        assert client.get("/api/v1/report/quarterly.csv", headers=bearer).status_code < 500
        assert client.get("/api/v1/audit", headers=bearer).status_code == 200
        wrong = {"Authorization": f"Bearer {revoked_shape}"}
        assert client.get("/api/v1/overview", headers=wrong).status_code == 401
        assert client.get("/api/v1/overview", headers={"Authorization": token}).status_code == 401
        # Tokens in the wrong place: a query string, a cookie, a learner's chat message.
        assert client.get(f"/api/v1/overview?token={token}").status_code == 401
        assert client.get(f"/dashboard?token={token}").status_code < 500
        assert (
            client.get("/api/v1/overview", headers={"Cookie": f"token={token}"}).status_code == 401
        )
        chat = client.post("/chat/messages", json={"text": f"mã của tôi {token}"})
        assert chat.status_code == 200
        assert client.post("/chat/messages", json={"text": "đồng ý"}).status_code == 200
        assert client.post("/chat/messages", json={"text": token}).status_code == 200
    text = log.read_text(encoding="utf-8")
    assert "GET /api/v1/overview" in text, "the server logged no requests: nothing was checked"
    assert token not in text and revoked_shape not in text
    assert_no_secrets(log, [token, revoked_shape])
