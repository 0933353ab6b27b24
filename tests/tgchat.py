"""A Telegram user talking to the bot through the fake Bot API server, as tests see it."""

from __future__ import annotations

from typing import Any

from fakes.telegram_api import FakeTelegram


class TelegramUser:
    """One resident in a private chat with the bot."""

    def __init__(self, fake: FakeTelegram, chat_id: int) -> None:
        self.fake = fake
        self.chat_id = chat_id

    def messages(self) -> list[dict[str, Any]]:
        """What the bot has sent in this chat, as it looks now."""
        return self.fake.sent(self.chat_id)

    def say(self, text: str, expect: str, timeout: float = 15.0) -> str:
        """Type a message; wait for a new bot message containing `expect`."""
        before = len(self.messages())
        self.fake.send_message(self.chat_id, text)
        return self._wait_new(before, expect, timeout)

    def press(self, label: str, expect: str, timeout: float = 15.0) -> str:
        """Press the button labelled `label` on the newest keyboard; wait for `expect`."""
        message, data = self.find_button(label)
        before = len(self.messages())
        self.fake.press_button(self.chat_id, message["message_id"], data)
        return self._wait_new(before, expect, timeout)

    def find_button(self, label: str) -> tuple[dict[str, Any], str]:
        """The newest message with a button whose label contains `label`, and its data."""
        for message in reversed(self.messages()):
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    if label in button["text"]:
                        return message, str(button["callback_data"])
        raise AssertionError(f"no button {label!r} in {self.messages()[-3:]}")

    def _wait_new(self, before: int, expect: str, timeout: float) -> str:
        """Wait until `expect` has arrived and the answer is complete.

        Every answer of the bot ends with a message carrying buttons, so "complete" means the
        newest message has a keyboard.
        """

        def arrived() -> bool:
            new = self.messages()[before:]
            return any(expect in (m.get("text") or "") for m in new) and bool(
                new[-1].get("reply_markup")
            )

        self.fake.wait_for(arrived, timeout=timeout, what=f"a reply containing {expect!r}")
        return "\n".join(m.get("text") or "" for m in self.messages()[before:])
