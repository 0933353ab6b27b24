"""Hypothesis drives the engine with hostile input: it never raises and always answers.

A state machine plays several learners at once, in random order: typed text over all of
Unicode (control characters, emoji, 10,000 characters), the buttons really shown, stale and
forged button ids, deep links, global words, invite and referral codes, redelivered updates.
After every message: at least one non-empty reply, button ids of at most 64 bytes, a known
state, and a conversation version that moved by at most one.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from dialog import FIXTURES, make_engine
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from server import PROJECT

from bot.engine import Engine, Incoming, Reply, Repository
from bot.engine.states import State
from storage.memory import MemoryRepository
from storage.records import LearnerKey, LearnerSnapshot
from storage.repository import SqlRepository
from storage.volunteers import create_invite

MAX_BUTTON_BYTES = 64
# Modest on purpose: the whole module stays within a few seconds per backend. Set
# HOCVUSO_FUZZ_EXAMPLES for a long hunt (say 500) before a release.
EXAMPLES = int(os.environ.get("HOCVUSO_FUZZ_EXAMPLES", "12"))
STEPS = 30
LEARNERS = ("an", "binh", "chi")
CHANNELS = ("telegram", "zalo", "web")
GLOBAL_WORDS = (
    "menu",
    "/menu",
    "/start",
    "xóa dữ liệu",
    "xoa du lieu",
    "/xoadulieu",
    "dừng nhắc",
    "dung nhac",
    "học tiếp",
    "hoc tiep",
    "trợ giúp",
    "/help",
    "nhắc tôi",
    "ôn lại",
    "đồng ý",
    "không",
    "tiếp",
    "1",
    "2",
    "3",
    "0",
    "99",
    "1957",
    "thôn 1",
    "thon 2",
    "Người dân",
    "quay lại",
    "🙃",
    "",
    " ",
)
# Long texts cost nothing to generate when they are a short piece repeated.
_long_text = st.builds(
    lambda piece, size: (piece * size)[:size],
    st.text(min_size=1, max_size=8),
    st.integers(min_value=2001, max_value=10_000),
)
_emoji = st.text(
    st.one_of(
        st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF),
        st.sampled_from(["\u200d", "\ufe0f", "\U0001f3fb", "\u2764"]),
    ),
    max_size=12,
)
_controls = st.text(st.characters(categories=["Cc", "Cf", "Zl", "Zp"]), max_size=20)
TEXTS = st.one_of(
    st.text(max_size=200),
    _long_text,
    _emoji,
    _controls,
    st.sampled_from(GLOBAL_WORDS),
    st.builds(lambda w, junk: w + junk, st.sampled_from(GLOBAL_WORDS), _controls),
)
_code_chars = st.text("ABCDEFGHJKMNPQRSTUVWXYZ23456789abcxyz01_- ", min_size=0, max_size=20)
CODE_LIKE = st.one_of(
    st.builds(lambda c: f"TNV-{c}", _code_chars),
    st.builds(lambda c: f"tnv {c}", _code_chars),
    st.builds(lambda c: f"ref-{c}", _code_chars),
    st.builds(lambda c: f"ref {c}", _code_chars),
    st.builds(lambda c: f"mã giới thiệu {c}", _code_chars),
    st.builds(lambda c: f"đồng ý {c}", _code_chars),
    _code_chars,
)
PAYLOADS = st.one_of(
    st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True),
    st.builds(lambda c: f"ref-{c}", _code_chars),
    st.text(max_size=80),
)
FORGED_BUTTONS = st.one_of(
    st.text(max_size=70),
    st.builds(lambda n, local: f"{n}:{local}", st.integers(-2, 40), st.text(max_size=70)),
    st.builds(
        lambda n, local: f"{n}:{local}",
        st.integers(0, 40),
        st.sampled_from(
            ["ok", "ok.", "0:ok.ref-ABCDEF", "next", "quiz", "del", "yes", "a", "1", "leave", ""]
        ),
    ),
    st.builds(
        lambda piece, size: (piece * size)[:size], st.text(min_size=1), st.integers(65, 5000)
    ),
)
UPDATE_IDS = st.one_of(st.none(), st.integers(1, 12).map(str))

_runs = itertools.count()


def _machine(
    engine: Engine, repository: Repository, invites: list[str], visited: set[str]
) -> type[RuleBasedStateMachine]:
    """A state machine class over one engine; every run talks as fresh chats."""

    class Conversations(RuleBasedStateMachine):
        """Several learners writing to one engine, in any order, with anything."""

        def __init__(self) -> None:
            super().__init__()
            self.run = next(_runs)
            self.last: dict[str, list[Reply]] = {}
            self.seen: dict[str, list[str]] = {}
            self.referral_codes: set[str] = set()
            self.messages = 0

        def _chat(self, learner: str) -> LearnerKey:
            channel = CHANNELS[LEARNERS.index(learner)]
            return LearnerKey(channel, f"fuzz-{self.run}-{learner}")

        def _send(
            self,
            learner: str,
            *,
            text: str | None = None,
            button: str | None = None,
            update_id: str | None = None,
        ) -> list[Reply]:
            key = self._chat(learner)
            before = repository.load(key)
            incoming = Incoming(
                key.channel,
                key.chat_id,
                key.chat_id,
                text=text,
                button=button,
                update_id=f"{self.run}-{update_id}" if update_id else None,
            )
            response = engine.respond(incoming)
            replies = response.replies
            self.messages += 1
            assert replies, f"no reply to {incoming!r}"
            assert any(r.text.strip() for r in replies), f"only empty replies to {incoming!r}"
            for reply in replies:
                assert isinstance(reply.text, str)
                for shown in reply.buttons:
                    assert shown.id and len(shown.id.encode()) <= MAX_BUTTON_BYTES, shown
                    assert shown.label.strip(), shown
            after = repository.load(key)
            _check_step(before, after, button, response.button_accepted)
            self.last[learner] = replies
            if after is not None:
                visited.add(after.state)
            self.seen.setdefault(learner, []).extend(b.id for r in replies for b in r.buttons)
            if after is not None and after.volunteer is not None and after.volunteer.referral_code:
                self.referral_codes.add(after.volunteer.referral_code)
            return replies

        @rule(learner=st.sampled_from(LEARNERS), text=TEXTS, update_id=UPDATE_IDS)
        def type_text(self, learner: str, text: str, update_id: str | None) -> None:
            """Typed text of any shape."""
            self._send(learner, text=text, update_id=update_id)

        @rule(learner=st.sampled_from(LEARNERS), data=st.data(), update_id=UPDATE_IDS)
        def press_shown(self, learner: str, data: st.DataObject, update_id: str | None) -> None:
            """A button of the latest replies, as a real learner presses it."""
            shown = [b.id for r in self.last.get(learner, []) for b in r.buttons]
            if not shown:
                self._send(learner, text="/start", update_id=update_id)
                return
            self._send(learner, button=data.draw(st.sampled_from(shown)), update_id=update_id)

        @rule(learner=st.sampled_from(LEARNERS), data=st.data(), presses=st.integers(1, 12))
        def walk(self, learner: str, data: st.DataObject, presses: int) -> None:
            """Several shown buttons in a row, so runs reach lessons, quizzes and volunteering."""
            for _ in range(presses):
                shown = [b.id for r in self.last.get(learner, []) for b in r.buttons]
                if not shown:
                    shown = ["0:ok"]
                self._send(learner, button=data.draw(st.sampled_from(shown)))

        @rule(learner=st.sampled_from(LEARNERS), data=st.data())
        def type_shown_label(self, learner: str, data: st.DataObject) -> None:
            """A button's label typed instead of pressed (Zalo has no buttons)."""
            labels = [b.label for r in self.last.get(learner, []) for b in r.buttons]
            if labels:
                self._send(learner, text=data.draw(st.sampled_from(labels)))

        @rule(learner=st.sampled_from(LEARNERS), data=st.data())
        def press_stale(self, learner: str, data: st.DataObject) -> None:
            """A button from any earlier reply, or from another learner's chat."""
            pool = [b for ids in self.seen.values() for b in ids]
            if pool:
                self._send(learner, button=data.draw(st.sampled_from(pool)))

        @rule(learner=st.sampled_from(LEARNERS), button=FORGED_BUTTONS)
        def press_forged(self, learner: str, button: str) -> None:
            """A button id nobody was ever shown, some of them very long."""
            self._send(learner, button=button)

        @rule(learner=st.sampled_from(LEARNERS), payload=PAYLOADS)
        def deep_link(self, learner: str, payload: str) -> None:
            """`/start <payload>`, as Telegram sends a deep link."""
            self._send(learner, text=f"/start {payload}")

        @rule(learner=st.sampled_from(LEARNERS), code=CODE_LIKE)
        def code_like(self, learner: str, code: str) -> None:
            """Something that looks like an invite or referral code."""
            self._send(learner, text=code)

        @rule(learner=st.sampled_from(LEARNERS), data=st.data())
        def real_code(self, learner: str, data: st.DataObject) -> None:
            """A valid invite code, or a volunteer's real referral code, in its typed forms."""
            codes = [*invites, *sorted(self.referral_codes)]
            code = data.draw(st.sampled_from(codes))
            form = data.draw(st.sampled_from(["{}", "ref {}", "/start ref-{}", "đồng ý {}"]))
            self._send(learner, text=form.format(code))

        @rule(learner=st.sampled_from(LEARNERS))
        def nothing(self, learner: str) -> None:
            """A sticker or a picture: neither text nor button."""
            self._send(learner)

        @invariant()
        def states_are_known(self) -> None:
            """Every stored conversation is on a step the engine knows."""
            for learner in LEARNERS:
                snapshot = repository.load(self._chat(learner))
                if snapshot is not None:
                    assert snapshot.state in State.__members__.values(), snapshot.state

    return Conversations


def _check_step(
    before: LearnerSnapshot | None,
    after: LearnerSnapshot | None,
    button: str | None,
    accepted: bool,
) -> None:
    """A step moves the conversation's version by at most one; foreign buttons move nothing."""
    if after is None:
        return  # never enrolled, declined, or just deleted their data
    assert after.state in set(State), after.state
    if before is None:
        assert after.version == 1, after
        return
    assert before.version <= after.version <= before.version + 1, (before, after)
    stamp = (button or "").partition(":")[0]
    if button is not None and before.state != State.ASSISTING and stamp != str(before.version):
        assert not accepted, button
        assert after.version == before.version, (button, before, after)


def _invites(repository: Repository) -> list[str]:
    """A valid invite code on the repository's backend."""
    if isinstance(repository, MemoryRepository):
        repository.add_invite("TNV-ABCD2345", "Đoàn Thanh niên")
        return ["TNV-ABCD2345", "tnv abcd2345"]
    assert isinstance(repository, SqlRepository)
    code = create_invite(repository.engine, "Đoàn Thanh niên")
    return [code, code.lower().replace("-", " ")]


@pytest.mark.parametrize("root", [FIXTURES, PROJECT], ids=["fixtures", "project"])
def test_the_engine_never_raises_and_always_answers(
    repository: Repository, root: Path, record_property: Callable[[str, object], None]
) -> None:
    """Hypothesis' state machine over each backend and each content set."""
    engine = make_engine(repository, root)
    visited: set[str] = set()
    machine = _machine(engine, repository, _invites(repository), visited)
    counted: list[int] = []

    class Counting(machine):  # type: ignore[valid-type,misc]
        def teardown(self) -> None:
            counted.append(self.messages)
            super().teardown()

    run_state_machine_as_test(
        Counting,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        ),
    )
    record_property("messages", sum(counted))
    record_property("states", sorted(visited))
    assert sum(counted) >= EXAMPLES, counted
    # The walks get past consent and the profile, so the menu's branches are fuzzed too.
    assert State.MENU in visited, sorted(visited)
