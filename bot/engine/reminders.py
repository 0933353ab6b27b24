"""Weekly reminders in the conversation: opting in from the menu, and "dừng nhắc".

Only channels that can send a message unasked (Telegram, Zalo) offer reminders; the web chat
and the terminal cannot reach a learner who has closed them. Turning reminders on or off is a
`Move` carrying a `ReminderChange`, so it is written in the step's own transaction.
"""

from __future__ import annotations

import datetime as dt

from bot.engine import texts
from bot.engine.choices import Choice
from bot.engine.flow import Decision, Move, Stay, Turn
from bot.reminder_schedule import local, next_reminder
from storage.records import ReminderChange

PUSH_CHANNELS = frozenset({"telegram", "zalo"})

REMIND_ON = Choice("m.remind", texts.BTN_REMIND_ON, texts.REMIND_WORDS)
REMIND_OFF = Choice("m.unremind", texts.BTN_REMIND_OFF, texts.STOP_REMINDER_WORDS)


def can_remind(turn: Turn) -> bool:
    """Whether the learner's channel can deliver a reminder they did not ask for just now."""
    return turn.learner.key.channel in PUSH_CHANNELS


def menu_choice(turn: Turn) -> tuple[Choice, ...]:
    """The menu entry: turn reminders on, or off when they are on; none on the web chat."""
    if not can_remind(turn):
        return ()
    return (REMIND_OFF,) if turn.learner.reminder_at is not None else (REMIND_ON,)


def when_text(at: dt.datetime) -> str:
    """A due time as a learner reads it: "thứ Hai, ngày 30/11 lúc 19:05" (Vietnam time)."""
    here = local(at)
    return texts.REMINDER_WHEN.format(
        weekday=texts.WEEKDAYS[here.weekday()],
        day=here.day,
        month=here.month,
        time=f"{here.hour:02d}:{here.minute:02d}",
    )


def opt_in(turn: Turn) -> Decision:
    """Turn weekly reminders on, the first one a week from now, and say when it comes."""
    if not can_remind(turn):
        return Stay((texts.UNKNOWN,))
    due = next_reminder(turn.world.now)
    before = (texts.REMINDER_ON.format(when=when_text(due)),)
    return Move(turn.state, turn.data, before=before, reminder=ReminderChange(due))


def stop(turn: Turn) -> Decision:
    """Turn reminders off and say so; the learner stays on the step they were on."""
    if turn.learner.reminder_at is None:
        return Stay((texts.REMINDER_ALREADY_OFF,))
    return Move(turn.state, turn.data, before=(texts.REMINDER_OFF,), reminder=ReminderChange(None))
