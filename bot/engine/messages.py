"""Channel-neutral messages: what a learner sent and what the bot answers."""

from __future__ import annotations

from dataclasses import dataclass

from storage.records import LearnerKey


@dataclass(frozen=True, slots=True)
class Button:
    """A choice offered to the learner: an opaque short id and the label shown."""

    id: str
    label: str


@dataclass(frozen=True, slots=True)
class Reply:
    """One message from the bot: text, optional picture, optional choices."""

    text: str
    buttons: tuple[Button, ...] = ()
    image: str | None = None


@dataclass(frozen=True, slots=True)
class Incoming:
    """One message from a learner: typed text or a pressed button, never both."""

    channel: str
    chat_id: str
    user_id: str | None = None
    text: str | None = None
    button: str | None = None
    update_id: str | None = None

    @property
    def key(self) -> LearnerKey:
        """The learner this message belongs to."""
        return LearnerKey(self.channel, self.chat_id)


@dataclass(frozen=True, slots=True)
class Response:
    """The engine's full answer: the replies, and whether a pressed button was taken."""

    replies: list[Reply]
    button_accepted: bool = False
