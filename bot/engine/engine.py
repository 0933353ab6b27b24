"""The conversation engine: one learner's message in, the bot's replies out.

Channel-free and synchronous: adapters call `Engine.handle` (async ones in a worker thread).
Every step is read, decided and written with optimistic locking on the conversation's
version, so two workers handling the same learner can never both apply one step.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
from collections.abc import Callable, Mapping

from bot.commune import Commune
from bot.content import Content
from bot.engine import consent, learning, menu, profile, texts
from bot.engine.choices import Choice, match_choice
from bot.engine.flow import Assistant, Decision, Move, Outcome, Screen, Stay, Turn, World
from bot.engine.messages import Button, Incoming, Reply, Response
from bot.engine.ports import Repository
from bot.engine.states import State
from bot.textnorm import fold
from storage.records import Changes, Consent, EventKind, LearnerSnapshot

log = logging.getLogger(__name__)

MAX_TEXT = 2000
_ATTEMPTS = 4
# Telegram deep links: `/start <payload>`, payload up to 64 of A-Z a-z 0-9 _ -.
_START = re.compile(r"^/start(?:@\w+)?\s+([A-Za-z0-9_-]{1,64})\s*$")
_BOT_SUFFIX = re.compile(r"^(/\w+)@\w+")
_AGREE_WITH_PAYLOAD = "0:ok."

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
        return self.respond(incoming).replies

    def respond(self, incoming: Incoming) -> Response:
        """Answer one message, also saying whether a pressed button was taken."""
        incoming = _clip(incoming)
        for _ in range(_ATTEMPTS):
            learner = self._repo.load(incoming.key)
            if learner is None:
                response = self._first_contact(incoming)
            elif incoming.update_id and self._repo.is_applied(incoming.key, incoming.update_id):
                # A redelivered update whose step is already written: show where they are.
                screen = self._screen(Turn(self._world(), learner))
                response = Response(_stamp(screen.replies(), learner.version))
            else:
                response = self._step(learner, incoming)
            if response is not None:
                return response
            log.info("conversation moved on under us; retrying the step")
        return Response([Reply(texts.BUSY)])

    # -- before consent: nothing is stored -------------------------------------------------

    def _first_contact(self, incoming: Incoming) -> Response | None:
        """Show the privacy notice; enrol the learner only when they agree."""
        payload = _start_payload(incoming.text)
        agreed_payload = _agreed_payload(incoming.button)
        choice = _resolve(incoming, consent.notice_screen().choices, version=0)
        if choice is consent.AGREE or agreed_payload is not None:
            agreed = Consent(self._privacy_version, "self")
            created = self._repo.enrol(
                incoming.key,
                agreed,
                State.PROFILE_GROUP,
                {},
                update_id=incoming.update_id,
                start_payload=agreed_payload or None,
            )
            if created is None:
                return None
            screen = self._screen(Turn(self._world(), created))
            replies = [Reply(texts.CONSENT_THANKS), *screen.replies()]
            return Response(_stamp(replies, created.version), incoming.button is not None)
        if choice is consent.DECLINE:
            screen = consent.declined_screen()
        elif choice is consent.MORE:
            screen = consent.details_screen()
        elif incoming.button is not None:
            screen = consent.notice_screen(texts.STALE_BUTTON)
        else:
            # Nothing may be stored before consent, so a deep-link payload rides on the
            # "Đồng ý" button itself until the learner presses it.
            screen = consent.notice_screen(payload=payload)
        accepted = incoming.button is not None and choice is not None
        return Response(_stamp(screen.replies(), 0), accepted)

    # -- after consent ---------------------------------------------------------------------

    def _step(self, learner: LearnerSnapshot, incoming: Incoming) -> Response | None:
        """Decide one step for an enrolled learner and write it atomically."""
        turn = Turn(self._world(), learner)
        accepted = False
        try:
            screen = self._screen(turn)
            pressed = None
            if incoming.button is not None:
                pressed = _resolve(incoming, screen.choices, learner.version)
                accepted = pressed is not None
            decision = self._decide(turn, incoming, screen, pressed)
            outcome = self._realise(turn, decision)
        except learning.ContentGone:
            # The lesson was edited away under the learner: back to the menu, nothing lost.
            outcome = self._realise(turn, Move(State.MENU, before=(texts.UNKNOWN,)))
        if outcome.delete:
            self._repo.delete_learner(learner.learner_id)
            return Response(outcome.replies, accepted)
        if outcome.changes is None:
            return Response(_stamp(outcome.replies, learner.version), accepted)
        changes = dataclasses.replace(outcome.changes, update_id=incoming.update_id)
        if not self._repo.apply(learner.learner_id, learner.version, changes):
            return None
        return Response(_stamp(outcome.replies, learner.version + 1), accepted)

    def _decide(
        self, turn: Turn, incoming: Incoming, screen: Screen, pressed: Choice | None
    ) -> Decision:
        """A pressed button, else global words (menu, help, delete), then the step's handler."""
        if incoming.button is not None:
            if pressed is None:
                return Stay((texts.STALE_BUTTON,))
            return STEPS[turn.state][1](turn, pressed, None)
        text = incoming.text or ""
        if not fold(text):
            return Stay((texts.EMPTY,))
        payload = _start_payload(text)
        if payload is not None:
            return self._deep_link(turn, payload)
        command = _global_command(text)
        if command is not None and not learning.is_typed_answer(turn, text):
            return self._command(turn, command)
        choice = match_choice(text, screen.choices)
        return STEPS[turn.state][1](turn, choice, text)

    def _deep_link(self, turn: Turn, payload: str) -> Decision:
        """`/start <payload>` from an enrolled learner: record it, then carry on as /start."""
        if turn.state in _PROFILE_STATES:
            return Move(turn.state, turn.data, start_payload=payload)
        return Move(State.MENU, before=(texts.WELCOME_BACK,), start_payload=payload)

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
            start_payload=decision.start_payload,
            asked=decision.asked,
        )
        return Outcome([*map(Reply, decision.before), *screen.replies()], changes)

    def _screen(self, turn: Turn) -> Screen:
        return STEPS[turn.state][0](turn)

    def _world(self) -> World:
        return World(self._content, self._commune, self._assistant, self._today())


def _start_payload(text: str | None) -> str | None:
    """The payload of a `/start <payload>` deep link, if the text is one."""
    found = _START.match(text or "")
    return found.group(1) if found else None


def _agreed_payload(button: str | None) -> str | None:
    """The payload carried by a "Đồng ý" button shown after a deep link, if valid."""
    if button is None or not button.startswith(_AGREE_WITH_PAYLOAD):
        return None
    payload = button.removeprefix(_AGREE_WITH_PAYLOAD)
    return payload if re.fullmatch(r"[A-Za-z0-9_-]{1,64}", payload) else None


def _global_command(text: str) -> str | None:
    folded = fold(_BOT_SUFFIX.sub(r"\1", text.strip()))
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
