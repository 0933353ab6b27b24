"""Helpers for the reliability tests: `hocvuso serve` in webhook mode against the fake Bot API."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from fakes.telegram_api import FakeTelegram
from server import PROJECT, Server, free_port, server_process

SECRET = "reliability_Secret-42"
HOOK_PATH = "/webhooks/telegram"


def quiz_answers() -> dict[str, tuple[str, str]]:
    """Each quiz question's text -> ("press", right option) or ("say", accepted words)."""
    found: dict[str, tuple[str, str]] = {}
    for path in (PROJECT / "quizzes").glob("*.yaml"):
        for question in yaml.safe_load(path.read_text(encoding="utf-8"))["questions"]:
            if "options" in question:
                right = next(o["text"] for o in question["options"] if o.get("correct"))
                found[question["text"]] = ("press", right)
            else:
                found[question["text"]] = ("say", question["accept"][0])
    return found


ANSWERS = quiz_answers()


def webhook_env(fake: FakeTelegram, database_url: str, port: int, **extra: str) -> dict[str, str]:
    """Settings for a server on `port` whose Telegram webhook is registered with the fake."""
    return {
        "HOCVUSO_DATABASE_URL": database_url,
        "HOCVUSO_CONTENT_DIR": str(PROJECT),
        "HOCVUSO_COMMUNE_FILE": str(PROJECT / "commune.yaml"),
        "HOCVUSO_TELEGRAM_TOKEN": fake.token,
        "HOCVUSO_TELEGRAM_API_BASE": fake.base_url,
        "HOCVUSO_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "HOCVUSO_WEBHOOK_SECRET": SECRET,
        **{f"HOCVUSO_{name.upper()}": value for name, value in extra.items()},
    }


@contextmanager
def webhook_server(
    fake: FakeTelegram, database_url: str, log: Path, **extra: str
) -> Iterator[Server]:
    """Run a server in webhook mode; yields it once its webhook is registered with the fake."""
    port = free_port()
    with server_process(webhook_env(fake, database_url, port, **extra), log, port=port) as server:
        url = f"{server.base}{HOOK_PATH}"
        fake.wait_for(lambda: fake.webhook()["url"] == url, timeout=20, what=f"webhook {url}")
        yield server


def transcript(fake: FakeTelegram, chat_id: int) -> list[str]:
    """The texts of the bot's messages in a chat, as they look now (after edits)."""
    return [message.get("text") or message.get("caption") or "" for message in fake.sent(chat_id)]


def rows(engine: sa.Engine, sql: str) -> list[tuple[Any, ...]]:
    """Run one query on the server's database and return its rows as tuples."""
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(sa.text(sql))]


def inbox_statuses(engine: sa.Engine) -> dict[str, int]:
    """How many inbox rows are in each status."""
    return {status: count for status, count in rows(engine, _STATUSES)}


_STATUSES = "select status, count(*) from inbox_update group by status"


def broken_invariants(engine: sa.Engine) -> list[str]:
    """What is wrong with the stored conversations; empty when every invariant holds.

    1. No platform update is recorded as applied twice.
    2. A conversation's version is the number of updates applied to it (enrolment is
       version 1 with its own update; every later written step adds one of each).
    3. Every learner has exactly one conversation and one consent.
    4. No history row (event, answer, applied update) outlives its learner.
    5. A learner has at most one passed quiz per lesson, and every started quiz is passed or
       failed unless the learner is still in it.
    6. Nothing is pending or dead in the inbox.
    """
    problems = [f"applied twice: {row}" for row in rows(engine, _APPLIED_TWICE)]
    problems += [f"version != applied updates: {row}" for row in rows(engine, _VERSIONS)]
    problems += [f"not one conversation/consent: {row}" for row in rows(engine, _ONE_EACH)]
    for table in ("progress_event", "quiz_answer", "applied_update", "conversation"):
        orphans = rows(engine, _ORPHANS.format(table=table))
        problems += [f"{table} without learner: {row}" for row in orphans]
    problems += [f"passed twice: {row}" for row in rows(engine, _PASSED_TWICE)]
    problems += [f"quiz neither passed nor failed: {row}" for row in rows(engine, _UNFINISHED)]
    stuck = {k: v for k, v in inbox_statuses(engine).items() if k != "done"}
    if stuck:
        problems.append(f"inbox not drained: {stuck}")
    return problems


_APPLIED_TWICE = """
select channel, update_id, count(*) from applied_update
group by channel, update_id having count(*) > 1
"""
_VERSIONS = """
select c.learner_id, c.version, (select count(*) from applied_update a
                                 where a.learner_id = c.learner_id) as applied
from conversation c
where c.version <> (select count(*) from applied_update a where a.learner_id = c.learner_id)
"""
_ONE_EACH = """
select l.id,
       (select count(*) from conversation c where c.learner_id = l.id) as conversations,
       (select count(*) from consent k where k.learner_id = l.id) as consents
from learner l
where (select count(*) from conversation c where c.learner_id = l.id) <> 1
   or (select count(*) from consent k where k.learner_id = l.id) <> 1
"""
_ORPHANS = """
select t.learner_id from {table} t left join learner l on l.id = t.learner_id
where l.id is null
"""
_PASSED_TWICE = """
select learner_id, lesson_id, count(*) from progress_event where kind = 'quiz_passed'
group by learner_id, lesson_id having count(*) > 1
"""
_UNFINISHED = """
select e.learner_id, e.lesson_id from progress_event e join conversation c
  on c.learner_id = e.learner_id
where c.state <> 'quiz'
group by e.learner_id, e.lesson_id
having sum(case when e.kind = 'quiz_started' then 1 else 0 end)
    <> sum(case when e.kind in ('quiz_passed', 'quiz_failed') then 1 else 0 end)
"""
