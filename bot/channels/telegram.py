"""Telegram: a thin python-telegram-bot adapter between updates and the engine.

One handler for messages and commands, one for button presses; no ConversationHandler and
no state in process memory (the engine keeps it in the database). Updates reach the
handlers from the durable inbox (see `bot.channels.inbox`), whether they came by webhook or
by long polling, so `dispatch` lets a handler's failure propagate and the inbox retries.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.error import BadRequest
from telegram.ext import (
    AIORateLimiter,
    Application,
    BaseHandler,
    CallbackContext,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.channels import qr
from bot.channels.split import split_text
from bot.channels.telegram_http import AiohttpRequest
from bot.engine import Engine, Incoming, Reply
from bot.engine.messages import qr_text

log = logging.getLogger(__name__)

CHANNEL = "telegram"
TEXT_LIMIT = 4096
COMMANDS = (
    BotCommand("start", "Bắt đầu học"),
    BotCommand("menu", "Về trang chính"),
    BotCommand("help", "Cách dùng trợ lý"),
    BotCommand("xoadulieu", "Xóa dữ liệu của tôi"),
)
ALLOWED_UPDATES = ["message", "callback_query"]
# Bot API calls in flight at once: 100 updates/s x 3 calls x ~0.1 s to Telegram is ~30.
BOT_API_CONNECTIONS = 32
# Draws a picture the service makes itself, by a reply's image reference; None: not its kind.
Pictures = Callable[[str], bytes | None]


def chat_of(payload: dict[str, Any]) -> str:
    """The chat an update belongs to, so the inbox keeps each chat's updates in order."""
    if "message" in payload:
        return str(payload["message"]["chat"]["id"])
    query = payload["callback_query"]
    message = query.get("message")
    return str(message["chat"]["id"] if message else query["from"]["id"])


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """One big button per row: easier to read and to press on a small screen."""
    if not reply.buttons:
        return None
    rows = [[InlineKeyboardButton(b.label, callback_data=b.id)] for b in reply.buttons]
    return InlineKeyboardMarkup(rows)


class TelegramChannel:
    """Residents learning in Telegram: updates in, engine, replies out."""

    def __init__(
        self,
        engine: Engine,
        token: str,
        api_base: str,
        *,
        content_dir: Path = Path("."),
        max_retries: int = 3,
        pictures: Pictures | None = None,
        max_rate: float = 30.0,
    ) -> None:
        self._engine = engine
        self._content_dir = content_dir
        # Pictures the service draws itself (a certificate), by the reply's image reference.
        self._pictures = pictures
        self.application: Application[Any, Any, Any, Any, Any, Any] = (
            Application.builder()
            .token(token)
            .base_url(api_base)
            .updater(None)
            .request(AiohttpRequest(BOT_API_CONNECTIONS))
            .get_updates_request(AiohttpRequest(1))
            .rate_limiter(AIORateLimiter(overall_max_rate=max_rate, max_retries=max_retries))
            .build()
        )
        self._handlers: list[BaseHandler[Update, Any, None]] = [
            CallbackQueryHandler(self.on_button),
            MessageHandler(filters.ALL, self.on_message),
        ]

    @property
    def bot(self) -> Any:
        """The python-telegram-bot `Bot` (with its rate limiter)."""
        return self.application.bot

    async def start(self) -> None:
        """Connect (getMe) and register the commands residents see in the menu."""
        await self.application.initialize()
        await self.bot.set_my_commands(list(COMMANDS))

    async def stop(self) -> None:
        """Close connections."""
        await self.application.shutdown()

    async def dispatch(self, payload: dict[str, Any]) -> None:
        """Run the matching handler on one raw update; errors propagate so the inbox retries."""
        try:
            update = Update.de_json(payload, self.bot)
        except (TypeError, KeyError, ValueError, AttributeError):
            # Malformed: retrying cannot help, and nothing in it can be answered.
            log.warning("telegram: dropping an update python-telegram-bot cannot read")
            return
        for handler in self._handlers:
            check = handler.check_update(update)
            if check is not None and check is not False:
                context = CallbackContext.from_update(update, self.application)
                await handler.handle_update(update, self.application, check, context)
                return
        log.info("telegram: ignoring an update with nothing to handle")

    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A typed message or command (stickers and photos arrive as empty text)."""
        message = update.effective_message
        chat = update.effective_chat
        if message is None or chat is None:
            return
        user = update.effective_user
        incoming = Incoming(
            CHANNEL,
            str(chat.id),
            str(user.id) if user else None,
            text=message.text or message.caption or "",
            update_id=str(update.update_id),
        )
        response = await asyncio.to_thread(self._engine.respond, incoming)
        await self.send(chat.id, response.replies)

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A pressed inline button: answer the query, mark the choice, send the replies."""
        query = update.callback_query
        if query is None:
            return
        await _answer(query)
        message = query.message if isinstance(query.message, Message) else None
        chat_id = message.chat.id if message else query.from_user.id
        incoming = Incoming(
            CHANNEL,
            str(chat_id),
            str(query.from_user.id),
            button=query.data or "",
            update_id=str(update.update_id),
        )
        response = await asyncio.to_thread(self._engine.respond, incoming)
        if message is not None:
            await _close_keyboard(message, query.data or "", response.button_accepted)
        await self.send(chat_id, response.replies)

    async def send(self, chat_id: int, replies: list[Reply]) -> None:
        """Render replies: text split at 4096 characters, buttons under the last piece."""
        for reply in replies:
            if reply.image:
                await self._send_image(chat_id, reply.image)
            pieces = split_text(reply.text, TEXT_LIMIT)
            for piece in pieces[:-1]:
                await self.bot.send_message(chat_id, piece)
            await self.bot.send_message(chat_id, pieces[-1], reply_markup=keyboard(reply))

    async def _send_image(self, chat_id: int, image: str) -> None:
        """A card's picture: a URL as is, a content file or a generated QR code uploaded."""
        if self._pictures is not None:
            drawn = await asyncio.to_thread(self._pictures, image)
            if drawn is not None:
                await self.bot.send_photo(chat_id, drawn, filename="giay-chung-nhan.png")
                return
        encoded = qr_text(image)
        if encoded is not None:
            await self.bot.send_photo(chat_id, qr.png(encoded), filename="qr.png")
            return
        if image.startswith(("http://", "https://")):
            await self.bot.send_photo(chat_id, image)
            return
        path = self._content_dir / image
        if path.is_file():
            await self.bot.send_photo(chat_id, path.read_bytes())


async def _answer(query: Any) -> None:
    """Every press is answered, so the learner's button stops spinning."""
    try:
        await query.answer()
    except BadRequest:
        # Already answered (a retry from the inbox) or too old: nothing more to do.
        log.info("telegram: callback query could not be answered (too old or answered)")


async def _close_keyboard(message: Message, data: str, accepted: bool) -> None:
    """Show what was chosen and drop the keyboard, so old buttons cannot be pressed again."""
    markup = message.reply_markup
    label = None
    if markup is not None:
        for row in markup.inline_keyboard:
            for button in row:
                if button.callback_data == data:
                    label = button.text
    try:
        text = message.text or ""
        if accepted and label and text and len(text) + len(label) + 4 <= TEXT_LIMIT:
            await message.edit_text(f"{text}\n\n👉 {label}", reply_markup=None)
        elif markup is not None:
            await message.edit_reply_markup(reply_markup=None)
    except BadRequest:
        # Too old to edit, or already edited by an earlier try: the reply still goes out.
        log.info("telegram: could not edit the pressed message")
