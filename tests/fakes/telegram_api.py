"""A fake Telegram Bot API server for tests, as strict as the real platform where it matters.

`FakeTelegram` serves the Bot API (`/bot{token}/{method}`) and a test-control side
(`/_control/{action}`) with uvicorn on 127.0.0.1, in a background thread with its own event
loop. Tests play the residents (`send_message`, `press_button`) and inspect what the bot did
(`sent`, `calls`, `webhook`); the bot under test, in-process or a subprocess, talks Bot API to
`fake.base_url` (`f"{fake.url}/bot"`, what python-telegram-bot calls `base_url`).

Enforced like Telegram (sources: core.telegram.org/bots/api, tdlib/telegram-bot-api issues,
PROTOCOLS.md): text 1-4096 and captions 0-1024 UTF-16 code units after entity parsing
(HTML / MarkdownV2 / Markdown are parsed, with Telegram's "can't parse entities" errors),
callback_data 1-64 UTF-8 bytes, callback answers once and within `callback_answer_timeout`,
editMessageText without reply_markup removes the inline keyboard, "message is not modified",
an overall flood limit (429 with retry_after), getUpdates/webhook exclusivity (409), in-order
webhook delivery with retries, allowed_updates filtering, and bot commands syntax.
"""

from __future__ import annotations

import copy
import html
import json
import random
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from fakes.threaded import ThreadedFake

JSON = dict[str, Any]

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_ANSWER_TEXT = 200
FLOOD_METHODS = frozenset(
    {"sendmessage", "sendphoto", "sendvoice", "editmessagetext", "editmessagereplymarkup"}
)
CHAT_ACTIONS = frozenset(
    ("typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
     "upload_document", "choose_sticker", "find_location", "record_video_note",
     "upload_video_note")
)  # fmt: skip
UPDATE_TYPES_OFF_BY_DEFAULT = frozenset(
    {"chat_member", "message_reaction", "message_reaction_count"}
)
BUTTON_KINDS = frozenset(
    ("url", "callback_data", "web_app", "login_url", "switch_inline_query",
     "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
     "callback_game", "pay")
)  # fmt: skip
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
BAD_GATEWAY_HTML = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


class ApiError(Exception):
    """A Bot API error answer: HTTP status, description and optional `parameters`."""

    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.status, self.description, self.parameters = status, description, parameters


class ControlError(ValueError):
    """A test-control request that cannot be honoured (e.g. pressing a missing button)."""


def bad(description: str) -> ApiError:
    """A 400 error the way Telegram words it."""
    return ApiError(400, f"Bad Request: {description}")


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit Telegram counts text and entity offsets in."""
    return len(text.encode("utf-16-le")) // 2


# ---------------------------------------------------------------- formatted text


class _Builder:
    """Collects parsed text and its entities, with offsets in UTF-16 code units."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.entities: list[JSON] = []

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.length += utf16_len(text)

    def entity(self, kind: str, start: int, **extra: str) -> None:
        if self.length > start:
            self.entities.append({"type": kind, "offset": start, "length": self.length - start})
            self.entities[-1].update(extra)

    def result(self) -> tuple[str, list[JSON]]:
        ordered = sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.parts), ordered


def _entity_error(detail: str) -> ApiError:
    return bad(f"can't parse entities: {detail}")


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


_HTML_KINDS = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "span": "spoiler", "tg-spoiler": "spoiler", "a": "text_link", "code": "code", "pre": "pre",
    "blockquote": "blockquote", "tg-emoji": "custom_emoji",
}  # fmt: skip
_HTML_CHARREF = re.compile(r"&(?:lt|gt|amp|quot|#[0-9]+|#x[0-9A-Fa-f]+);")
_HTML_ATTR = re.compile(r"""([A-Za-z-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")


def _parse_html(text: str) -> tuple[str, list[JSON]]:
    out, stack, i = _Builder(), list[tuple[str, int, dict[str, str]]](), 0
    while i < len(text):
        char = text[i]
        ref = _HTML_CHARREF.match(text, i) if char == "&" else None
        if ref:
            out.add(html.unescape(ref.group(0)))
            i = ref.end()
            continue
        if char != "<":
            out.add(char)
            i += 1
            continue
        where, end = _byte_offset(text, i), text.find(">", i)
        if end < 0:
            raise _entity_error(f"Unclosed start tag at byte offset {where}")
        inner, i = text[i + 1 : end], end + 1
        if inner.startswith("/"):
            name = inner[1:].strip().lower()
            if not stack:
                raise _entity_error(f"Unexpected end tag at byte offset {where}")
            open_name, start, attrs = stack.pop()
            if name != open_name:
                raise _entity_error(
                    f'Unmatched end tag at byte offset {where}, expected "</{open_name}>", '
                    f'found "</{name}>"'
                )
            language = attrs.get("class", "").removeprefix("language-")
            if open_name == "code" and stack and stack[-1][0] == "pre" and language:
                stack[-1][2]["language"] = language
            elif open_name == "a":
                if attrs.get("href"):
                    out.entity("text_link", start, url=attrs["href"])
            elif open_name == "tg-emoji":
                out.entity("custom_emoji", start, custom_emoji_id=attrs.get("emoji-id", ""))
            elif open_name == "pre" and attrs.get("language"):
                out.entity("pre", start, language=attrs["language"])
            else:
                out.entity(_HTML_KINDS[open_name], start)
            continue
        match = re.match(r"[A-Za-z][A-Za-z0-9-]*", inner)
        name = match.group(0).lower() if match else ""
        if name not in _HTML_KINDS:
            raise _entity_error(f'Unsupported start tag "{name}" at byte offset {where}')
        attrs = {
            key.lower(): html.unescape(a or b or c)
            for key, a, b, c in _HTML_ATTR.findall(inner[len(name) :])
        }
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise _entity_error(f'Tag "span" must have class "tg-spoiler" at byte offset {where}')
        stack.append((name, out.length, attrs))
    if stack:
        raise _entity_error(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return out.result()


_MDV2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MDV2_MARKERS = {
    "__": "underline",
    "||": "spoiler",
    "*": "bold",
    "_": "italic",
    "~": "strikethrough",
}


def _scan_until(text: str, i: int, stop: str, error: str) -> tuple[str, int]:
    """Read up to `stop` honouring backslash escapes; returns (body, index after stop)."""
    body: list[str] = []
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            body.append(text[i + 1])
            i += 2
        elif text.startswith(stop, i):
            return "".join(body), i + len(stop)
        else:
            body.append(text[i])
            i += 1
    raise _entity_error(error)


def _parse_markdown_v2(text: str) -> tuple[str, list[JSON]]:
    out, stack, i = _Builder(), list[tuple[str, int, int]](), 0
    while i < len(text):
        char, where = text[i], _byte_offset(text, i)
        if char == "\\" and i + 1 < len(text) and 0 < ord(text[i + 1]) <= 126:
            out.add(text[i + 1])
            i += 2
            continue
        if char == "`":
            fence = "```" if text.startswith("```", i) else "`"
            kind = "pre" if fence == "```" else "code"
            error = f"Can't find end of {kind.capitalize()} entity at byte offset {where}"
            body, i = _scan_until(text, i + len(fence), fence, error)
            first, newline, rest = body.partition("\n")
            language = first if kind == "pre" and newline and first and " " not in first else ""
            start = out.length
            out.add(rest if language else body)
            if language:
                out.entity(kind, start, language=language)
            else:
                out.entity(kind, start)
            continue
        marker = next((m for m in _MDV2_MARKERS if text.startswith(m, i)), None)
        if marker:
            i += len(marker)
            if stack and stack[-1][0] == marker:
                out.entity(_MDV2_MARKERS[marker], stack.pop()[1])
            elif any(open_marker == marker for open_marker, _, _ in stack):
                raise _entity_error(f"Can't find end of the entity starting at byte offset {where}")
            else:
                stack.append((marker, out.length, where))
            continue
        if char == "[":
            stack.append(("[", out.length, where))
            i += 1
            continue
        if char == "]" and stack and stack[-1][0] == "[":
            start, i = stack.pop()[1], i + 1
            if text.startswith("(", i):
                url, i = _scan_until(
                    text, i + 1, ")", f"Can't find end of a URL at byte offset {where}"
                )
                out.entity("text_link", start, url=url)
            continue
        if char == ">" and (i == 0 or text[i - 1] == "\n"):
            i += 1  # a blockquote line; its entity is not modelled
            continue
        if char in _MDV2_RESERVED:
            raise _entity_error(
                f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
            )
        out.add(char)
        i += 1
    if stack:
        raise _entity_error(f"Can't find end of the entity starting at byte offset {stack[-1][2]}")
    return out.result()


def _parse_markdown(text: str) -> tuple[str, list[JSON]]:
    out, i = _Builder(), 0
    kinds = {"*": "bold", "_": "italic", "`": "code", "```": "pre", "[": "text_link"}
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text) and text[i + 1] in "_*`[":
            out.add(text[i + 1])
            i += 2
            continue
        if char not in kinds:
            out.add(char)
            i += 1
            continue
        fence = "```" if text.startswith("```", i) else char
        close = "]" if char == "[" else fence
        end = text.find(close, i + len(fence))
        if end < 0:
            where = _byte_offset(text, i)
            raise _entity_error(f"Can't find end of the entity starting at byte offset {where}")
        start = out.length
        out.add(text[i + len(fence) : end])
        i = end + len(close)
        if char != "[":
            out.entity(kinds[fence], start)
        elif text.startswith("(", i) and (url_end := text.find(")", i)) > 0:
            out.entity("text_link", start, url=text[i + 1 : url_end])
            i = url_end + 1
    return out.result()


def parse_formatted(text: str, parse_mode: str | None) -> tuple[str, list[JSON]]:
    """Telegram's entity parsing: the visible text and its entities, or a 400 ApiError."""
    mode = (parse_mode or "").lower()
    if not mode:
        return text, []
    parsers = {"html": _parse_html, "markdownv2": _parse_markdown_v2, "markdown": _parse_markdown}
    if mode not in parsers:
        raise bad("unsupported parse_mode")
    return parsers[mode](text)


# ---------------------------------------------------------------- request parameters


@dataclass
class Upload:
    """A file that arrived in a multipart request."""

    filename: str
    content_type: str
    data: bytes


def _parse_multipart(body: bytes, content_type: str) -> JSON:
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not match:
        raise bad("wrong multipart/form-data request")
    params: JSON = {}
    for part in body.split(b"--" + match.group(1).encode())[1:]:
        if part.startswith(b"--"):
            break
        head, _, data = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        data = data.removesuffix(b"\r\n")
        headers = head.decode("utf-8", "replace")
        name = re.search(r'\bname="([^"]*)"', headers)
        if not name:
            continue
        filename = re.search(r'\bfilename="([^"]*)"', headers)
        ctype = re.search(r"(?im)^content-type:\s*(\S+)", headers)
        if filename:
            kind = ctype.group(1) if ctype else "application/octet-stream"
            params[name.group(1)] = Upload(filename.group(1), kind, data)
        else:
            params[name.group(1)] = data.decode("utf-8")
    return params


async def _read_params(request: Request) -> JSON:
    """Query string plus a JSON, urlencoded or multipart body, merged."""
    params: JSON = dict(request.query_params)
    body = await request.body()
    ctype = request.headers.get("content-type", "").lower()
    if not body:
        return params
    if ctype.startswith("application/json"):
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise bad("can't parse JSON encoded request") from exc
        if not isinstance(data, dict):
            raise bad("JSON object expected")
        params.update(data)
    elif ctype.startswith("multipart/form-data"):
        params.update(_parse_multipart(body, request.headers["content-type"]))
    else:
        params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    return params


def _str(params: JSON, name: str) -> str | None:
    value = params.get(name)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Upload):
        raise bad(f"wrong parameter {name} in request")
    return json.dumps(value)


def _int(params: JSON, name: str) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        return int(float(value)) if isinstance(value, float) else int(str(value).strip())
    except ValueError as exc:
        raise bad(f"wrong parameter {name} in request") from exc


def _float(params: JSON, name: str) -> float | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise bad(f"wrong parameter {name} in request") from exc


def _bool(params: JSON, name: str) -> bool:
    return params.get(name) in (True, 1, "1", "true", "True")


def _json(params: JSON, name: str) -> Any:
    value = params.get(name)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise bad(f"can't parse {name} JSON object") from exc
    return value


def _for_log(params: JSON) -> JSON:
    return {
        key: {"upload": value.filename, "size": len(value.data)}
        if isinstance(value, Upload)
        else value
        for key, value in params.items()
    }


def _callback_datas(markup: JSON | None) -> set[str]:
    rows = (markup or {}).get("inline_keyboard") or []
    return {b["callback_data"] for row in rows for b in row if "callback_data" in b}


# ---------------------------------------------------------------- stored objects


@dataclass
class _Chat:
    id: int
    first_name: str

    def api(self) -> JSON:
        return {"id": self.id, "first_name": self.first_name, "type": "private"}


@dataclass
class _Message:
    message_id: int
    chat_id: int
    sender: JSON
    date: int
    from_bot: bool = True
    text: str | None = None
    entities: list[JSON] = field(default_factory=list)
    raw_text: str | None = None
    parse_mode: str | None = None
    caption: str | None = None
    caption_entities: list[JSON] = field(default_factory=list)
    photo: list[JSON] | None = None
    voice: JSON | None = None
    reply_markup: JSON | None = None
    edit_date: int | None = None

    def api(self, chat: _Chat) -> JSON:
        data: JSON = {"message_id": self.message_id, "from": self.sender, "chat": chat.api()}
        data["date"] = self.date
        if self.edit_date is not None:
            data["edit_date"] = self.edit_date
        optional = {
            "text": self.text, "entities": self.entities, "photo": self.photo,
            "voice": self.voice, "caption": self.caption,
            "caption_entities": self.caption_entities,
        }  # fmt: skip
        data.update({key: value for key, value in optional.items() if value})
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            data["reply_markup"] = self.reply_markup
        return copy.deepcopy(data)


@dataclass
class _Callback:
    query_id: str
    chat_id: int
    message_id: int
    data: str
    created: float
    answer: JSON | None = None


# ---------------------------------------------------------------- the fake


class FakeTelegram(ThreadedFake):
    """The fake Bot API server; see the module docstring. Start it, or use it as a context."""

    def __init__(
        self,
        token: str = "123456:TEST-token_abcdefghij",
        bot_username: str = "hocvuso_test_bot",
        *,
        flood_limit: int = 30,
        per_chat_limit: int | None = None,
        webhook_retry_delay: float = 0.2,
        webhook_timeout: float = 10.0,
        max_poll_timeout: float = 30.0,
        callback_answer_timeout: float | None = 15.0,
        port: int = 0,
    ) -> None:
        super().__init__("FakeTelegram", port)
        self.token, self.bot_username = token, bot_username
        self.flood_limit, self.per_chat_limit = flood_limit, per_chat_limit
        self.webhook_retry_delay, self.webhook_timeout = webhook_retry_delay, webhook_timeout
        self.max_poll_timeout = max_poll_timeout
        self.callback_answer_timeout = callback_answer_timeout
        head = token.split(":", 1)[0]
        self.bot_user: JSON = {
            "id": int(head) if head.isdigit() else 1,
            "is_bot": True,
            "first_name": "Học vụ số (test)",
            "username": bot_username,
        }
        self._lock = threading.RLock()
        self._next_update_id = random.randint(10_000, 900_000)
        self._poll_generation = 0
        self._waiting_polls = 0
        self._methods: dict[str, tuple[str, Callable[[JSON], Any]]] = {
            name.lower(): (name, getattr(self, f"_m_{name}"))
            for name in (
                "getMe", "sendMessage", "editMessageText", "editMessageReplyMarkup",
                "deleteMessage", "answerCallbackQuery", "sendChatAction", "setMyCommands",
                "getMyCommands", "deleteMyCommands", "sendPhoto", "sendVoice", "setWebhook",
                "deleteWebhook", "getWebhookInfo",
            )
        }  # fmt: skip
        self._methods["getupdates"] = ("getUpdates", lambda params: None)  # async, special-cased
        self._clear_state()
        self._app = self._build_app()

    def _clear_state(self) -> None:
        with self._lock:
            self._chats: dict[int, _Chat] = {}
            self._messages: dict[int, dict[int, _Message]] = {}
            self._last_message_id: dict[int, int] = {}
            self._blocked: set[int] = set()
            self._pending: list[JSON] = []
            self._history: dict[int, JSON] = {}
            self._dropped: list[JSON] = []
            self._allowed_updates: list[str] = []
            self._webhook_url = ""
            self._webhook_secret: str | None = None
            self._retry_at = 0.0
            self._last_error: tuple[int, str] | None = None
            self._attempts: list[JSON] = []
            self._callbacks: dict[str, _Callback] = {}
            self._calls: list[JSON] = []
            self._failures: dict[str, deque[JSON]] = {}
            self._sends: deque[float] = deque()
            self._chat_sends: dict[int, deque[float]] = {}
            self._commands: dict[str, list[JSON]] = {}
            self._files: dict[str, JSON] = {}
            self._uploads: list[JSON] = []
            self._held: set[int] = set()

    # -------------------------------------------------------------- lifecycle

    @property
    def base_url(self) -> str:
        """What python-telegram-bot takes as `base_url` (it appends the token)."""
        return f"{self.url}/bot"

    # -------------------------------------------------------------- HTTP

    def _build_app(self) -> FastAPI:
        app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
        app.add_api_route("/bot{token}/{method}", self._bot_api, methods=["GET", "POST"])
        app.add_api_route("/_control/{action}", self._control, methods=["GET", "POST"])
        return app

    async def _bot_api(self, request: Request) -> Response:
        token, method = request.path_params["token"], request.path_params["method"]
        entry = self._methods.get(method.lower())
        name = entry[0] if entry else method
        params: JSON = {}
        try:
            params = await _read_params(request)
            if token != self.token:
                malformed = not re.fullmatch(r"\d+:[A-Za-z0-9_-]+", token)
                raise ApiError(404, "Not Found") if malformed else ApiError(401, "Unauthorized")
            if entry is None:
                raise ApiError(404, "Not Found")
            if not await self._pass_hold(request, params):
                self._log_call(name, params, 499, "held; the caller went away")
                return Response(status_code=499)
            failure = self._take_failure(name)
            if failure is not None:
                self._log_call(name, params, failure.status_code, "fail_next")
                return failure
            if name == "getUpdates":
                result = await self._get_updates(params)
            else:
                with self._lock:
                    result = entry[1](params)
        except ApiError as exc:
            self._log_call(name, params, exc.status, exc.description)
            body: JSON = {"ok": False, "error_code": exc.status, "description": exc.description}
            if exc.parameters:
                body["parameters"] = exc.parameters
            return JSONResponse(body, status_code=exc.status)
        self._log_call(name, params, 200, None)
        return JSONResponse({"ok": True, "result": result})

    async def _pass_hold(self, request: Request, params: JSON) -> bool:
        """Wait while calls for this chat are held; False if the caller disconnected meanwhile.

        A dropped caller's call is never carried out, so a test can kill the bot mid-send.
        """
        try:
            chat_id = int(params.get("chat_id") or 0)
        except (TypeError, ValueError):
            return True
        while chat_id in self._held and not self._closing:
            event = self._event
            assert event is not None
            await self._wait_event(event, 0.05)
            if await request.is_disconnected():
                return False
        return True

    def _log_call(self, method: str, params: JSON, status: int, description: str | None) -> None:
        with self._lock:
            entry = {"method": method, "params": _for_log(params), "status": status}
            self._calls.append({**entry, "description": description, "time": time.time()})
        self._notify()

    def _take_failure(self, method: str) -> Response | None:
        with self._lock:
            queue = self._failures.get(method.lower())
            if not queue:
                return None
            spec = queue.popleft()
        status, description = spec["status"], spec["description"]
        if status == 502 and description is None:
            return Response(BAD_GATEWAY_HTML, status_code=502, media_type="text/html")
        body: JSON = {"ok": False, "error_code": status}
        if status == 429:
            body["description"] = (
                description or f"Too Many Requests: retry after {spec['retry_after']}"
            )
            body["parameters"] = {"retry_after": spec["retry_after"]}
        else:
            defaults = {403: "Forbidden: bot was blocked by the user", 400: "Bad Request"}
            body["description"] = description or defaults.get(status, HTTPStatus(status).phrase)
        return JSONResponse(body, status_code=status)

    async def _control(self, request: Request) -> Response:
        action = request.path_params["action"]
        kwargs: JSON = dict(request.query_params)
        body = await request.body()
        try:
            if body:
                kwargs.update(json.loads(body))
            for key in {"chat_id", "message_id", "user_id", "update_id", "count", "status",
                        "retry_after", "limit"} & kwargs.keys():  # fmt: skip
                kwargs[key] = int(kwargs[key]) if kwargs[key] is not None else None
            if isinstance(kwargs.get("forge"), str):
                kwargs["forge"] = kwargs["forge"].lower() in ("1", "true")
            if isinstance(kwargs.get("blocked"), str):
                kwargs["blocked"] = kwargs["blocked"].lower() in ("1", "true")
            handlers: dict[str, Callable[..., Any]] = {
                "send_message": self.send_message, "press_button": self.press_button,
                "send_raw_update": self.send_raw_update, "redeliver": self.redeliver,
                "sent": self.sent, "calls": self.calls, "fail_next": self.fail_next,
                "answered_callbacks": lambda: sorted(self.answered_callbacks()),
                "unanswered_callbacks": lambda: sorted(self.unanswered_callbacks()),
                "webhook": self.webhook, "reset": self.reset, "block": self.block,
                "pending_updates": self.pending_updates, "dump": self.dump,
                "is_polling": self.is_polling, "callback_answer": self.callback_answer,
            }  # fmt: skip
            if action not in handlers:
                return JSONResponse({"ok": False, "description": "unknown action"}, 404)
            result = handlers[action](**kwargs)
        except (ValueError, TypeError, KeyError) as exc:
            return JSONResponse({"ok": False, "description": str(exc)}, status_code=400)
        return JSONResponse({"ok": True, "result": result})

    # -------------------------------------------------------------- updates

    def _push_update(self, kind: str, payload: JSON, update_id: int | None = None) -> int:
        with self._lock:
            if update_id is None:
                update_id = self._next_update_id
            elif update_id < self._next_update_id:
                raise ControlError(f"update_id must be at least {self._next_update_id}")
            self._next_update_id = update_id + 1
            update = {"update_id": update_id, kind: payload}
            self._history[update_id] = update
            allowed = self._allowed_updates
            if (kind not in allowed) if allowed else (kind in UPDATE_TYPES_OFF_BY_DEFAULT):
                self._dropped.append(update)  # Telegram never creates it
            else:
                self._pending.append(update)
        self._notify()
        return update_id

    def _set_allowed(self, params: JSON) -> None:
        allowed = _json(params, "allowed_updates")
        if allowed is None:
            return  # "if not specified, the previous setting will be used"
        if not isinstance(allowed, list) or not all(isinstance(a, str) for a in allowed):
            raise bad("can't parse allowed updates JSON object")
        self._allowed_updates = list(allowed)

    async def _get_updates(self, params: JSON) -> list[JSON]:
        offset, limit = _int(params, "offset"), _int(params, "limit") or 100
        limit = min(max(limit, 1), 100)
        timeout = min(max(_float(params, "timeout") or 0.0, 0.0), self.max_poll_timeout)
        with self._lock:
            if self._webhook_url:
                raise ApiError(409, WEBHOOK_CONFLICT)
            self._set_allowed(params)
            self._poll_generation += 1
            generation = self._poll_generation
            if offset is not None and offset < 0:
                self._pending = self._pending[len(self._pending) + offset :]
            elif offset is not None:
                self._pending = [u for u in self._pending if u["update_id"] >= offset]
        self._notify()  # an older poll still waiting is terminated with 409
        deadline = time.monotonic() + timeout
        while True:
            event = self._event
            assert event is not None
            with self._lock:
                if generation != self._poll_generation:
                    raise ApiError(409, POLL_CONFLICT)
                if self._webhook_url:
                    raise ApiError(409, WEBHOOK_CONFLICT)
                batch = copy.deepcopy(self._pending[:limit])
            remaining = deadline - time.monotonic()
            if batch or remaining <= 0 or self._closing:
                return batch
            self._waiting_polls += 1
            try:
                await self._wait_event(event, remaining)
            finally:
                self._waiting_polls -= 1

    async def _deliver_forever(self) -> None:
        async with httpx.AsyncClient(timeout=self.webhook_timeout, trust_env=False) as client:
            while not self._closing:
                event = self._event
                assert event is not None
                with self._lock:
                    now, job = time.monotonic(), None
                    if self._webhook_url and self._pending and now >= self._retry_at:
                        job = (self._webhook_url, self._webhook_secret, self._pending[0])
                    wait = self._retry_at - now if self._pending and self._retry_at > now else None
                if job is None:
                    await self._wait_event(event, wait)
                    continue
                url, secret, update = job
                headers = {"Content-Type": "application/json"}
                if secret:
                    headers["X-Telegram-Bot-Api-Secret-Token"] = secret
                status, error = None, None
                try:
                    answer = await client.post(url, content=json.dumps(update), headers=headers)
                    status = answer.status_code
                except Exception as exc:  # any failure to deliver means "try again later"
                    error = f"Connection failed: {type(exc).__name__}: {exc}"
                self._delivered(url, update, status, error)

    def _delivered(self, url: str, update: JSON, status: int | None, error: str | None) -> None:
        with self._lock:
            update_id = update["update_id"]
            self._attempts.append(
                {"update_id": update_id, "url": url, "status": status, "error": error,
                 "time": time.time()}
            )  # fmt: skip
            if status is not None and 200 <= status < 300:
                if self._pending and self._pending[0]["update_id"] == update_id:
                    self._pending.pop(0)
                self._retry_at = 0.0
            else:
                if error is None and status is not None:
                    error = f"Wrong response from the webhook: {status} {_phrase(status)}"
                self._last_error = (int(time.time()), error or "unknown error")
                self._retry_at = time.monotonic() + self.webhook_retry_delay
        self._notify()

    # -------------------------------------------------------------- helpers for methods

    def _require_chat(self, params: JSON) -> _Chat:
        value = params.get("chat_id")
        if value is None or value == "":
            raise bad("chat_id is empty")
        try:
            chat = self._chats.get(int(value))
        except (TypeError, ValueError):
            chat = None  # "@username": no such public chat here
        if chat is None:
            raise bad("chat not found")
        if chat.id in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def _formatted(
        self, params: JSON, name: str, limit: int, too_long: str, empty: str | None
    ) -> tuple[str, list[JSON]]:
        raw = _str(params, name) or ""
        if empty and not raw.strip():
            raise bad(empty)
        parse_mode = _str(params, "parse_mode")
        if parse_mode:
            text, entities = parse_formatted(raw, parse_mode)
        else:
            given = _json(params, "entities" if name == "text" else "caption_entities")
            text, entities = raw, list(given or [])
        if empty and not text.strip():
            raise bad(empty)
        if utf16_len(text) > limit:
            raise bad(too_long)
        return text, entities

    def _markup(self, params: JSON) -> JSON | None:
        if params.get("reply_markup") in (None, ""):
            return None
        markup = _json(params, "reply_markup")
        if not isinstance(markup, dict):
            raise bad("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise bad('Field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
            if sum(len(row) for row in rows) > 100:
                raise bad("reply markup is too long")
            for button in (b for row in rows for b in row):
                if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                    raise bad(
                        'can\'t parse inline keyboard button: Field "text" must be of type String'
                    )
                if not BUTTON_KINDS & button.keys():
                    raise bad(
                        "can't parse inline keyboard button: "
                        "Text buttons are unallowed in the inline keyboard"
                    )
                data = button.get("callback_data")
                if "callback_data" in button and (
                    not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA
                ):
                    raise bad("BUTTON_DATA_INVALID")
                if "url" in button and urlsplit(str(button["url"])).scheme not in (
                    "http",
                    "https",
                    "tg",
                ):
                    raise bad("BUTTON_URL_INVALID")
        elif not {"keyboard", "remove_keyboard", "force_reply"} & markup.keys():
            raise bad("can't parse reply keyboard markup JSON object")
        return markup

    def _take_send_slot(self, chat_id: int) -> None:
        now = time.monotonic()
        per_chat = self._chat_sends.setdefault(chat_id, deque())
        for window in (self._sends, per_chat):
            while window and now - window[0] >= 1.0:
                window.popleft()
        if len(self._sends) >= self.flood_limit or (
            self.per_chat_limit is not None and len(per_chat) >= self.per_chat_limit
        ):
            raise ApiError(429, "Too Many Requests: retry after 1", {"retry_after": 1})
        self._sends.append(now)
        per_chat.append(now)

    def _new_message(self, chat: _Chat, sender: JSON, from_bot: bool = True) -> _Message:
        message_id = self._last_message_id.get(chat.id, 0) + 1
        self._last_message_id[chat.id] = message_id
        message = _Message(message_id, chat.id, sender, int(time.time()), from_bot)
        self._messages.setdefault(chat.id, {})[message_id] = message
        return message

    def _check_reply(self, params: JSON, chat: _Chat) -> None:
        reply = _json(params, "reply_parameters") or {}
        target = _int(params, "reply_to_message_id") or (
            reply.get("message_id") if isinstance(reply, dict) else None
        )
        allow = _bool(params, "allow_sending_without_reply") or (
            isinstance(reply, dict) and reply.get("allow_sending_without_reply")
        )
        if target and target not in self._messages.get(chat.id, {}) and not allow:
            raise bad("message to be replied not found")

    def _find_message(self, params: JSON) -> tuple[_Chat, _Message | None]:
        if params.get("inline_message_id") and params.get("chat_id") is None:
            raise bad("MESSAGE_ID_INVALID")
        chat = self._require_chat(params)
        message_id = _int(params, "message_id")
        if message_id is None:
            raise bad("message identifier is not specified")
        return chat, self._messages.get(chat.id, {}).get(message_id)

    def _file(self, params: JSON, name: str, kind: str) -> JSON:
        value = params.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            value = params.get(value.removeprefix("attach://"))
        if value is None or value == "":
            raise bad(f"there is no {name} in the request")
        if isinstance(value, str) and value in self._files:
            known = self._files[value]
            if known["kind"] != kind:
                raise bad("wrong file identifier/HTTP URL specified")
            return known
        if isinstance(value, Upload) and not value.data:
            raise bad("file must be non-empty")
        if isinstance(value, str) and urlsplit(value).scheme not in ("http", "https"):
            raise bad("wrong file identifier/HTTP URL specified")
        size = len(value.data) if isinstance(value, Upload) else 12345
        file_id = f"Fake{kind.capitalize()}{len(self._files) + 1}-{random.getrandbits(48):012x}"
        known = {"kind": kind, "file_id": file_id, "file_unique_id": file_id[-12:], "size": size}
        if isinstance(value, Upload):
            # Kept whole, so tests can check what was uploaded (a PNG, say).
            self._uploads.append(
                {
                    "chat_id": _int(params, "chat_id"),
                    "kind": kind,
                    "file_id": file_id,
                    "filename": value.filename,
                    "content_type": value.content_type,
                    "data": value.data,
                }
            )
        self._files[file_id] = self._files[f"{file_id}-s"] = known  # "-s": the small size
        return known

    def _api_message(self, message: _Message) -> JSON:
        return message.api(self._chats[message.chat_id])

    # -------------------------------------------------------------- Bot API methods

    def _m_getMe(self, params: JSON) -> JSON:
        return {
            **self.bot_user, "can_join_groups": True, "can_read_all_group_messages": False,
            "supports_inline_queries": False, "can_connect_to_business": False,
            "has_main_web_app": False,
        }  # fmt: skip

    def _m_sendMessage(self, params: JSON) -> JSON:
        chat = self._require_chat(params)
        text, entities = self._formatted(
            params, "text", MAX_TEXT, "message is too long", "message text is empty"
        )
        markup = self._markup(params)
        self._check_reply(params, chat)
        self._take_send_slot(chat.id)
        message = self._new_message(chat, self.bot_user)
        message.text, message.entities, message.reply_markup = text, entities, markup
        message.raw_text, message.parse_mode = _str(params, "text"), _str(params, "parse_mode")
        return self._api_message(message)

    def _editable(self, params: JSON) -> tuple[_Chat, _Message]:
        chat, message = self._find_message(params)
        if message is None:
            raise bad("message to edit not found")
        if not message.from_bot or (
            message.reply_markup and "inline_keyboard" not in message.reply_markup
        ):
            raise bad("message can't be edited")
        return chat, message

    def _m_editMessageText(self, params: JSON) -> JSON:
        chat, message = self._editable(params)
        if message.text is None:
            raise bad("there is no text in the message to edit")
        text, entities = self._formatted(
            params, "text", MAX_TEXT, "message is too long", "message text is empty"
        )
        markup = self._markup(params)  # omitted: the inline keyboard is removed
        if markup is not None and "inline_keyboard" not in markup:
            raise bad("inline keyboard expected")
        if (text, entities, markup) == (message.text, message.entities, message.reply_markup):
            raise bad(NOT_MODIFIED)
        self._take_send_slot(chat.id)
        message.text, message.entities, message.reply_markup = text, entities, markup
        message.raw_text, message.parse_mode = _str(params, "text"), _str(params, "parse_mode")
        message.edit_date = int(time.time())
        return self._api_message(message)

    def _m_editMessageReplyMarkup(self, params: JSON) -> JSON:
        chat, message = self._editable(params)
        markup = self._markup(params)
        if markup is not None and "inline_keyboard" not in markup:
            raise bad("inline keyboard expected")
        if markup == message.reply_markup:
            raise bad(NOT_MODIFIED)
        self._take_send_slot(chat.id)
        message.reply_markup, message.edit_date = markup, int(time.time())
        return self._api_message(message)

    def _m_deleteMessage(self, params: JSON) -> bool:
        chat, message = self._find_message(params)
        if message is None:
            raise bad("message to delete not found")
        del self._messages[chat.id][message.message_id]
        return True

    def _m_answerCallbackQuery(self, params: JSON) -> bool:
        query = self._callbacks.get(_str(params, "callback_query_id") or "")
        timeout = self.callback_answer_timeout
        too_late = (
            query is not None and timeout is not None and time.monotonic() - query.created > timeout
        )
        if query is None or query.answer is not None or too_late:
            raise bad(QUERY_TOO_OLD)
        text = _str(params, "text") or ""
        if utf16_len(text) > MAX_ANSWER_TEXT:
            raise bad("MESSAGE_TOO_LONG")
        query.answer = {
            "text": text,
            "show_alert": _bool(params, "show_alert"),
            "url": _str(params, "url"),
        }
        return True

    def _m_sendChatAction(self, params: JSON) -> bool:
        self._require_chat(params)
        if _str(params, "action") not in CHAT_ACTIONS:
            raise bad("wrong parameter action in request")
        return True

    def _commands_key(self, params: JSON) -> str:
        scope = _json(params, "scope") or {"type": "default"}
        return json.dumps([scope, _str(params, "language_code") or ""], sort_keys=True)

    def _m_setMyCommands(self, params: JSON) -> bool:
        commands = _json(params, "commands") or []
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad("can't parse commands JSON object")
        for command in commands:
            for key in ("command", "description"):
                if not isinstance(command, dict) or not isinstance(command.get(key), str):
                    raise bad(f"can't parse BotCommand: Can't find field \"{key}\"")
            if not re.fullmatch(r"[a-z0-9_]{1,32}", command["command"]):
                raise bad("BOT_COMMAND_INVALID")
            if not command["description"].strip():
                raise bad("command description must be non-empty")
            if len(command["description"]) > 256:
                raise bad("BOT_COMMAND_DESCRIPTION_INVALID")
        self._commands[self._commands_key(params)] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    def _m_getMyCommands(self, params: JSON) -> list[JSON]:
        return copy.deepcopy(self._commands.get(self._commands_key(params), []))

    def _m_deleteMyCommands(self, params: JSON) -> bool:
        self._commands.pop(self._commands_key(params), None)
        return True

    def _send_media(self, params: JSON, kind: str) -> JSON:
        chat = self._require_chat(params)
        known = self._file(params, kind, kind)
        caption, entities = self._formatted(
            params, "caption", MAX_CAPTION, "message caption is too long", None
        )
        markup = self._markup(params)
        self._check_reply(params, chat)
        self._take_send_slot(chat.id)
        message = self._new_message(chat, self.bot_user)
        message.caption, message.caption_entities, message.reply_markup = caption, entities, markup
        base = {"file_id": known["file_id"], "file_unique_id": known["file_unique_id"]}
        if kind == "photo":
            message.photo = [
                {
                    **base,
                    "file_id": f"{known['file_id']}-s",
                    "width": 90,
                    "height": 68,
                    "file_size": 1200,
                },
                {**base, "width": 800, "height": 600, "file_size": known["size"]},
            ]
        else:
            duration = _int(params, "duration") or 1
            message.voice = {
                **base,
                "duration": duration,
                "mime_type": "audio/ogg",
                "file_size": known["size"],
            }
        return self._api_message(message)

    def _m_sendPhoto(self, params: JSON) -> JSON:
        return self._send_media(params, "photo")

    def _m_sendVoice(self, params: JSON) -> JSON:
        return self._send_media(params, "voice")

    def _m_setWebhook(self, params: JSON) -> bool:
        url = _str(params, "url") or ""
        secret = _str(params, "secret_token") or None
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise bad("secret token contains unallowed characters")
        parts = urlsplit(url)
        local = parts.hostname in ("127.0.0.1", "localhost")
        if url and not (parts.scheme == "https" or (parts.scheme == "http" and local)):
            raise bad("bad webhook: An HTTPS URL must be provided for webhook")
        if url and not local and (parts.port or 443) not in (443, 80, 88, 8443):
            raise bad("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
        self._set_allowed(params)
        if _bool(params, "drop_pending_updates"):
            self._pending.clear()
        self._webhook_url, self._webhook_secret = url, secret if url else None
        self._retry_at, self._last_error = 0.0, None
        return True

    def _m_deleteWebhook(self, params: JSON) -> bool:
        if _bool(params, "drop_pending_updates"):
            self._pending.clear()
        self._webhook_url, self._webhook_secret, self._retry_at = "", None, 0.0
        return True

    def _m_getWebhookInfo(self, params: JSON) -> JSON:
        info: JSON = {
            "url": self._webhook_url, "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }  # fmt: skip
        if self._webhook_url:
            info.update(max_connections=40, ip_address="127.0.0.1")
            if self._allowed_updates:
                info["allowed_updates"] = list(self._allowed_updates)
        if self._last_error:
            info.update(last_error_date=self._last_error[0], last_error_message=self._last_error[1])
        return info

    # -------------------------------------------------------------- control side

    def send_message(
        self, chat_id: int, text: str, user_id: int | None = None, first_name: str = "Bác Ba"
    ) -> int:
        """A resident writes `text` to the bot in a private chat; returns the update_id."""
        if not text or utf16_len(text) > MAX_TEXT:
            raise ControlError("a user message has 1-4096 characters")
        with self._lock:
            chat = self._chats.setdefault(chat_id, _Chat(chat_id, first_name))
            chat.first_name = first_name
            user = {"id": user_id if user_id is not None else chat_id, "is_bot": False,
                    "first_name": first_name, "language_code": "vi"}  # fmt: skip
            message = self._new_message(chat, user, from_bot=False)
            message.text = text
            command = re.match(r"/[A-Za-z0-9_]{1,64}(@[A-Za-z0-9_]+)?", text)
            if command:
                message.entities = [{"type": "bot_command", "offset": 0, "length": command.end()}]
            return self._push_update("message", self._api_message(message))

    def press_button(
        self,
        chat_id: int,
        message_id: int,
        data: str,
        user_id: int | None = None,
        forge: bool = False,
    ) -> int:
        """A resident presses the button with `data` (any data if `forge`); returns update_id."""
        with self._lock:
            chat, message = (
                self._chats.get(chat_id),
                self._messages.get(chat_id, {}).get(message_id),
            )
            if chat is None or message is None or not message.from_bot:
                raise ControlError(f"no bot message {message_id} in chat {chat_id}")
            buttons = _callback_datas(message.reply_markup)
            if not forge and data not in buttons:
                raise ControlError(
                    f"message {message_id} has no button with callback_data {data!r} "
                    f"(it has {sorted(buttons)}); pass forge=True to send it anyway"
                )
            query_id = str(random.getrandbits(62) + (1 << 62))
            self._callbacks[query_id] = _Callback(
                query_id, chat_id, message_id, data, time.monotonic()
            )
            user = {"id": user_id if user_id is not None else chat_id, "is_bot": False,
                    "first_name": chat.first_name, "language_code": "vi"}  # fmt: skip
            payload = {
                "id": query_id, "from": user, "message": self._api_message(message),
                "chat_instance": str((chat_id * 2654435761) % 10**18), "data": data,
            }  # fmt: skip
            return self._push_update("callback_query", payload)

    def send_raw_update(self, update: JSON) -> int:
        """Queue an update of any shape (update_id added unless given); returns the update_id."""
        body = {k: v for k, v in update.items() if k != "update_id"}
        if len(body) != 1:
            raise ControlError("an update has exactly one field besides update_id")
        ((kind, payload),) = body.items()
        with self._lock:
            chat = payload.get("chat") if isinstance(payload, dict) else None
            if isinstance(chat, dict) and isinstance(chat.get("id"), int):
                self._chats.setdefault(chat["id"], _Chat(chat["id"], chat.get("first_name", "")))
            return self._push_update(kind, payload, update.get("update_id"))

    def hold(self, chat_id: int, held: bool = True) -> None:
        """Make Bot API calls for that chat wait (sendMessage, edits...) until released."""
        with self._lock:
            (self._held.add if held else self._held.discard)(chat_id)
        self._notify()

    def update(self, update_id: int) -> JSON:
        """The update with that id as Telegram would deliver it (for tests that POST it)."""
        with self._lock:
            if update_id not in self._history:
                raise ControlError(f"no update {update_id}")
            return copy.deepcopy(self._history[update_id])

    def redeliver(self, update_id: int) -> None:
        """Webhook mode: deliver an update once more although it was acknowledged (a duplicate).

        Each call queues one more delivery, in update_id order (stable among duplicates).
        """
        with self._lock:
            if not self._webhook_url:
                raise ControlError("redeliver needs a webhook to be set")
            if update_id not in self._history:
                raise ControlError(f"no update {update_id}")
            self._pending.append(copy.deepcopy(self._history[update_id]))
            self._pending.sort(key=lambda u: int(u["update_id"]))
        self._notify()

    def sent(self, chat_id: int) -> list[JSON]:
        """The bot's messages in that chat, in order, each as it is now (after edits)."""
        with self._lock:
            out = []
            for m in self._messages.get(chat_id, {}).values():
                if not m.from_bot:
                    continue
                item: JSON = {
                    "message_id": m.message_id, "date": m.date, "text": m.text,
                    "entities": m.entities, "raw_text": m.raw_text, "parse_mode": m.parse_mode,
                    "reply_markup": m.reply_markup, "edited": m.edit_date is not None,
                }  # fmt: skip
                optional = {"photo": m.photo, "voice": m.voice, "caption": m.caption}
                item.update({k: v for k, v in optional.items() if v is not None})
                out.append(copy.deepcopy(item))
            return out

    def uploads(self, chat_id: int | None = None) -> list[JSON]:
        """Files uploaded in multipart requests (kind, file_id, filename, data), in order."""
        with self._lock:
            return [dict(u) for u in self._uploads if chat_id is None or u["chat_id"] == chat_id]

    def calls(self, method: str | None = None) -> list[JSON]:
        """Every Bot API call so far (method, params, status, description, time)."""
        with self._lock:
            picked = [
                c for c in self._calls if method is None or c["method"].lower() == method.lower()
            ]
            return copy.deepcopy(picked)

    def answered_callbacks(self) -> set[str]:
        """Ids of callback queries the bot answered."""
        with self._lock:
            return {q for q, c in self._callbacks.items() if c.answer is not None}

    def unanswered_callbacks(self) -> set[str]:
        """Ids of callback queries the bot has not answered (yet)."""
        with self._lock:
            return {q for q, c in self._callbacks.items() if c.answer is None}

    def callback_answer(self, query_id: str) -> JSON | None:
        """How the bot answered that callback query (text, show_alert, url), or None."""
        with self._lock:
            query = self._callbacks.get(query_id)
            return copy.deepcopy(query.answer) if query else None

    def fail_next(
        self,
        method: str,
        count: int = 1,
        status: int = 429,
        retry_after: int = 1,
        description: str | None = None,
    ) -> None:
        """Make the next `count` calls of `method` fail (429 + retry_after, 500, 502 as HTML)."""
        spec = {"status": status, "retry_after": retry_after, "description": description}
        with self._lock:
            queue = self._failures.setdefault(method.lower(), deque())
            queue.extend(dict(spec) for _ in range(count))

    def block(self, chat_id: int, blocked: bool = True) -> None:
        """The resident blocks (or unblocks) the bot: sends to that chat get 403."""
        with self._lock:
            (self._blocked.add if blocked else self._blocked.discard)(chat_id)

    def webhook(self) -> JSON:
        """Webhook state: url, secret, allowed_updates, pending count, delivery attempts.

        `deliveries` (alias `attempts`) lists every POST: update_id, url, status (None when the
        connection failed), error, time.
        """
        with self._lock:
            return {
                "url": self._webhook_url, "secret": self._webhook_secret,
                "allowed_updates": list(self._allowed_updates), "pending": len(self._pending),
                "deliveries": copy.deepcopy(self._attempts),
                "attempts": copy.deepcopy(self._attempts),
                "last_error_message": self._last_error[1] if self._last_error else None,
            }  # fmt: skip

    def is_polling(self) -> bool:
        """Whether a getUpdates long poll is waiting right now (the bot is listening)."""
        return self._waiting_polls > 0

    def pending_updates(self) -> list[JSON]:
        """Updates created but not yet confirmed (getUpdates) or acknowledged (webhook)."""
        with self._lock:
            return copy.deepcopy(self._pending)

    def dump(self) -> JSON:
        """A compact, JSON-serialisable picture of the state, for failure messages."""

        def short(value: Any) -> Any:
            return value[:77] + "..." if isinstance(value, str) and len(value) > 80 else value

        def brief(message: JSON) -> JSON:
            rows = (message["reply_markup"] or {}).get("inline_keyboard") or []
            buttons = [[f"{b['text']} -> {b.get('callback_data', b.get('url'))}" for b in row]
                       for row in rows]  # fmt: skip
            text = message["text"] if message["text"] is not None else message.get("caption")
            return {"id": message["message_id"], "text": short(text),
                    "edited": message["edited"], "buttons": buttons}  # fmt: skip

        with self._lock:
            webhook = self.webhook()
            del webhook["attempts"]
            webhook["deliveries"] = webhook["deliveries"][-10:]
            return {
                "sent": {chat: [brief(m) for m in self.sent(chat)] for chat in self._messages},
                "pending_updates": len(self._pending), "dropped_updates": len(self._dropped),
                "unanswered_callbacks": sorted(self.unanswered_callbacks()), "webhook": webhook,
                "last_calls": [
                    {"method": c["method"], "status": c["status"], "description": c["description"],
                     "params": {k: short(v) for k, v in c["params"].items()}}
                    for c in self._calls[-20:]
                ],
            }  # fmt: skip

    def reset(self) -> None:
        """Forget chats, messages, updates, calls, webhook and settings (update_ids keep rising)."""
        self._clear_state()
        self._notify()


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
