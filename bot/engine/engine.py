"""The conversation engine: one learner's message in, the bot's replies out.

Channel-free and synchronous: adapters call `Engine.handle` (async ones in a worker thread).
Every step is read, decided and written with optimistic locking on the conversation's
version, so two workers handling the same learner can never both apply one step.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Mapping

from bot.commune import Commune
from bot.content import Content
from bot.engine import consent, learning, menu, profile, texts
from bot.engine.choices import Choice, match_choice
from bot.engine.flow import Assistant, Decision, Move, Outcome, Screen, Stay, Turn, World
from bot.engine.messages import Button, Incoming, Reply
from bot.engine.ports import Repository
from bot.engine.states import State
from bot.textnorm import fold
from storage.records import Changes, Consent, EventKind, LearnerSnapshot

log = logging.getLogger(__name__)

MAX_TEXT = 2000
_ATTEMPTS = 4

ScreenFn = Callable[[Turn], Screen]
HandleFn = Callable[[Turn, Choice | None, str | None], Decision]

STEPS: Mapping[State, tuple[ScreenFn, HandleFn]] = {
    State.PROFILE_GROUP: (profile.group_screen, profile.handle_group),
    State.PROFILE_HAMLET: (profile.hamlet_screen, profile.handle_hamlet),
    State.PROFILE_BIRTH_YEAR: (profile.birth_year_screen, profile.handle_birth_year),
    State.MENU: (menu.menu_screen, menu.handle_menu),
    State.SKILLS: (menu.skills_screen, menu.handle_skills),
    State.SKILL_LESSONS: (menu.skill_lessons_screen, menu.handle_skill_lessons),
    State.LESSON: (learning.lesson_screen, learning.handle_lesson),
    State.QUIZ: (learning.quiz_screen, learning.handle_quiz),
    State.RESULT: (learning.result_screen, learning.handle_result),
    State.ASK: (menu.ask_screen, menu.handle_ask),
    State.CONFIRM_DELETE: (menu.confirm_delete_screen, menu.handle_confirm_delete),
}
_PROFILE_STATES = {State.PROFILE_GROUP, State.PROFILE_HAMLET, State.PROFILE_BIRTH_YEAR}


class Engine:
    """Turns an `Incoming` message into replies, keeping each learner's state in storage."""

    def __init__(
        self,
        repository: Repository,
        content: Content,
        commune: Commune,
        assistant: Assistant,
        *,
        privacy_version: str = "2026-01",
        today: Callable[[], dt.date] = dt.date.today,
    ) -> None:
        self._repo = repository
        self._content = content
        self._commune = commune
        self._assistant = assistant
        self._privacy_version = privacy_version
        self._today = today

    def handle(self, incoming: Incoming) -> list[Reply]:
        """Answer one message; always returns at least one reply, never raises for bad input."""
        incoming = _clip(incoming)
        for _ in range(_ATTEMPTS):
            learner = self._repo.load(incoming.key)
            if learner is None:
                replies = self._first_contact(incoming)
            else:
                replies = self._step(learner, incoming)
            if replies is not None:
                return replies
            log.info("conversation moved on under us; retrying the step")
        return [Reply(texts.BUSY)]

    # -- before consent: nothing is stored -------------------------------------------------

    def _first_contact(self, incoming: Incoming) -> list[Reply] | None:
        """Show the privacy notice; enrol the learner only when they agree."""
        choices = consent.notice_screen().choices
        choice = _resolve(incoming, choices, version=0)
        if choice is consent.AGREE:
            agreed = Consent(self._privacy_version, "self")
            created = self._repo.enrol(incoming.key, agreed, State.PROFILE_GROUP, {})
            if created is None:
                return None
            screen = self._screen(Turn(self._world(), created))
            return _stamp([Reply(texts.CONSENT_THANKS), *screen.replies()], created.version)
        if choice is consent.DECLINE:
            screen = consent.declined_screen()
        elif choice is consent.MORE:
            screen = consent.details_screen()
        elif incoming.button is not None:
            screen = consent.notice_screen(texts.STALE_BUTTON)
        else:
            screen = consent.notice_screen()
        return _stamp(screen.replies(), 0)

    # -- after consent ---------------------------------------------------------------------

    def _step(self, learner: LearnerSnapshot, incoming: Incoming) -> list[Reply] | None:
        """Decide one step for an enrolled learner and write it atomically."""
        turn = Turn(self._world(), learner)
        try:
            decision = self._decide(turn, incoming)
            outcome = self._realise(turn, decision)
        except learning.ContentGone:
            # The lesson was edited away under the learner: back to the menu, nothing lost.
            outcome = self._realise(turn, Move(State.MENU, before=(texts.UNKNOWN,)))
        if outcome.delete:
            self._repo.delete_learner(learner.learner_id)
            return outcome.replies
        if outcome.changes is None:
            return _stamp(outcome.replies, learner.version)
        if not self._repo.apply(learner.learner_id, learner.version, outcome.changes):
            return None
        return _stamp(outcome.replies, learner.version + 1)

    def _decide(self, turn: Turn, incoming: Incoming) -> Decision:
        """Global words first (menu, help, delete), then the current step's own handler."""
        screen = self._screen(turn)
        if incoming.button is not None:
            choice = _resolve(incoming, screen.choices, turn.learner.version)
            if choice is None:
                return Stay((texts.STALE_BUTTON,))
            return STEPS[turn.state][1](turn, choice, None)
        text = incoming.text or ""
        if not fold(text):
            return Stay((texts.EMPTY,))
        command = _global_command(text)
        if command is not None:
            return self._command(turn, command)
        choice = match_choice(text, screen.choices)
        return STEPS[turn.state][1](turn, choice, text)

    def _command(self, turn: Turn, command: str) -> Decision:
        """Words that work on every step, so nobody is ever stuck."""
        if command == "help":
            return Stay((texts.HELP,))
        if command == "delete":
            return Move(State.CONFIRM_DELETE)
        if turn.state in _PROFILE_STATES:
            # The profile is three short questions; finish it before anything else.
            return Stay()
        greeting = (texts.WELCOME_BACK,) if command == "start" else ()
        return Move(State.MENU, before=greeting)

    def _realise(self, turn: Turn, decision: Decision) -> Outcome:
        """Turn a decision into replies and the changes to write."""
        if isinstance(decision, Outcome):
            return decision
        if isinstance(decision, Stay):
            screen = self._screen(turn)
            return Outcome([*map(Reply, decision.before), *screen.replies()])
        learner = turn.learner
        passed = {e.lesson_id for e in decision.events if e.kind is EventKind.QUIZ_PASSED}
        attempts = dict(learner.quiz_attempts)
        for event in decision.events:
            if event.kind is EventKind.QUIZ_STARTED:
                attempts[event.lesson_id] = attempts.get(event.lesson_id, 0) + 1
        after = dataclasses.replace(
            learner,
            state=decision.state.value,
            data=dict(decision.data),
            profile=decision.profile or learner.profile,
            completed_lessons=learner.completed_lessons | passed,
            quiz_attempts=attempts,
        )
        screen = self._screen(Turn(turn.world, after))
        changes = Changes(
            state=decision.state.value,
            data=dict(decision.data),
            profile=decision.profile,
            events=decision.events,
            answers=decision.answers,
        )
        return Outcome([*map(Reply, decision.before), *screen.replies()], changes)

    def _screen(self, turn: Turn) -> Screen:
        return STEPS[turn.state][0](turn)

    def _world(self) -> World:
        return World(self._content, self._commune, self._assistant, self._today())


def _global_command(text: str) -> str | None:
    folded = fold(text)
    if folded in texts.MENU_WORDS:
        return "start" if folded == "start" else "menu"
    if folded in texts.HELP_WORDS:
        return "help"
    if folded in texts.DELETE_WORDS:
        return "delete"
    return None


def _resolve(incoming: Incoming, choices: tuple[Choice, ...], version: int) -> Choice | None:
    """The choice a pressed button or typed text picks on the current step, if any."""
    if incoming.button is not None:
        stamp, _, local = incoming.button.partition(":")
        if stamp != str(version):
            return None
        return next((c for c in choices if c.id == local), None)
    return match_choice(incoming.text or "", choices)


def _stamp(replies: list[Reply], version: int) -> list[Reply]:
    """Prefix button ids with the conversation version, so old buttons are recognised."""
    return [
        dataclasses.replace(
            r, buttons=tuple(Button(f"{version}:{b.id}", b.label) for b in r.buttons)
        )
        for r in replies
    ]


def _clip(incoming: Incoming) -> Incoming:
    """Bound what one message can cost: long texts are cut, long button ids are garbage."""
    text = incoming.text[:MAX_TEXT] if incoming.text is not None else None
    button = incoming.button if incoming.button is None or len(incoming.button) <= 64 else "x"
    return dataclasses.replace(incoming, text=text, button=button)
