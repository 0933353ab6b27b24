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
from bot.engine import (
    consent,
    learning,
    menu,
    profile,
    referral,
    reminders,
    review,
    texts,
    volunteer,
)
from bot.engine.choices import Choice, match_choice
from bot.engine.flow import Assistant, Decision, Move, Outcome, Screen, Stay, Turn, World
from bot.engine.messages import Button, Incoming, Reply, Response
from bot.engine.ports import Repository
from bot.engine.states import State
from bot.engine.volunteer import LEAVE, LEAVE_WORDS
from bot.textnorm import fold
from storage.codes import ASSISTED_CHANNEL, invite_code_of
from storage.records import (
    Changes,
    Consent,
    EventKind,
    LearnerKey,
    LearnerSnapshot,
    ResidentSummary,
    VolunteerInfo,
    VolunteerJoin,
)

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
    State.HELP: (menu.help_screen, menu.handle_help),
    State.REVIEW_OFFER: (review.offer_screen, review.handle_offer),
    State.REVIEW: (review.review_screen, review.handle_review),
    State.REVIEW_RESULT: (review.review_result_screen, review.handle_review_result),
    State.VOLUNTEER: (volunteer.tools_screen, volunteer.handle_tools),
    State.ASSIST_NAME: (volunteer.name_screen, volunteer.handle_name),
    State.ASSIST_GROUP: (volunteer.assist_group_screen, volunteer.handle_assist_group),
    State.ASSIST_HAMLET: (volunteer.assist_hamlet_screen, volunteer.handle_assist_hamlet),
    State.ASSIST_BIRTH_YEAR: (
        volunteer.assist_birth_year_screen,
        volunteer.handle_assist_birth_year,
    ),
    State.ASSIST_CONSENT: (volunteer.assist_consent_screen, volunteer.handle_assist_consent),
    State.RESIDENTS: (volunteer.residents_screen, volunteer.handle_residents),
    State.RESIDENT: (volunteer.resident_screen, volunteer.handle_resident),
    State.CHECKS: (volunteer.checks_screen, volunteer.handle_checks),
    State.ASSISTING: (volunteer.assisting_screen, volunteer.handle_assisting),
}
_PROFILE_STATES = {State.PROFILE_GROUP, State.PROFILE_HAMLET, State.PROFILE_BIRTH_YEAR}
# "học tiếp" (what a reminder tells learners to type) where no choice on screen says it:
# mid-lesson it shows where they stopped; from these steps it starts the next lesson.
_CONTINUE_HERE = {State.LESSON, State.QUIZ}
_CONTINUE_NEXT = {State.MENU, State.SKILLS, State.SKILL_LESSONS, State.ASK, State.RESULT}


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
        public_url: str | None = None,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        bot_username: str | None = None,
    ) -> None:
        self._repo = repository
        self._content = content
        self._commune = commune
        self._assistant = assistant
        self._privacy_version = privacy_version
        self._today = today
        self._now = now
        self._public_url = public_url.rstrip("/") if public_url else None
        self._bot_username = bot_username

    def handle(self, incoming: Incoming) -> list[Reply]:
        """Answer one message; always returns at least one reply, never raises for bad input."""
        return self.respond(incoming).replies

    def respond(self, incoming: Incoming) -> Response:
        """Answer one message, also saying whether a pressed button was taken."""
        incoming = _clip(incoming)
        for _ in range(_ATTEMPTS):
            learner = self._repo.load(incoming.key, incoming.update_id)
            if learner is None:
                response = self._first_contact(incoming)
            elif learner.state == State.ASSISTING and not _leaves(learner, incoming):
                response = self._assist(learner, incoming)
            elif learner.update_applied:
                # A redelivered update whose step is already written: show where they are.
                # Only a taken button writes a step, so a pressed one was accepted.
                screen = self._screen(Turn(self._world(), learner))
                accepted = incoming.button is not None
                response = Response(_stamp(screen.replies(), learner.version), accepted)
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
        notes: list[str] = []
        if choice is None and incoming.button is None:
            # "đồng ý K7QMPA": agreeing and bringing a referral code in one typed message.
            typed = referral.agreement_with_code(
                incoming.text, consent.notice_screen().choices, consent.AGREE
            )
            if typed is not None and self._known_or_explicit(typed):
                agreed_payload = referral.payload(typed.code)
        if choice is consent.AGREE or agreed_payload is not None:
            code = referral.code_of_payload(agreed_payload)
            referrer = self._repo.find_referrer(code) if code else None
            if code and referrer is None and incoming.button is None:
                notes.append(texts.REFERRAL_UNKNOWN.format(code=code))
            agreed = Consent(self._privacy_version, "self")
            created = self._repo.enrol(
                incoming.key,
                agreed,
                State.PROFILE_GROUP,
                {},
                update_id=incoming.update_id,
                start_payload=agreed_payload or None,
                referred_by=referrer,
            )
            if created is None:
                return None
            if created.referred_by is not None:
                notes.append(texts.REFERRAL_THANKS)
            screen = self._screen(Turn(self._world(), created))
            replies = [Reply(texts.CONSENT_THANKS), *map(Reply, notes), *screen.replies()]
            return Response(_stamp(replies, created.version), incoming.button is not None)
        if choice is consent.DECLINE:
            screen = consent.declined_screen()
        elif choice is consent.MORE:
            screen = consent.details_screen()
        elif incoming.button is not None:
            screen = consent.notice_screen(texts.STALE_BUTTON)
        else:
            # Nothing may be stored before consent, so a deep-link payload (or a typed
            # referral code, as `ref-<code>`) rides on the "Đồng ý" button until it is pressed.
            lead, carried = self._referral_before_consent(incoming.text, payload)
            screen = consent.notice_screen(lead, payload=carried)
        accepted = incoming.button is not None and choice is not None
        return Response(_stamp(screen.replies(), 0), accepted)

    def _referral_before_consent(
        self, text: str | None, payload: str | None
    ) -> tuple[str | None, str | None]:
        """A note about the referral code a newcomer brought, and the payload to carry."""
        if payload is not None:
            code = referral.code_of_payload(payload)
            if code is None:
                return None, payload
            explicit = True
        else:
            typed = referral.typed_code(text)
            if typed is None:
                return None, None
            code, explicit = typed.code, typed.explicit
        if self._repo.find_referrer(code) is not None:
            return texts.REFERRAL_BEFORE_CONSENT.format(code=code), referral.payload(code)
        if explicit:
            return texts.REFERRAL_UNKNOWN.format(code=code), payload
        # A bare word that is no known code is just a first message.
        return None, None

    def _known_or_explicit(self, typed: referral.TypedCode) -> bool:
        """A typed code counts if introduced as one ("ref ...") or if it is a known code."""
        return typed.explicit or self._repo.find_referrer(typed.code) is not None

    def _typed_referral(self, turn: Turn, text: str) -> Decision | None:
        """A referral code typed by an enrolled learner (Zalo cannot open deep links)."""
        typed = referral.typed_code(text)
        if typed is None:
            return None
        if learning.is_typed_answer(turn, text) or review.is_typed_answer(turn, text):
            return None
        if not typed.explicit and turn.state not in referral.BARE_CODE_STATES:
            return None
        referrer = self._repo.find_referrer(typed.code)
        if referrer is None and not typed.explicit:
            return None
        notes, referred_by = referral.outcome(turn.learner, typed.code, referrer)
        if referred_by is None:
            return Stay(notes)
        return Move(turn.state, turn.data, before=notes, referred_by=referred_by)

    # -- after consent ---------------------------------------------------------------------

    def _assist(self, helper: LearnerSnapshot, incoming: Incoming) -> Response | None:
        """A volunteer learning with a resident: run the step on the resident's conversation."""
        token = str(helper.data.get("token", ""))
        name = str(helper.data.get("name", ""))
        # Update ids are unique per platform, and residents share one channel: qualify them.
        update_id = incoming.update_id and f"{incoming.key.channel}:{incoming.update_id}"
        key = LearnerKey(ASSISTED_CHANNEL, token)
        resident = self._repo.load(key, update_id or None) if token else None
        if resident is None:
            # The profile was deleted (at the resident's request): back to the volunteer menu.
            return self._back_to_volunteer(helper, texts.ASSIST_GONE)
        routed = dataclasses.replace(incoming, update_id=update_id or None)
        if resident.update_applied:
            screen = self._screen(Turn(self._world(), resident))
            response = Response(_stamp(screen.replies(), resident.version))
        else:
            stepped = self._step(resident, routed, helper=helper.learner_id)
            if stepped is None:
                return None
            response = stepped
        if self._repo.load(resident.key) is None:
            # Deleted in this step: the volunteer is no longer learning with anyone.
            back = self._back_to_volunteer(helper, texts.ASSIST_DELETED.format(name=name))
            return Response([*response.replies[:1], *(back.replies if back else [])])
        return Response(
            _with_helper(response.replies, name, helper.version), response.button_accepted
        )

    def _back_to_volunteer(self, helper: LearnerSnapshot, note: str) -> Response | None:
        """End learning-with: the volunteer's own menu, with a note."""
        turn = Turn(self._world(), helper, self._residents(helper))
        outcome = self._realise(turn, Move(State.VOLUNTEER, before=(note,)))
        assert outcome.changes is not None
        if not self._repo.apply(helper.learner_id, helper.version, outcome.changes):
            return None
        return Response(_stamp(outcome.replies, helper.version + 1))

    def _step(
        self, learner: LearnerSnapshot, incoming: Incoming, helper: int | None = None
    ) -> Response | None:
        """Decide one step for an enrolled learner and write it atomically."""
        turn = Turn(self._world(), learner, self._residents(learner))
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
        changes = dataclasses.replace(
            outcome.changes, update_id=incoming.update_id, helper_id=helper
        )
        if not self._repo.apply(learner.learner_id, learner.version, changes):
            return None
        replies = _stamp(outcome.replies, learner.version + 1)
        if changes.state == State.ASSISTING and helper is None:
            # Straight into the resident's conversation, where the volunteer will type.
            resident = self._repo.load(LearnerKey(ASSISTED_CHANNEL, str(changes.data["token"])))
            if resident is not None:
                screen = self._screen(Turn(self._world(), resident))
                name = str(changes.data.get("name", ""))
                before = [r for r in replies[:-1]]
                replies = before + _with_helper(
                    _stamp(screen.replies(), resident.version), name, learner.version + 1
                )
        return Response(replies, accepted)

    def _residents(self, learner: LearnerSnapshot) -> tuple[ResidentSummary, ...]:
        """The residents a volunteer helps (nobody else needs the query)."""
        if learner.volunteer is None:
            return ()
        return tuple(self._repo.residents_of(learner.learner_id))

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
        invite = invite_code_of(text)
        if invite is not None and turn.state not in _PROFILE_STATES:
            return self._join(turn, invite)
        referred = self._typed_referral(turn, text)
        if referred is not None:
            return referred
        command = _global_command(text)
        typed_answer = learning.is_typed_answer(turn, text) or review.is_typed_answer(turn, text)
        if command is not None and not typed_answer:
            return self._command(turn, command)
        if not typed_answer and _continues(turn, text, screen):
            if turn.state in _CONTINUE_HERE:
                return Stay((texts.CONTINUE_HERE,))
            return menu.handle_menu(turn, menu.NEXT, None)
        choice = match_choice(text, screen.choices)
        return STEPS[turn.state][1](turn, choice, text)

    def _join(self, turn: Turn, code: str) -> Decision:
        """An invite code typed by a learner: they become a volunteer of its organisation."""
        if turn.learner.volunteer is not None:
            return Stay((texts.VOLUNTEER_ALREADY.format(org=turn.learner.volunteer.org),))
        invite = self._repo.find_invite(code)
        if invite is None:
            return Stay((texts.INVITE_UNKNOWN,))
        return Move(
            State.VOLUNTEER,
            before=(texts.VOLUNTEER_WELCOME.format(org=invite.org),),
            volunteer_join=VolunteerJoin(invite.invite_id, invite.org),
        )

    def _deep_link(self, turn: Turn, payload: str) -> Decision:
        """`/start <payload>` from an enrolled learner: record it, then carry on as /start."""
        notes: tuple[str, ...] = ()
        referred_by = None
        code = referral.code_of_payload(payload)
        if code is not None:
            found = self._repo.find_referrer(code)
            notes, referred_by = referral.outcome(turn.learner, code, found)
        if turn.state in _PROFILE_STATES:
            return Move(
                turn.state, turn.data, before=notes, start_payload=payload, referred_by=referred_by
            )
        return Move(
            State.MENU,
            before=(texts.WELCOME_BACK, *notes),
            start_payload=payload,
            referred_by=referred_by,
        )

    def _command(self, turn: Turn, command: str) -> Decision:
        """Words that work on every step, so nobody is ever stuck."""
        if command == "help":
            return Stay((texts.HELP,))
        if command == "delete":
            return Move(State.CONFIRM_DELETE)
        if command == "stop_reminders":
            return reminders.stop(turn)
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
        # Every wrong quiz answer comes back for review tomorrow, whichever step records it;
        # questions edited out of the content leave the schedule with the learner's next step.
        reviews = (
            *review.vanished(turn),
            *decision.reviews,
            *review.for_wrong_answers(decision.answers, turn.world.today),
        )
        after = dataclasses.replace(
            learner,
            state=decision.state.value,
            data=dict(decision.data),
            profile=decision.profile or learner.profile,
            completed_lessons=learner.completed_lessons | passed,
            quiz_attempts=attempts,
            reviews=review.updated(learner.reviews, reviews),
            certificate_code=(
                decision.certificate.code if decision.certificate else learner.certificate_code
            ),
            reminder_at=(decision.reminder.next_at if decision.reminder else learner.reminder_at),
        )
        if decision.volunteer_join is not None:
            # Shown the volunteer menu at once; the referral code is made on writing.
            joined = VolunteerInfo(decision.volunteer_join.org, "")
            after = dataclasses.replace(after, volunteer=joined)
        residents = tuple(
            dataclasses.replace(
                resident,
                checks=resident.checks
                | {
                    c.check_id
                    for c in decision.check_signoffs
                    if c.learner_id == resident.learner_id
                },
            )
            for resident in turn.residents
        )
        screen = self._screen(dataclasses.replace(turn, learner=after, residents=residents))
        changes = Changes(
            state=decision.state.value,
            data=dict(decision.data),
            profile=decision.profile,
            events=decision.events,
            answers=decision.answers,
            start_payload=decision.start_payload,
            asked=decision.asked,
            reviews=reviews,
            volunteer_join=decision.volunteer_join,
            assisted_new=decision.assisted_new,
            check_signoffs=decision.check_signoffs,
            certificate=decision.certificate,
            reminder=decision.reminder,
            referred_by=decision.referred_by,
        )
        return Outcome([*map(Reply, decision.before), *screen.replies()], changes)

    def _screen(self, turn: Turn) -> Screen:
        return STEPS[turn.state][0](turn)

    def _world(self) -> World:
        return World(
            self._content,
            self._commune,
            self._assistant,
            self._today(),
            privacy_version=self._privacy_version,
            public_url=self._public_url,
            now=self._now(),
            bot_username=self._bot_username,
        )


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
    if folded in texts.STOP_REMINDER_WORDS:
        return "stop_reminders"
    return None


def _continues(turn: Turn, text: str, screen: Screen) -> bool:
    """Whether typed "học tiếp" should continue learning rather than pick a choice on screen."""
    typed = fold(text)
    if typed not in texts.CONTINUE_WORDS:
        return False
    if turn.state not in _CONTINUE_HERE | _CONTINUE_NEXT:
        return False
    return not any(typed in choice.names() for choice in screen.choices)


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


def _leaves(volunteer: LearnerSnapshot, incoming: Incoming) -> bool:
    """Whether a learning-with volunteer pressed or typed "back to my account"."""
    if incoming.button is not None:
        return incoming.button == f"{volunteer.version}:{LEAVE.id}"
    return fold(incoming.text or "") in LEAVE_WORDS


def _with_helper(replies: list[Reply], name: str, helper_version: int) -> list[Reply]:
    """Head the resident's replies with whom the volunteer learns with; add the way back."""
    if not replies:
        return replies
    header = f"{texts.ASSISTING.format(name=name)}\n\n"
    replies = [dataclasses.replace(replies[0], text=header + replies[0].text), *replies[1:]]
    back = Button(f"{helper_version}:{LEAVE.id}", LEAVE.label)
    replies[-1] = dataclasses.replace(replies[-1], buttons=(*replies[-1].buttons, back))
    return replies


def _clip(incoming: Incoming) -> Incoming:
    """Bound what one message can cost: long texts are cut, long button ids are garbage."""
    text = incoming.text[:MAX_TEXT] if incoming.text is not None else None
    button = incoming.button if incoming.button is None or len(incoming.button) <= 64 else "x"
    return dataclasses.replace(incoming, text=text, button=button)
