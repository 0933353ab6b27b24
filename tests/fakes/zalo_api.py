"""A fake Zalo Bot Platform API server for tests, as strict as the real platform where it matters.

`FakeZalo` serves the Bot API (`/bot{token}/{method}`) and a test-control side
(`/_control/{action}`) with uvicorn on 127.0.0.1, in a background thread with its own event
loop, like `FakeTelegram`. Tests play the residents (`send_text`, `send_image`, ...) and
inspect what the bot did (`sent`, `calls`, `webhook`); the bot under test talks Bot API to
`fake.url` (a client's API base: it appends `/bot<token>/<method>` itself).

Enforced like Zalo (sources: PROTOCOLS.md; bot.zaloplatforms.com/docs as copied in
lamdt1/ckvn-bot `docs/zalo-bot-doc.md`; openclaw/openclaw `extensions/zalo/src/api.ts` and
`monitor.webhook.ts`): case-sensitive method names; `getUpdates` returns ONE update (no list,
no offset; returning it consumes it) and answers 408 when the long poll ends empty; polling
and a webhook exclude each other; text 1-2000 characters (counted in UTF-16 code units, the
stricter reading); secret_token 8-256 characters; sends only to chats whose user wrote to
the bot; webhook deliveries in order with `X-Bot-Api-Secret-Token`, retried after a non-2xx
answer or a connection error; no inline keyboards: `reply_markup` and `parse_mode` are
ignored, but each call records them under `ignored`.

HTTP status of error replies (every reply is the `ok` / `result` / `error_code` /
`description` envelope; PROTOCOLS.md: "an error can arrive with HTTP 200"):

- HTTP 200 with `ok: false`: every validation error (error_code 400: missing or unknown
  chat_id, empty or too long text or caption, bad photo URL, missing sticker, bad action,
  bad webhook URL or secret, getUpdates while a webhook is set) and the empty long poll
  (error_code 408, "Request timeout"). 408 inside HTTP 200 follows openclaw: its client
  rejects non-2xx replies as transport errors before it reads the JSON, yet it treats
  `ok: false, error_code: 408` as "nothing arrived"; lamdt1/ckvn-bot also reads the JSON of
  that reply without looking at the status. `fail_next(..., http_status=408)` gives the
  other variant.
- The real status: 401 wrong token, 404 unknown method (Zalo's error table also lists 400
  for an invalid API name), 429 "Quota exceeded" beyond `quota_per_minute` sends
  (sendMessage, sendPhoto and sendSticker count together).
- `fail_next` chooses freely; a 502 without a description is an HTML page, like a proxy.
"""

from __future__ import annotations

import copy
import email
import email.policy
import json
import math
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from fakes.threaded import ThreadedFake

JSON = dict[str, Any]

MAX_TEXT = 2000
SECRET_LENGTH = (8, 256)
CHAT_ACTIONS = frozenset({"typing", "upload_photo"})
QUOTA_METHODS = frozenset({"sendMessage", "sendPhoto", "sendSticker"})
IGNORED_PARAMS = ("reply_markup", "parse_mode")
WEBHOOK_SHAPES = ("bare", "envelope")
METHODS = (
    "getMe", "getUpdates", "setWebhook", "deleteWebhook", "getWebhookInfo", "sendMessage",
    "sendPhoto", "sendSticker", "sendChatAction",
)  # fmt: skip
WEBHOOK_CONFLICT = "webhook is active: call deleteWebhook before getUpdates"
DEFAULT_DESCRIPTIONS = {
    400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    408: "Request timeout", 429: "Quota exceeded",
}  # fmt: skip
BAD_GATEWAY_HTML = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


class ApiError(Exception):
    """A Bot API error answer: error_code, description and the HTTP status it comes with."""

    def __init__(self, error_code: int, description: str, http_status: int = 200) -> None:
        super().__init__(description)
        self.error_code, self.description, self.http_status = error_code, description, http_status


class ControlError(ValueError):
    """A test-control request that cannot be honoured (e.g. redelivering an unknown update)."""


def bad(description: str) -> ApiError:
    """A 400 validation error; Zalo-like, it arrives inside an HTTP 200 reply."""
    return ApiError(400, description)


def random_id() -> str:
    """A fresh id shaped like Zalo's user, chat and message ids (20 hex digits)."""
    return secrets.token_hex(10)


def now_ms() -> int:
    """The current time in milliseconds, the unit of Zalo's `date` and `updated_at`."""
    return int(time.time() * 1000)


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units (an emoji counts 2), the stricter reading of the limits."""
    return len(text.encode("utf-16-le")) // 2


# ---------------------------------------------------------------- request parameters


async def _read_params(request: Request) -> JSON:
    """Query string plus a JSON, urlencoded or multipart body, merged."""
    params: JSON = dict(request.query_params)
    body = await request.body()
    ctype = request.headers.get("content-type", "")
    if not body:
        return params
    if ctype.lower().startswith("application/json"):
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise bad("can't parse JSON body") from exc
        if not isinstance(data, dict):
            raise bad("JSON object expected")
        params.update(data)
    elif ctype.lower().startswith("multipart/form-data"):
        raw = f"Content-Type: {ctype}\r\n\r\n".encode() + body
        message = email.message_from_bytes(raw, policy=email.policy.HTTP)
        for part in message.walk():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if not part.is_multipart() and isinstance(name, str) and isinstance(payload, bytes):
                params[name] = payload.decode("utf-8", "replace")
    else:
        params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return params


def _str(params: JSON, name: str) -> str | None:
    value = params.get(name)
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value) if isinstance(value, dict | list) else str(value)


def _http_url(value: str, https_only: bool = False) -> bool:
    """An absolute http(s) URL; with `https_only`, plain http is allowed on localhost only."""
    parts = urlsplit(value)
    if not parts.hostname or parts.scheme not in ("http", "https"):
        return False
    return parts.scheme == "https" or not https_only or parts.hostname in ("127.0.0.1", "localhost")


# ---------------------------------------------------------------- the fake


class FakeZalo(ThreadedFake):
    """The fake Zalo Bot API server; see the module docstring. Start it, or use it as a context."""

    def __init__(
        self,
        token: str = "zalo-test-token-0123456789",
        *,
        port: int = 0,
        webhook_retry_delay: float = 0.2,
        max_poll_timeout: float = 30.0,
        quota_per_minute: int | None = None,
    ) -> None:
        super().__init__("FakeZalo", port)
        self.token = token
        self.webhook_retry_delay, self.max_poll_timeout = webhook_retry_delay, max_poll_timeout
        self.quota_per_minute = quota_per_minute
        self.webhook_timeout = 10.0
        self.bot_info: JSON = {
            "id": str(1_459_232_241_454_765_289),
            "account_name": "bot.hocvuso",
            "account_type": "BASIC",
            "can_join_groups": False,
        }
        self._lock = threading.RLock()
        self._waiting_polls = 0
        self._methods: dict[str, Callable[[JSON], Any]] = {
            name: getattr(self, f"_m_{name}") for name in METHODS if name != "getUpdates"
        }
        self._clear_state()
        self._app = self._build_app()

    def _clear_state(self) -> None:
        with self._lock:
            self._chats: dict[str, str] = {}  # chat id -> display name of its user
            self._pending: list[JSON] = []
            self._history: dict[str, JSON] = {}
            self._sent: dict[str, list[JSON]] = {}
            self._calls: list[JSON] = []
            self._failures: dict[str, deque[ApiError]] = {}
            self._quota: deque[float] = deque()
            self._webhook_url = ""
            self._webhook_secret: str | None = None
            self._webhook_updated_at = 0
            self._webhook_shape = "bare"
            self._retry_at = 0.0
            self._deliveries: list[JSON] = []

    # -------------------------------------------------------------- lifecycle

    @property
    def api_url(self) -> str:
        """The full API prefix, `{url}/bot{token}`, for raw HTTP calls."""
        return f"{self.url}/bot{self.token}"

    # -------------------------------------------------------------- HTTP

    def _build_app(self) -> FastAPI:
        app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
        app.add_api_route("/bot{token}/{method}", self._bot_api, methods=["GET", "POST"])
        app.add_api_route("/_control/{action}", self._control, methods=["GET", "POST"])
        return app

    async def _bot_api(self, request: Request) -> Response:
        token, method = request.path_params["token"], request.path_params["method"]
        params: JSON = {}
        try:
            params = await _read_params(request)
            if token != self.token:
                raise ApiError(401, "Unauthorized", 401)
            if method not in METHODS:  # method names are case-sensitive on Zalo
                raise ApiError(404, "Not Found", 404)
            failure = self._take_failure(method)
            if failure is not None:
                raise failure
            if method == "getUpdates":
                result = await self._get_updates(params)
            else:
                with self._lock:
                    result = self._methods[method](params)
        except ApiError as exc:
            self._log_call(method, params, exc.http_status, exc.error_code, exc.description)
            if exc.http_status == 502 and exc.description == "":
                return Response(BAD_GATEWAY_HTML, status_code=502, media_type="text/html")
            body = {"ok": False, "error_code": exc.error_code, "description": exc.description}
            return JSONResponse(body, status_code=exc.http_status)
        self._log_call(method, params, 200, None, None)
        return JSONResponse({"ok": True, "result": result})

    def _log_call(
        self,
        method: str,
        params: JSON,
        status: int,
        error_code: int | None,
        description: str | None,
    ) -> None:
        with self._lock:
            self._calls.append({
                "method": method, "params": copy.deepcopy(params), "status": status,
                "ok": error_code is None, "error_code": error_code, "description": description,
                "ignored": [name for name in IGNORED_PARAMS if name in params],
                "time": time.time(),
            })  # fmt: skip
        self._notify()

    def _take_failure(self, method: str) -> ApiError | None:
        with self._lock:
            queue = self._failures.get(method)
            return queue.popleft() if queue else None

    async def _control(self, request: Request) -> Response:
        action = request.path_params["action"]
        kwargs: JSON = dict(request.query_params)
        body = await request.body()
        try:
            if body:
                kwargs.update(json.loads(body))
            for key in {"count", "error_code", "http_status"} & kwargs.keys():
                kwargs[key] = int(kwargs[key]) if kwargs[key] is not None else None
            handlers: dict[str, Callable[..., Any]] = {
                "send_text": self.send_text, "send_image": self.send_image,
                "send_sticker": self.send_sticker, "send_unsupported": self.send_unsupported,
                "send_raw_update": self.send_raw_update, "redeliver": self.redeliver,
                "sent": self.sent, "calls": self.calls, "fail_next": self.fail_next,
                "webhook": self.webhook, "set_webhook_shape": self.set_webhook_shape,
                "reset": self.reset, "pending_updates": self.pending_updates,
                "is_polling": self.is_polling, "dump": self.dump,
            }  # fmt: skip
            if action not in handlers:
                return JSONResponse({"ok": False, "description": "unknown action"}, 404)
            result = handlers[action](**kwargs)
        except (ValueError, TypeError, KeyError) as exc:
            return JSONResponse({"ok": False, "description": str(exc)}, status_code=400)
        return JSONResponse({"ok": True, "result": result})

    # -------------------------------------------------------------- updates

    def _push(self, update: JSON, key: str | None = None) -> str:
        """Queue an update (for getUpdates or the webhook); returns its message_id."""
        message = update.get("message")
        message = message if isinstance(message, dict) else {}
        key = key or str(message.get("message_id") or random_id())
        with self._lock:
            chat = message.get("chat")
            if isinstance(chat, dict) and isinstance(chat.get("id"), str):
                sender = message.get("from")
                name = sender.get("display_name", "") if isinstance(sender, dict) else ""
                self._chats[chat["id"]] = str(name)
            self._history[key] = copy.deepcopy(update)
            self._pending.append(copy.deepcopy(update))
        self._notify()
        return key

    def _user_update(self, event: str, chat_id: str, display_name: str, **fields: Any) -> str:
        if not isinstance(chat_id, str) or not chat_id:
            raise ControlError("chat_id is a non-empty string (Zalo ids are strings)")
        message_id = random_id()
        message: JSON = {
            "message_id": message_id, "date": now_ms(),
            "from": {"id": chat_id, "display_name": display_name, "is_bot": False},
            "chat": {"id": chat_id, "chat_type": "PRIVATE"},
        }  # fmt: skip
        message.update({key: value for key, value in fields.items() if value is not None})
        return self._push({"event_name": event, "message": message}, message_id)

    async def _get_updates(self, params: JSON) -> JSON:
        raw = _str(params, "timeout")
        try:
            timeout = float(raw) if raw not in (None, "") else 30.0  # Zalo's default
        except ValueError as exc:
            raise bad("timeout must be a number of seconds") from exc
        if not math.isfinite(timeout):
            raise bad("timeout must be a number of seconds")
        deadline = time.monotonic() + min(max(timeout, 0.0), self.max_poll_timeout)
        while True:
            event = self._event
            assert event is not None
            with self._lock:
                if self._webhook_url:
                    raise bad(WEBHOOK_CONFLICT)
                if self._pending:
                    update = self._pending.pop(0)
                    self._notify()
                    return update
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._closing:
                raise ApiError(408, "Request timeout")
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
                    shape = self._webhook_shape
                if job is None:
                    await self._wait_event(event, wait)
                    continue
                url, secret, update = job
                body = update if shape == "bare" else {"ok": True, "result": update}
                headers = {
                    "Content-Type": "application/json",
                    "X-Bot-Api-Secret-Token": secret or "",
                }
                status, error = None, None
                try:
                    answer = await client.post(url, content=json.dumps(body), headers=headers)
                    status = answer.status_code
                except Exception as exc:  # any failure to deliver means "try again later"
                    error = f"Connection failed: {type(exc).__name__}: {exc}"
                self._delivered(url, shape, update, status, error)

    def _delivered(
        self, url: str, shape: str, update: JSON, status: int | None, error: str | None
    ) -> None:
        with self._lock:
            message = update.get("message")
            message_id = message.get("message_id") if isinstance(message, dict) else None
            self._deliveries.append({
                "message_id": message_id, "url": url, "shape": shape, "status": status,
                "error": error, "time": time.time(),
            })  # fmt: skip
            if status is not None and 200 <= status < 300:
                if self._pending and self._pending[0] is update:
                    self._pending.pop(0)
                self._retry_at = 0.0
            else:
                self._retry_at = time.monotonic() + self.webhook_retry_delay
        self._notify()

    # -------------------------------------------------------------- helpers for methods

    def _require_chat(self, params: JSON) -> str:
        chat_id = _str(params, "chat_id")
        if not chat_id:
            raise bad("chat_id is required")
        if chat_id not in self._chats:
            raise bad("chat not found: the user has not written to the bot")
        return chat_id

    def _text(self, params: JSON, name: str, required: bool) -> str | None:
        text = _str(params, name)
        if not text or not text.strip():
            if required:
                raise bad(f"{name} is empty")
            return None
        if utf16_len(text) > MAX_TEXT:
            raise bad(f"{name} is too long (at most {MAX_TEXT} characters)")
        return text

    def _take_quota(self) -> None:
        if self.quota_per_minute is None:
            return
        now = time.monotonic()
        while self._quota and now - self._quota[0] >= 60.0:
            self._quota.popleft()
        if len(self._quota) >= self.quota_per_minute:
            raise ApiError(429, "Quota exceeded", 429)
        self._quota.append(now)

    def _record(self, chat_id: str, kind: str, **fields: str | None) -> JSON:
        self._take_quota()
        item: JSON = {"message_id": random_id(), "date": now_ms(), "kind": kind, "text": None,
                      "photo": None, "caption": None, "sticker": None, **fields}  # fmt: skip
        self._sent.setdefault(chat_id, []).append(item)
        return {"message_id": item["message_id"], "date": item["date"]}

    # -------------------------------------------------------------- Bot API methods

    def _m_getMe(self, params: JSON) -> JSON:
        return dict(self.bot_info)

    def _m_sendMessage(self, params: JSON) -> JSON:
        chat_id = self._require_chat(params)
        return self._record(chat_id, "text", text=self._text(params, "text", required=True))

    def _m_sendPhoto(self, params: JSON) -> JSON:
        chat_id = self._require_chat(params)
        photo = _str(params, "photo") or ""
        if not _http_url(photo):
            raise bad("photo must be an http(s) URL of the picture")
        caption = self._text(params, "caption", required=False)
        return self._record(chat_id, "photo", photo=photo, caption=caption)

    def _m_sendSticker(self, params: JSON) -> JSON:
        chat_id = self._require_chat(params)
        sticker = _str(params, "sticker")
        if not sticker:
            raise bad("sticker is required")
        return self._record(chat_id, "sticker", sticker=sticker)

    def _m_sendChatAction(self, params: JSON) -> bool:
        self._require_chat(params)
        if _str(params, "action") not in CHAT_ACTIONS:
            raise bad("action must be one of: typing, upload_photo")
        return True

    def _m_setWebhook(self, params: JSON) -> JSON:
        url, secret = _str(params, "url") or "", _str(params, "secret_token") or ""
        if not _http_url(url, https_only=True):
            raise bad("url must be an HTTPS URL")
        if not SECRET_LENGTH[0] <= len(secret) <= SECRET_LENGTH[1]:
            raise bad("secret_token must have 8-256 characters")
        self._webhook_url, self._webhook_secret = url, secret
        self._webhook_updated_at, self._retry_at = now_ms(), 0.0
        self._notify()
        return self._m_getWebhookInfo(params)

    def _m_deleteWebhook(self, params: JSON) -> JSON:
        self._webhook_url, self._webhook_secret = "", None
        self._webhook_updated_at, self._retry_at = now_ms(), 0.0
        self._notify()
        return self._m_getWebhookInfo(params)

    def _m_getWebhookInfo(self, params: JSON) -> JSON:
        return {"url": self._webhook_url, "updated_at": self._webhook_updated_at}

    # -------------------------------------------------------------- control side

    def send_text(self, chat_id: str, text: str, display_name: str = "Bác Ba") -> str:
        """A resident writes `text` to the bot in a private chat; returns the message_id."""
        if not text:
            raise ControlError("a text message is not empty")
        return self._user_update("message.text.received", chat_id, display_name, text=text)

    def send_image(
        self,
        chat_id: str,
        photo_url: str,
        caption: str | None = None,
        display_name: str = "Bác Ba",
        *,
        photo_field: str = "photo_url",
    ) -> str:
        """A resident sends a picture; `photo_field="photo"` gives the docs' field name."""
        if photo_field not in ("photo_url", "photo"):
            raise ControlError("photo_field is photo_url or photo")
        fields = {photo_field: photo_url, "caption": caption}
        return self._user_update("message.image.received", chat_id, display_name, **fields)

    def send_sticker(
        self, chat_id: str, sticker: str = "0e078a2fb66a5f34067b", display_name: str = "Bác Ba"
    ) -> str:
        """A resident sends a sticker (its id and picture URL); returns the message_id."""
        url = f"https://zalo-api.zadn.vn/api/emoticon/sticker/webpc?eid={sticker}"
        return self._user_update(
            "message.sticker.received", chat_id, display_name, sticker=sticker, url=url
        )

    def send_unsupported(self, chat_id: str, display_name: str = "Bác Ba") -> str:
        """What arrives for content Zalo does not pass on (also from protected accounts)."""
        return self._user_update("message.unsupported.received", chat_id, display_name)

    def send_raw_update(self, update: JSON) -> str:
        """Queue an update of any shape as it is; returns its message_id (or a made-up key)."""
        if not isinstance(update, dict):
            raise ControlError("an update is a JSON object")
        return self._push(update)

    def redeliver(self, message_id: str) -> None:
        """Webhook mode: deliver that update once more (a duplicate), after pending ones."""
        with self._lock:
            if not self._webhook_url:
                raise ControlError("redeliver needs a webhook to be set")
            if message_id not in self._history:
                raise ControlError(f"no update with message_id {message_id}")
            self._pending.append(copy.deepcopy(self._history[message_id]))
        self._notify()

    def sent(self, chat_id: str) -> list[JSON]:
        """The bot's messages to that chat in order: message_id, date, kind, text, photo, ..."""
        with self._lock:
            return copy.deepcopy(self._sent.get(chat_id, []))

    def calls(self, method: str | None = None) -> list[JSON]:
        """Every Bot API call: method, params, status (HTTP), ok, error_code, ignored, ..."""
        with self._lock:
            return copy.deepcopy([c for c in self._calls if method in (None, c["method"])])

    def fail_next(
        self,
        method: str,
        count: int = 1,
        error_code: int = 429,
        http_status: int | None = None,
        description: str | None = None,
    ) -> None:
        """The next `count` calls of `method` fail; HTTP status defaults to error_code.

        `http_status=200` puts the error inside an HTTP 200 reply; 502 without a description
        answers a proxy's HTML page instead of JSON.
        """
        status = error_code if http_status is None else http_status
        if status == 502 and description is None:
            text = ""
        else:
            text = description or DEFAULT_DESCRIPTIONS.get(error_code, _phrase(error_code))
        with self._lock:
            queue = self._failures.setdefault(method, deque())
            queue.extend(ApiError(error_code, text, status) for _ in range(count))

    def webhook(self) -> JSON:
        """Webhook state: url, secret, shape, pending count, deliveries (message_id, status)."""
        with self._lock:
            return {
                "url": self._webhook_url, "secret": self._webhook_secret,
                "shape": self._webhook_shape, "pending": len(self._pending),
                "deliveries": copy.deepcopy(self._deliveries),
            }  # fmt: skip

    def set_webhook_shape(self, shape: str) -> None:
        """POST the bare update ("bare") or `{"ok": true, "result": update}` ("envelope")."""
        if shape not in WEBHOOK_SHAPES:
            raise ControlError(f"shape is one of {WEBHOOK_SHAPES}")
        with self._lock:
            self._webhook_shape = shape

    def is_polling(self) -> bool:
        """Whether a getUpdates long poll is waiting right now (the bot is listening)."""
        return self._waiting_polls > 0

    def pending_updates(self) -> list[JSON]:
        """Updates not yet returned by getUpdates or acknowledged by the webhook."""
        with self._lock:
            return copy.deepcopy(self._pending)

    def dump(self) -> JSON:
        """A compact, JSON-serialisable picture of the state, for failure messages."""

        def short(value: Any) -> Any:
            return value[:77] + "..." if isinstance(value, str) and len(value) > 80 else value

        with self._lock:
            webhook = self.webhook()
            webhook["deliveries"] = webhook["deliveries"][-10:]
            return {
                "sent": {chat: [{k: short(v) for k, v in m.items() if v is not None}
                                for m in messages] for chat, messages in self._sent.items()},
                "pending_updates": len(self._pending), "webhook": webhook,
                "last_calls": [
                    {"method": c["method"], "status": c["status"], "error_code": c["error_code"],
                     "params": {k: short(v) for k, v in c["params"].items()}}
                    for c in self._calls[-20:]
                ],
            }  # fmt: skip

    def reset(self) -> None:
        """Forget chats, updates, sent messages, calls, failures, quota and the webhook."""
        self._clear_state()
        self._notify()


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
