"""One writer process of the SQLite soak test (`test_sqlite_concurrency.py`).

Usage: python sqlite_soak.py DATABASE_URL NAME SECONDS. Prints "ready", waits for a line on
stdin, then for SECONDS drives its own learners through the real engine (every message a
step with an update id) while filing, claiming and finishing inbox updates, all on the one
SQLite file another process writes too. Prints one JSON line of counts and every error.
"""

from __future__ import annotations

import itertools
import json
import logging
import sys
import time
import traceback
from pathlib import Path

from bot.assistant import Assistant
from bot.commune import load_commune
from bot.content import load_content
from bot.engine import Engine, Incoming, texts
from storage.db import make_engine
from storage.inbox import SqlInbox
from storage.repository import SqlRepository

PROJECT = Path(__file__).resolve().parents[1]
LEARNERS = 4
# Consent and the profile, then the menu's ways around: each one moves the conversation on.
OPENING = ("đồng ý", "1", "thôn 1", "1960")
ROUND = ("menu", "học tiếp", "menu", "hỏi đáp", "Zalo là gì?", "menu", "trợ giúp")


def main() -> int:
    """Run one writer; exit 0 with its counts on stdout, whatever went wrong inside."""
    url, name, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    database = make_engine(url)
    content = load_content(PROJECT)
    repository = SqlRepository(database)
    engine = Engine(repository, content, load_commune(PROJECT / "commune.yaml"), Assistant(content))
    inbox = SqlInbox(database)
    counts = {"messages": 0, "written": 0, "busy": 0, "added": 0, "claimed": 0, "done": 0}
    errors: list[str] = []
    print("ready", flush=True)
    sys.stdin.readline()
    deadline = time.monotonic() + seconds
    update_ids = itertools.count(1)
    scripts = [itertools.chain(OPENING, itertools.cycle(ROUND)) for _ in range(LEARNERS)]
    while time.monotonic() < deadline:
        for number, script in enumerate(scripts):
            chat = f"{name}-{number}"
            update = str(next(update_ids))
            try:
                _step(engine, repository, chat, next(script), f"{name}-{update}", counts)
                if inbox.add("zalo", f"{name}-{update}", {"n": update, "chat": chat}):
                    counts["added"] += 1
                if int(update) % 3 == 0:
                    for item in inbox.claim_due(limit=5, lease_seconds=60):
                        counts["claimed"] += 1
                        inbox.done(item.id)
                        counts["done"] += 1
            except Exception:  # every error is reported, none ends the run
                errors.append(traceback.format_exc())
    print(json.dumps({"counts": counts, "errors": errors}), flush=True)
    database.dispose()
    return 0


def _step(
    engine: Engine,
    repository: SqlRepository,
    chat: str,
    text: str,
    update_id: str,
    counts: dict[str, int],
) -> None:
    """One message; counts it as written when the learner's version moved on by one."""
    key = Incoming("web", chat, chat, text=text, update_id=update_id)
    before = repository.load(key.key)
    replies = engine.handle(key)
    counts["messages"] += 1
    if any(reply.text == texts.BUSY for reply in replies):
        counts["busy"] += 1
    after = repository.load(key.key)
    old = before.version if before is not None else 0
    new = after.version if after is not None else 0
    if new == old + 1:
        counts["written"] += 1
    elif new != old:
        raise AssertionError(f"{chat}: version {old} -> {new} in one step")


if __name__ == "__main__":
    sys.exit(main())
