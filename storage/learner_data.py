"""A learner's own data, for an operator answering "show me" or "delete my data" requests.

Everything stored about a learner is the `learner` row and the rows of every table with a
`learner_id` column (found from the models' metadata, so a new table is included without
changing this file). Deleting goes through the same de-identification as a learner typing
"xóa dữ liệu" (storage/deidentify.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers every table on the metadata)
from storage.models import Learner
from storage.repository import SqlRepository

_learner = SQLModel.metadata.tables[str(Learner.__tablename__)]


def find_learner(engine: Engine, channel: str, chat_id: str) -> int | None:
    """The id of the learner of this chat on this channel, or None."""
    with engine.connect() as connection:
        found = connection.execute(
            sa.select(_learner.c.id).where(
                _learner.c.channel == channel, _learner.c.chat_id == chat_id
            )
        ).scalar_one_or_none()
    return None if found is None else int(found)


def learner_tables() -> list[sa.Table]:
    """Every table holding rows about one learner: `learner` first, then by name."""
    linked = sorted(
        (
            table
            for table in SQLModel.metadata.tables.values()
            if "learner_id" in table.c and table is not _learner
        ),
        key=lambda table: table.name,
    )
    return [_learner, *linked]


def learner_data(engine: Engine, learner_id: int) -> dict[str, list[dict[str, Any]]]:
    """All rows stored about the learner, table by table, as plain JSON-ready values."""
    result: dict[str, list[dict[str, Any]]] = {}
    with engine.connect() as connection:
        for table in learner_tables():
            key = table.c.id if table is _learner else table.c.learner_id
            rows = connection.execute(sa.select(table).where(key == learner_id)).mappings()
            result[table.name] = [
                {name: _plain(value) for name, value in row.items()} for row in rows
            ]
    return result


def _plain(value: Any) -> Any:
    """Dates as ISO text; everything else as stored."""
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def delete_learner_data(engine: Engine, learner_id: int) -> None:
    """De-identify the learner exactly as "xóa dữ liệu" in the chat does."""
    SqlRepository(engine).delete_learner(learner_id)
