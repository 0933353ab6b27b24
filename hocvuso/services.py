"""Building the service's parts from settings, once, in dependency order."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from bot.assistant import Assistant
from bot.certificate_image import CertificatePictures
from bot.channels.inbox import ChatOf, InboxWorker, Process
from bot.channels.telegram import TelegramChannel
from bot.channels.telegram import chat_of as telegram_chat
from bot.channels.zalo import ZaloChannel
from bot.channels.zalo import chat_of as zalo_chat
from bot.channels.zalo_api import ZaloClient
from bot.commune import Commune, load_commune
from bot.content import TARGET_GROUPS, Content, load_content
from bot.engine import Engine
from bot.paths import core_path
from hocvuso.settings import Settings
from storage.db import make_engine, migrate
from storage.inbox import SqlInbox
from storage.repository import SqlRepository
from storage.rollup import sync_rollup


@dataclass(frozen=True)
class Services:
    """Everything the channels need to talk to learners."""

    settings: Settings
    database: sa.Engine
    content: Content
    commune: Commune
    engine: Engine
    inbox: SqlInbox
    worker: InboxWorker
    telegram: TelegramChannel | None
    zalo: ZaloChannel | None


def build_services(settings: Settings) -> Services:
    """Load content and commune, migrate the database, and wire the engine and channels."""
    content = load_content(Path(settings.content_dir))
    commune = load_commune(Path(settings.commune_file))
    database = make_engine(settings.database_url)
    migrate(database)
    # The coverage rollup follows the content's core paths: rebuilt when they changed.
    sync_rollup(database, {group: core_path(content, group) for group in TARGET_GROUPS})
    public_url = str(settings.public_url) if settings.public_url is not None else None
    engine = Engine(
        SqlRepository(database),
        content,
        commune,
        Assistant(content),
        privacy_version=settings.privacy_version,
        bot_username=settings.telegram_bot_username,
        public_url=public_url,
    )
    telegram = None
    if settings.telegram_token is not None:
        telegram = TelegramChannel(
            engine,
            settings.telegram_token.get_secret_value(),
            str(settings.telegram_api_base),
            content_dir=Path(settings.content_dir),
            pictures=CertificatePictures(database, content, commune, public_url),
            max_rate=settings.telegram_max_rate,
        )
    zalo = None
    if settings.zalo_token is not None:
        client = ZaloClient(settings.zalo_token.get_secret_value(), str(settings.zalo_api_base))
        zalo = ZaloChannel(engine, client, public_url=public_url)
    inbox = SqlInbox(database)
    processors: dict[str, tuple[Process, ChatOf]] = {}
    if telegram is not None:
        processors["telegram"] = (telegram.dispatch, telegram_chat)
    if zalo is not None:
        processors["zalo"] = (zalo.dispatch, zalo_chat)
    worker = InboxWorker(inbox, processors, lease_seconds=settings.inbox_lease_seconds)
    return Services(settings, database, content, commune, engine, inbox, worker, telegram, zalo)


def secrets_of(settings: Settings) -> list[str]:
    """Every secret the logs must never show."""
    values = (settings.telegram_token, settings.zalo_token, settings.webhook_secret)
    return [value.get_secret_value() for value in values if value is not None]
