"""The floor for bench/conversation.py: a bare python-telegram-bot echo bot behind FastAPI.

Modelled on python-telegram-bot's `examples/customwebhookbot/`: the web app puts each
webhook update on the Application's `update_queue`, and the Application runs an echo
`MessageHandler` and a `CallbackQueryHandler`. It is served the way `hocvuso serve` serves
(FastAPI under `uvicorn.run`, `log_config=None`), on the same route with the same secret
check, and it answers through the same Bot API, but keeps nothing: no inbox, no engine, no
database, no rate limiter. Updates run concurrently (`concurrent_updates(True)`), as chats
do in hocvuso's inbox worker, so the floor is the fastest a PTB bot on this stack can be.

.venv/bin/python bench/echo_floor.py --port 8100   # settings from FLOOR_* variables
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI, HTTPException, Request
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.channels.webhooks import secret_matches  # noqa: E402
from hocvuso.app import TELEGRAM_SECRET_HEADER  # noqa: E402
from hocvuso.lifecycle import TELEGRAM_WEBHOOK_PATH  # noqa: E402

# Every answer ends with a keyboard, as hocvuso's do, so the driver knows it is complete.
KEYBOARD = InlineKeyboardMarkup([[InlineKeyboardButton("Tiếp", callback_data="next")]])


async def echo_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Say the message back, with one button."""
    if update.effective_message is not None:
        text = update.effective_message.text or "?"
        await update.effective_message.reply_text(text, reply_markup=KEYBOARD)


async def echo_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer the press, then say its data back, with one button."""
    query = update.callback_query
    if query is None or update.effective_chat is None:
        return
    await query.answer()
    await context.bot.send_message(
        update.effective_chat.id, query.data or "?", reply_markup=KEYBOARD
    )


def build_app(token: str, api_base: str, secret: str) -> FastAPI:
    """The web app and its PTB Application, started and stopped with the app."""
    application = (
        Application.builder()
        .token(token)
        .base_url(api_base)
        .updater(None)
        .concurrent_updates(True)
        .build()
    )
    application.add_handler(CallbackQueryHandler(echo_button))
    application.add_handler(MessageHandler(filters.ALL, echo_text))

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with application:
            await application.start()
            yield
            await application.stop()

    app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/api/v1/health")
    async def health() -> dict[str, str]:
        """Up, for the benchmark's start-up wait."""
        return {"status": "ok"}

    @app.post(TELEGRAM_WEBHOOK_PATH)
    async def receive(request: Request) -> dict[str, bool]:
        """One update from the platform, onto the Application's queue."""
        if not secret_matches(request.headers.get(TELEGRAM_SECRET_HEADER), secret):
            raise HTTPException(status_code=403, detail="forbidden")
        try:
            raw: Any = json.loads(await request.body())
        except ValueError:
            raise HTTPException(status_code=400, detail="body is not JSON") from None
        await application.update_queue.put(Update.de_json(raw, application.bot))
        return {"ok": True}

    return app


def main() -> int:
    """Serve the echo bot until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    args = parser.parse_args()
    app = build_app(
        os.environ["FLOOR_TOKEN"], os.environ["FLOOR_API_BASE"], os.environ["FLOOR_SECRET"]
    )
    uvicorn.run(app, host=args.host, port=args.port, log_config=None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
