"""Dialog tests as tables: what the learner sends, and what the bot must answer.

In the spirit of Zulip bots' dialog tests. A step is `(Say("text") | Press("label"), expect)`
where `expect` is a fragment (or tuple of fragments) that must appear in the bot's replies.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from bot.assistant import Assistant
from bot.commune import load_commune
from bot.content import load_content
from bot.engine import Engine, Incoming, Reply, Repository

FIXTURES = Path(__file__).parent / "fixtures" / "dialog"
TODAY = dt.date(2026, 11, 23)


@dataclass(frozen=True)
class Say:
    """The learner types this text."""

    text: str


@dataclass(frozen=True)
class Press:
    """The learner presses the button with this label (from the latest replies)."""

    label: str


@dataclass(frozen=True)
class PressRaw:
    """A button id arrives as is: a stale, foreign or forged button."""

    button_id: str


def make_engine(repository: Repository, root: Path = FIXTURES) -> Engine:
    """An engine over the dialog fixtures, with a fixed date."""
    content = load_content(root)
    commune = load_commune(root / "commune.yaml")
    return Engine(repository, content, commune, Assistant(content), today=lambda: TODAY)


class Dialog:
    """One learner talking to an engine."""

    def __init__(self, engine: Engine, chat_id: str = "chat-1", channel: str = "test") -> None:
        self.engine = engine
        self.chat_id = chat_id
        self.channel = channel
        self.last: list[Reply] = []

    def send(self, step: Say | Press | PressRaw) -> list[Reply]:
        """Deliver one message and remember the replies."""
        if isinstance(step, Say):
            incoming = Incoming(self.channel, self.chat_id, self.chat_id, text=step.text)
        elif isinstance(step, PressRaw):
            incoming = Incoming(self.channel, self.chat_id, self.chat_id, button=step.button_id)
        else:
            incoming = Incoming(
                self.channel, self.chat_id, self.chat_id, button=self.button(step.label)
            )
        self.last = self.engine.handle(incoming)
        assert self.last, f"no reply to {step}"
        return self.last

    def button(self, label: str) -> str:
        """The id of the button whose label contains `label` in the latest replies."""
        found = [b for r in self.last for b in r.buttons if label in b.label]
        assert found, f"no button {label!r} in {self.labels()}"
        return found[0].id

    def labels(self) -> list[str]:
        """Labels of the buttons offered by the latest replies."""
        return [b.label for r in self.last for b in r.buttons]

    def text(self) -> str:
        """All text of the latest replies."""
        return "\n".join(r.text for r in self.last)


def play(
    dialog: Dialog, script: list[tuple[Say | Press | PressRaw, str | tuple[str, ...]]]
) -> None:
    """Run a script, checking each answer contains the expected fragments."""
    for number, (step, expect) in enumerate(script, 1):
        dialog.send(step)
        for fragment in (expect,) if isinstance(expect, str) else expect:
            assert fragment in dialog.text(), (
                f"step {number} {step}: expected {fragment!r} in:\n{dialog.text()}"
            )
