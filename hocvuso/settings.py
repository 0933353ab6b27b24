"""All configuration in one pydantic-settings class, read from HOCVUSO_* variables and `.env`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from pydantic import (
    AnyHttpUrl,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "HOCVUSO_"
_SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{8,256}$")
_BOT_USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{4,31}$")


class Settings(BaseSettings):
    """The service's settings; see docs/architecture.md for what each one changes."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = "sqlite:///./data/hocvuso.db"
    telegram_token: SecretStr | None = None
    telegram_api_base: AnyHttpUrl = AnyHttpUrl("https://api.telegram.org/bot")
    # The bot's @username, for volunteers' referral links (https://t.me/<username>?start=...).
    telegram_bot_username: str | None = None
    zalo_token: SecretStr | None = None
    zalo_api_base: AnyHttpUrl = AnyHttpUrl("https://bot-api.zaloplatforms.com")
    content_dir: Path = Path(".")
    webhook_secret: SecretStr | None = None
    public_url: AnyHttpUrl | None = None
    commune_file: Path = Path("commune.yaml")
    privacy_version: Annotated[str, Field(min_length=1, max_length=32)] = "2026-01"
    # How often the reminder loop looks for due weekly reminders (tests make it short).
    reminder_interval_seconds: Annotated[float, Field(gt=0, le=3600)] = 60.0
    # off: this process stores webhook/polled updates in the inbox but never processes them;
    # another process (or this one restarted with it on) does. Tests use it to open a
    # deterministic window between accepting an update and processing it.
    inbox_worker: bool = True
    # How long a claimed inbox update is reserved for its worker; after a crash it is
    # processed again once this runs out. Keep it above the slowest processing of one batch.
    inbox_lease_seconds: Annotated[float, Field(ge=1, le=3600)] = 60.0
    # Bot API calls per second for the whole bot (Telegram's free broadcast limit is ~30).
    telegram_max_rate: Annotated[float, Field(gt=0, le=1000)] = 30.0

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        """Accept only the databases the storage layer supports."""
        if not value.startswith(("sqlite:///", "postgresql", "postgres://")):
            raise ValueError("must start with sqlite:/// or postgresql://")
        return value

    @field_validator("telegram_bot_username")
    @classmethod
    def _bot_username_shape(cls, value: str | None) -> str | None:
        """A Telegram username: 5-32 of A-Z a-z 0-9 _, a letter first; "@" is dropped."""
        if value is None or not value.strip():
            return None
        name = value.strip().removeprefix("@")
        if not _BOT_USERNAME.match(name):
            raise ValueError("must be the bot's username, e.g. hocvuso_xa_bot")
        return name

    @field_validator("content_dir")
    @classmethod
    def _content_exists(cls, value: Path) -> Path:
        """Fail at start-up, not at the first learner, when the lessons are missing."""
        if not (value / "lessons").is_dir():
            raise ValueError(f"{value} has no lessons/ folder")
        return value

    @field_validator("commune_file")
    @classmethod
    def _commune_exists(cls, value: Path) -> Path:
        """The hamlet list and targets are needed from the first profile question."""
        if not value.is_file():
            raise ValueError(f"file {value} not found")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        """Telegram accepts 1-256 and Zalo 8-256 characters of A-Z a-z 0-9 _ -."""
        if value is not None and not _SECRET_TOKEN.match(value.get_secret_value()):
            raise ValueError("must be 8-256 characters of A-Z a-z 0-9 _ -")
        return value

    @model_validator(mode="after")
    def _webhooks_need_a_secret(self) -> Settings:
        """A webhook without a secret would accept forged updates from anyone."""
        platforms = self.telegram_token is not None or self.zalo_token is not None
        if self.public_url is not None and platforms and self.webhook_secret is None:
            raise ValueError(
                f"{ENV_PREFIX}WEBHOOK_SECRET must be set when {ENV_PREFIX}PUBLIC_URL is set"
            )
        return self


class SettingsError(Exception):
    """A setting is invalid; the message is one line that names the variable."""


def load_settings() -> Settings:
    """Read the settings, turning pydantic's report into one line per bad variable."""
    try:
        return Settings()
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            message = error["msg"].removeprefix("Value error, ")
            if not error["loc"]:
                lines.append(f"invalid settings: {message}")
                continue
            name = ENV_PREFIX + str(error["loc"][0]).upper()
            lines.append(f"invalid setting {name}: {message}")
        raise SettingsError("; ".join(lines)) from None
