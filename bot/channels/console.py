"""The same conversation in a terminal, for content authors and offline demos."""

from __future__ import annotations

import getpass
from collections.abc import Iterable
from typing import TextIO

from bot.engine import Engine, Incoming, Reply

CHANNEL = "console"
_QUIT = {"/quit", "/thoat", "thoat", "thoát"}


def render(replies: Iterable[Reply]) -> str:
    """Replies as plain text, with choices numbered the way a learner types them."""
    blocks = []
    for reply in replies:
        lines = [reply.text]
        if reply.image:
            lines.append(f"[hình: {reply.image}]")
        lines += [f"  {i}. {button.label}" for i, button in enumerate(reply.buttons, 1)]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def run(engine: Engine, source: TextIO, sink: TextIO, chat_id: str | None = None) -> None:
    """Chat line by line until end of input or /quit."""
    chat = chat_id or getpass.getuser()
    sink.write(render(engine.handle(Incoming(CHANNEL, chat, chat, text="/start"))) + "\n")
    sink.write("(Gõ số hoặc chữ rồi Enter. Gõ /quit để thoát.)\n")
    while True:
        sink.write("> ")
        sink.flush()
        line = source.readline()
        if not line or line.strip().lower() in _QUIT:
            sink.write("\nTạm biệt! 👋\n")
            return
        replies = engine.handle(Incoming(CHANNEL, chat, chat, text=line.rstrip("\n")))
        sink.write(render(replies) + "\n")
