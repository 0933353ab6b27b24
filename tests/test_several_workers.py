"""Two `hocvuso serve` processes on one PostgreSQL database, 200 learners pressing fast.

Each learner goes through consent, the profile, a lesson and its quiz by pressing the buttons
the bot actually sent (read back from the fake Bot API) or typing. The test delivers every
update itself, as Telegram's webhook would, to one of the two servers at random, and about
one in ten a second time to the other server at the same moment (same update_id). Afterwards
no completion is lost or doubled and every conversation satisfies the invariants listed in
`reliability.broken_invariants`.
"""

from __future__ import annotations

import difflib
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fakes.telegram_api import FakeTelegram
from reliability import (
    ANSWERS,
    HOOK_PATH,
    SECRET,
    broken_invariants,
    inbox_statuses,
    rows,
    transcript,
    webhook_server,
)

from storage.db import make_engine, migrate

LEARNERS = 200
DUPLICATE_SHARE = 0.1
FIRST_CHAT = 91_000
REPLY_DEADLINE = 30.0


@dataclass
class Deliveries:
    """What the driver sent: every update's id and the HTTP status of each POST."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    update_ids: set[int] = field(default_factory=set)
    chat_of: dict[int, int] = field(default_factory=dict)
    statuses: Counter[int] = field(default_factory=Counter)
    per_server: Counter[str] = field(default_factory=Counter)
    duplicated: int = 0

    def record(self, update_id: int, hook: str, status: int, duplicate: bool) -> None:
        """Count one POST."""
        with self.lock:
            self.update_ids.add(update_id)
            self.statuses[status] += 1
            self.per_server[hook] += 1
            self.duplicated += duplicate


class Learner:
    """One resident in Telegram whose updates reach one server, sometimes both."""

    def __init__(
        self, fake: FakeTelegram, chat_id: int, hooks: list[str], deliveries: Deliveries
    ) -> None:
        self.fake, self.chat_id, self.hooks, self.deliveries = fake, chat_id, hooks, deliveries
        self.rng = random.Random(chat_id)
        self.client = httpx.Client(timeout=30, trust_env=False)

    def play(self) -> None:
        """Consent, profile, the next lesson and its quiz, answered rightly."""
        try:
            self.act(lambda: self.fake.send_message(self.chat_id, "/start"), "Bạn có đồng ý")
            self.press("Đồng ý", "Câu 1/3")
            self.press("Người dân", "Câu 2/3")
            self.say("thon 2", "Câu 3/3")
            self.say("1957", "Bạn muốn làm gì?")
            self.press("Học tiếp", "(1/")
            while "Làm bài kiểm tra" not in str(self.fake.sent(self.chat_id)[-1]["reply_markup"]):
                self.press("Tiếp", "📖")
            text = self.press("Làm bài kiểm tra", "Câu 1/")
            for _ in range(10):
                if "Chúc mừng" in text:
                    return
                question = self.fake.sent(self.chat_id)[-1]["text"]
                how, answer = next(a for q, a in ANSWERS.items() if q in question)
                text = (self.press if how == "press" else self.say)(answer, "Đúng rồi")
            raise AssertionError(f"chat {self.chat_id}: quiz not passed")
        finally:
            self.client.close()

    def say(self, text: str, expect: str) -> str:
        """Type a message; return the texts of the complete answer."""
        return self.act(lambda: self.fake.send_message(self.chat_id, text), expect)

    def press(self, label: str, expect: str) -> str:
        """Press the newest button whose label contains `label`."""
        message_id, data = self.button(label)
        return self.act(lambda: self.fake.press_button(self.chat_id, message_id, data), expect)

    def button(self, label: str) -> tuple[int, str]:
        """The newest message with a button labelled `label`, and the button's data."""
        for message in reversed(self.fake.sent(self.chat_id)):
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    if label in button["text"]:
                        return int(message["message_id"]), str(button["callback_data"])
        raise AssertionError(f"chat {self.chat_id}: no button {label!r}")

    def act(self, make: Callable[[], int], expect: str) -> str:
        """Create the update in the fake, deliver it, wait for the bot's complete answer."""
        before = len(self.fake.sent(self.chat_id))
        update_id = make()
        self.deliveries.chat_of[update_id] = self.chat_id
        self.deliver(self.fake.update(update_id))
        give_up = time.monotonic() + REPLY_DEADLINE
        while time.monotonic() < give_up:
            new = self.fake.sent(self.chat_id)[before:]
            if any(expect in (m["text"] or "") for m in new) and new[-1]["reply_markup"]:
                return "\n".join(m["text"] or "" for m in new)
            time.sleep(0.1)  # 200 learners poll at once: keep the fake's lock free
        raise AssertionError(f"chat {self.chat_id}: no answer with {expect!r}")

    def deliver(self, update: dict[str, Any]) -> None:
        """POST to a random server; sometimes to the other one too, at the same moment."""
        first = self.rng.randrange(len(self.hooks))
        other = None
        if self.rng.random() < DUPLICATE_SHARE:
            other = threading.Thread(target=self.post_again, args=(update, 1 - first))
            other.start()
        self.post(self.client, update, first, duplicate=False)
        if other is not None:
            other.join()

    def post_again(self, update: dict[str, Any], index: int) -> None:
        """The same update once more, on its own connection."""
        with httpx.Client(timeout=30, trust_env=False) as client:
            self.post(client, update, index, duplicate=True)

    def post(
        self, client: httpx.Client, update: dict[str, Any], index: int, *, duplicate: bool
    ) -> None:
        """One webhook delivery, as Telegram makes it."""
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        for _ in range(3):
            try:
                answer = client.post(self.hooks[index], json=update, headers=headers)
                break
            except httpx.TransportError:
                # No answer (a kept-alive connection closed under us, say): Telegram would
                # deliver again, so this is one more duplicate delivery.
                duplicate = True
        else:
            raise AssertionError(f"update {update['update_id']}: no answer from {index}")
        self.deliveries.record(
            update["update_id"], self.hooks[index], answer.status_code, duplicate
        )


@pytest.fixture
def fresh_postgres(create_postgres_database: Callable[[], str]) -> Iterator[tuple[str, sa.Engine]]:
    """A new, migrated PostgreSQL database (migrated once here, not by two servers at once)."""
    url = create_postgres_database()
    engine = make_engine(url)
    migrate(engine)
    yield url, engine
    engine.dispose()


@pytest.mark.postgres
def test_two_servers_200_learners_duplicates_to_both(
    fresh_postgres: tuple[str, sa.Engine], tmp_path: Path
) -> None:
    url, engine = fresh_postgres
    started = time.monotonic()
    settings = {"telegram_max_rate": "1000"}
    deliveries = Deliveries()
    with (
        FakeTelegram(flood_limit=100_000, callback_answer_timeout=60) as fake,
        webhook_server(fake, url, tmp_path / "a.log", **settings) as first,
        webhook_server(fake, url, tmp_path / "b.log", **settings) as second,
    ):
        # Both servers registered their webhook; from now on the test delivers, not the fake.
        httpx.post(f"{fake.base_url}{fake.token}/deleteWebhook").raise_for_status()
        hooks = [f"{first.base}{HOOK_PATH}", f"{second.base}{HOOK_PATH}"]
        learners = [Learner(fake, FIRST_CHAT + i, hooks, deliveries) for i in range(LEARNERS)]
        with ThreadPoolExecutor(LEARNERS) as pool:
            for future in [pool.submit(learner.play) for learner in learners]:
                future.result()
        fake.wait_for(lambda: inbox_statuses(engine) == {"done": len(deliveries.update_ids)})
        transcripts = {
            learner.chat_id: tuple(transcript(fake, learner.chat_id)) for learner in learners
        }
        unanswered = fake.unanswered_callbacks()
    elapsed = time.monotonic() - started

    assert deliveries.statuses == {200: sum(deliveries.statuses.values())}
    assert min(deliveries.per_server.values()) > 0.3 * len(deliveries.update_ids)
    assert deliveries.duplicated > 0.05 * len(deliveries.update_ids)
    # Everyone said and pressed the same things, so all transcripts are one, except where
    # a Bot API call failed (a timeout under load) and the update was retried: replies are
    # at least once, and the retry shows the current step again.
    retried = rows(engine, "select update_key from inbox_update where attempts > 0")
    retried_chats = {deliveries.chat_of[int(key)] for (key,) in retried}
    usual, _ = Counter(transcripts.values()).most_common(1)[0]
    odd = {chat for chat, seen in transcripts.items() if seen != usual}
    assert odd <= retried_chats, _differences(usual, transcripts, odd - retried_chats)
    assert unanswered == set()
    passed = rows(
        engine,
        "select count(distinct learner_id), count(*) from progress_event"
        " where kind = 'quiz_passed'",
    )
    assert passed == [(LEARNERS, LEARNERS)]
    states = rows(engine, "select state, count(*) from conversation group by state")
    assert states == [("result", LEARNERS)]
    applied = rows(engine, "select count(*) from applied_update")[0][0]
    versions = rows(engine, "select sum(version) from conversation")[0][0]
    assert applied == versions
    assert broken_invariants(engine) == []
    print(
        f"{LEARNERS} learners, {len(deliveries.update_ids)} updates, "
        f"{deliveries.duplicated} delivered twice, {applied} steps, {len(retried)} retried "
        f"({len(odd)} learners saw a reply again), {elapsed:.1f}s"
    )


def _differences(
    usual: tuple[str, ...], transcripts: dict[int, tuple[str, ...]], chats: set[int]
) -> str:
    """How the odd learners' transcripts differ from the usual one."""
    lines = []
    for chat in sorted(chats):
        diff = difflib.unified_diff(usual, transcripts[chat], lineterm="", n=1)
        lines.append(f"chat {chat}:\n" + "\n".join(line[:200] for line in diff))
    return "\n".join(lines)
