"""Alembic environment: runs the migrations on the connection `storage.db.migrate` hands over.

Without a handed-over connection (the `alembic` command line, e.g. to autogenerate a new
revision) it connects to `sqlalchemy.url` from the config, or else `HOCVUSO_DATABASE_URL`.
"""

from __future__ import annotations

import os
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

from storage.db import make_engine, normalise_url
from storage.models import UtcDateTime


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Render project column types as plain SQLAlchemy types in generated revisions."""
    # Revisions must keep working after storage.models changes, so they import no project code.
    if type_ == "type":
        if isinstance(obj, UtcDateTime):
            return "sa.DateTime(timezone=True)"
        if isinstance(obj, AutoString):
            return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    return False


def _configure(**kwargs: Any) -> None:
    context.configure(
        target_metadata=SQLModel.metadata,
        render_item=render_item,
        compare_type=True,
        **kwargs,
    )


def run_on(connection: Connection) -> None:
    """Run the pending migrations on an open connection."""
    # SQLite cannot ALTER most things in place; batch mode rebuilds the table instead.
    _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


def _database_url() -> str:
    url = context.config.get_main_option("sqlalchemy.url") or os.environ.get("HOCVUSO_DATABASE_URL")
    if not url:
        raise RuntimeError("set sqlalchemy.url or HOCVUSO_DATABASE_URL to run migrations")
    return url


def main() -> None:
    """Run migrations online on a given or new connection, or offline as SQL text."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run_on(connection)
        return
    url = normalise_url(_database_url())
    if context.is_offline_mode():
        _configure(
            url=url.render_as_string(hide_password=False),
            literal_binds=True,
            render_as_batch=url.get_backend_name() == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(url)
    try:
        with engine.begin() as new_connection:
            run_on(new_connection)
    finally:
        engine.dispose()


main()
