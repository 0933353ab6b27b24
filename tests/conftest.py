"""Shared fixtures: a repository and a migrated engine on every backend, throwaway databases.

PostgreSQL tests use the server named by HOCVUSO_TEST_POSTGRES_URL (an admin connection,
default postgresql+psycopg://postgres@127.0.0.1:5432/test). They create their own databases
(`hocvuso_test_<hex>`) and drop them afterwards. Without a reachable server they are skipped,
except under CI=true, where they fail: in CI they must run.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fakes.telegram_api import FakeTelegram
from hypothesis import settings as hypothesis_settings
from sqlalchemy.engine import URL, Engine

from bot.engine.ports import Repository
from storage.db import make_engine, migrate, normalise_url
from storage.memory import MemoryRepository
from storage.repository import SqlRepository

DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

# Property tests: the same examples on every CI run (a failure there is reproducible), and no
# example database left behind; locally hypothesis explores freely. HYPOTHESIS_PROFILE wins.
hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
hypothesis_settings.register_profile("dev")


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker that lets `-m "not postgres"` leave the server alone."""
    config.addinivalue_line("markers", "postgres: needs a PostgreSQL server")
    config.addinivalue_line("markers", "slow: runs for ten seconds or more (CI runs it too)")
    default = "ci" if _in_ci() else "dev"
    hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", default))


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1")


def _render(url: URL) -> str:
    return url.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[Engine]:
    """An autocommit engine on the admin database; skips (fails under CI) if unreachable."""
    url = normalise_url(os.environ.get("HOCVUSO_TEST_POSTGRES_URL", DEFAULT_ADMIN_URL))
    engine = sa.create_engine(
        url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )
    try:
        with engine.connect():
            pass
    except sa.exc.OperationalError as error:
        engine.dispose()
        message = f"PostgreSQL unreachable at {url}: {error}"
        if _in_ci():
            pytest.fail(f"{message} (CI=true: PostgreSQL tests must run)", pytrace=False)
        pytest.skip(message)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def create_postgres_database(postgres_admin: Engine) -> Iterator[Callable[[], str]]:
    """A factory of fresh, empty databases, all dropped at the end of the session."""
    created: list[str] = []

    def create() -> str:
        name = f"hocvuso_test_{secrets.token_hex(6)}"
        with postgres_admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        created.append(name)
        return _render(postgres_admin.url.set(database=name))

    yield create
    with postgres_admin.connect() as connection:
        for name in created:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def _postgres_session_engine(create_postgres_database: Callable[[], str]) -> Iterator[Engine]:
    """One migrated database for the whole session; tests get it emptied, not recreated."""
    engine = make_engine(create_postgres_database())
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_url(_postgres_session_engine: Engine) -> str:
    """URL of a migrated PostgreSQL database whose tables are empty at the start of the test."""
    engine = _postgres_session_engine
    with engine.begin() as connection:
        tables = connection.execute(
            sa.text(
                "SELECT quote_ident(tablename) FROM pg_tables"
                " WHERE schemaname = current_schema() AND tablename <> 'alembic_version'"
            )
        ).scalars()
        names = ", ".join(tables)
        if names:
            connection.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    return _render(engine.url)


@pytest.fixture
def empty_postgres_url(create_postgres_database: Callable[[], str]) -> str:
    """URL of a brand-new PostgreSQL database with no tables at all (for migration tests)."""
    return create_postgres_database()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """URL of a SQLite file that does not exist yet, in a directory that does not either."""
    return f"sqlite:///{tmp_path / 'data' / 'hocvuso.sqlite3'}"


@pytest.fixture(
    params=[
        "memory",
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
    ]
)
def repository(request: pytest.FixtureRequest, sqlite_url: str) -> Iterator[Repository]:
    """An empty repository on each backend: in memory, a migrated SQLite file, PostgreSQL."""
    if request.param == "memory":
        yield MemoryRepository()
        return
    if request.param == "sqlite":
        engine = make_engine(sqlite_url)
        migrate(engine)
        yield SqlRepository(engine)
        engine.dispose()
        return
    # Requested lazily, so memory and SQLite runs never touch the PostgreSQL server.
    request.getfixturevalue("postgres_url")
    yield SqlRepository(request.getfixturevalue("_postgres_session_engine"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def migrated_engine(request: pytest.FixtureRequest, sqlite_url: str) -> Iterator[Engine]:
    """An engine on a migrated database with empty tables, on each SQL backend."""
    if request.param == "sqlite":
        engine = make_engine(sqlite_url)
        migrate(engine)
        yield engine
        engine.dispose()
        return
    # Requested lazily, so SQLite runs never touch the PostgreSQL server.
    request.getfixturevalue("postgres_url")
    yield request.getfixturevalue("_postgres_session_engine")


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    """The fake Telegram Bot API (Zalo's test modules define their own `fake`)."""
    with FakeTelegram() as server:
        yield server
