"""Building the service's parts from settings, once, in dependency order."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from bot.assistant import LessonIndexAssistant
from bot.commune import Commune, load_commune
from bot.content import Content, load_content
from bot.engine import Engine
from hocvuso.settings import Settings
from storage.db import make_engine, migrate
from storage.repository import SqlRepository


@dataclass(frozen=True)
class Services:
    """Everything a channel needs to talk to learners."""

    settings: Settings
    database: sa.Engine
    content: Content
    commune: Commune
    engine: Engine


def build_services(settings: Settings) -> Services:
    """Load content and commune, migrate the database, and wire the engine."""
    content = load_content(Path(settings.content_dir))
    commune = load_commune(Path(settings.commune_file))
    database = make_engine(settings.database_url)
    migrate(database)
    engine = Engine(
        SqlRepository(database),
        content,
        commune,
        LessonIndexAssistant(content),
        privacy_version=settings.privacy_version,
    )
    return Services(settings, database, content, commune, engine)
