"""Settings: HOCVUSO_* variables, and a one-line message naming a bad one."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from server import PROJECT

from hocvuso.settings import Settings, SettingsError, load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("HOCVUSO_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(PROJECT)


def test_defaults_need_no_token_and_use_sqlite() -> None:
    settings = load_settings()
    assert settings.database_url.startswith("sqlite:///")
    assert settings.telegram_token is None and settings.zalo_token is None
    assert settings.public_url is None
    assert str(settings.telegram_api_base) == "https://api.telegram.org/bot"


def test_every_design_variable_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    values = {
        "DATABASE_URL": "postgresql+psycopg://u@db/x",
        "TELEGRAM_TOKEN": "123:abc",
        "TELEGRAM_API_BASE": "http://127.0.0.1:9000/bot",
        "ZALO_TOKEN": "zalo-token",
        "ZALO_API_BASE": "http://127.0.0.1:9001",
        "CONTENT_DIR": str(PROJECT),
        "WEBHOOK_SECRET": "s3cret_-token",
        "PUBLIC_URL": "https://hocvuso.example.vn",
        "COMMUNE_FILE": str(PROJECT / "commune.yaml"),
    }
    for name, value in values.items():
        monkeypatch.setenv(f"HOCVUSO_{name}", value)
    settings = Settings()
    assert settings.database_url == values["DATABASE_URL"]
    assert settings.telegram_token is not None
    assert settings.telegram_token.get_secret_value() == "123:abc"
    assert "123:abc" not in repr(settings)
    assert str(settings.public_url).startswith("https://hocvuso.example.vn")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "mysql://x"),
        ("PUBLIC_URL", "not a url"),
        ("WEBHOOK_SECRET", "short"),
        ("CONTENT_DIR", "/nonexistent"),
        ("COMMUNE_FILE", "/nonexistent.yaml"),
        ("TELEGRAM_API_BASE", "ftp//x"),
    ],
)
def test_an_invalid_value_is_reported_in_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(f"HOCVUSO_{name}", value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert f"HOCVUSO_{name}" in message
    assert "\n" not in message


def test_serve_refuses_to_start_with_a_bad_setting() -> None:
    env = {**os.environ, "HOCVUSO_WEBHOOK_SECRET": "bad secret!"}
    result = subprocess.run(
        [sys.executable, "-m", "hocvuso.cli", "serve"],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "HOCVUSO_WEBHOOK_SECRET" in lines[0]
    assert "bad secret!" not in result.stderr
