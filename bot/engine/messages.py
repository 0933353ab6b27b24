"""Channel-neutral messages: what a learner sent and what the bot answers."""

from __future__ import annotations

from dataclasses import dataclass

from storage.records import LearnerKey


@dataclass(frozen=True, slots=True)
class Button:
    """A choice offered to the learner: an opaque short id and the label shown."""

    id: str
    label: str


# A generated QR code as a reply's image: "qr:" and the text it encodes. Channels render it
# (a PNG upload on Telegram, an inline picture on the web); Zalo can only send pictures by
# URL, so it sends the encoded text instead. A reply with a QR code should say in its text
# what the code holds, for whoever cannot scan it.
QR_PREFIX = "qr:"


def qr_image(text: str) -> str:
    """The image reference of a QR code holding `text`."""
    return f"{QR_PREFIX}{text}"


def qr_text(image: str | None) -> str | None:
    """The text a `qr:` image reference holds, or None for any other image."""
    if image is None or not image.startswith(QR_PREFIX):
        return None
    return image.removeprefix(QR_PREFIX) or None


@dataclass(frozen=True, slots=True)
class Reply:
    """One message from the bot: text, optional picture, optional choices.

    `image` is a content file path, an https URL, or a generated QR code (`qr:<text>`).
    """

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
