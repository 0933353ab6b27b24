"""Benchmark: conversation throughput and latency through the real webhook path.

Many learners each do consent, the profile, a lesson's cards and its quiz by webhook updates
POSTed to `hocvuso serve` (inbox -> engine -> database -> replies to the fake Bot API), on
SQLite and on PostgreSQL, and the same update mix goes to the floor, a bare
python-telegram-bot echo bot behind the same web stack (`bench/echo_floor.py`), in the same
run and against the same fake Bot API (`tests/fakes/telegram_api.py`, in this process).

Latency of an update: POST sent (or, in the open-loop run, the moment it was due) -> the
first reply call the fake receives for that chat (sendMessage, editMessageText,
editMessageReplyMarkup or answerCallbackQuery); "complete" is -> the answer's last message
(the one carrying the keyboard), which is when the learner can go on.

.venv/bin/python bench/conversation.py            # full run, updates docs/benchmarks.md
.venv/bin/python bench/conversation.py --smoke    # tiny run, prints only (CI)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from fakes.telegram_api import FakeTelegram  # noqa: E402
from reliability import ANSWERS, HOOK_PATH, SECRET, webhook_env  # noqa: E402
from server import free_port, server_process  # noqa: E402

from bench.report import run_line  # noqa: E402
from bench.report import write_section as write_report_section  # noqa: E402
from storage.db import make_engine, normalise_url  # noqa: E402

TITLE = "Conversation throughput"
ADMIN_URL = os.environ.get(
    "HOCVUSO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
# Our own Bot API limiter at its maximum (settings allow up to 1000 calls/s), and the fake's
# flood limit off, so neither throttles: the stack's own capacity is what is measured.
MAX_RATE = "1000"
FAKE_FLOOD_LIMIT = 1_000_000
REPLY_DEADLINE = 30.0
# Chat ids are never reused within a run: a learner cut short keeps its place in the lesson.
CHATS = itertools.count(500_000)
REPLY_METHODS = ("sendMessage", "editMessageText", "editMessageReplyMarkup", "answerCallbackQuery")


class ProbeTelegram(FakeTelegram):
    """The fake Bot API, telling the driver the moment a reply call for a chat is carried out."""

    def __init__(self) -> None:
        super().__init__(flood_limit=FAKE_FLOOD_LIMIT)
        self.listener: Callable[[int, str, float, dict[str, Any] | None], None] | None = None

    def _heard(self, chat_id: int, method: str, message: dict[str, Any] | None) -> None:
        """Runs in the fake's thread, under its lock, right after the call succeeded."""
        if self.listener is not None:
            self.listener(chat_id, method, time.perf_counter(), message)

    def _m_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        result = super()._m_sendMessage(params)
        self._heard(int(result["chat"]["id"]), "sendMessage", result)
        return result

    def _m_editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        result = super()._m_editMessageText(params)
        self._heard(int(result["chat"]["id"]), "editMessageText", None)
        return result

    def _m_editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        result = super()._m_editMessageReplyMarkup(params)
        self._heard(int(result["chat"]["id"]), "editMessageReplyMarkup", None)
        return result

    def _m_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        result = super()._m_answerCallbackQuery(params)
        query = self._callbacks[str(params.get("callback_query_id"))]
        self._heard(query.chat_id, "answerCallbackQuery", None)
        return result


# ---------------------------------------------------------------- the driver


class Stop(Exception):
    """The run is over: the learner leaves."""


@dataclass
class Sample:
    """One update: its kind, when it was due, its first reply and its complete answer."""

    kind: str
    due: float
    first: float
    complete: float


@dataclass
class Step:
    """The update in flight for one chat and what has come back for it."""

    expect: str
    future: asyncio.Future[list[dict[str, Any]]]
    first: float | None = None
    complete: float | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)


class Pacer:
    """Closed loop: every learner goes as fast as its replies come, until `end`."""

    def __init__(self, seconds: float) -> None:
        self.end = time.perf_counter() + seconds

    async def ready(self) -> float:
        """When this update is due (now); Stop once the run is over."""
        now = time.perf_counter()
        if now >= self.end:
            raise Stop
        return now

    def start(self) -> None:
        """Nothing to start in a closed loop."""

    async def close(self) -> None:
        """Nothing to stop in a closed loop."""


class OpenPacer(Pacer):
    """Open loop: updates are due at a fixed rate, each taken by a learner whose turn it is.

    A learner still waiting for its previous answer cannot send, so with enough learners
    every due update finds one ready; a late one is timed from when it was due, so a slow
    server is not hidden by sending less (no coordinated omission).
    """

    def __init__(self, seconds: float, rate: float, learners: int) -> None:
        super().__init__(seconds)
        self.rate, self.learners = rate, learners
        self.ticks: asyncio.Queue[float | None] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None

    async def ready(self) -> float:
        """Wait for the next due update; Stop once the run is over."""
        due = await self.ticks.get()
        if due is None:
            self.ticks.put_nowait(None)
            raise Stop
        return due

    def start(self) -> None:
        """Begin issuing due times."""
        self.task = asyncio.create_task(self._tick())

    async def _tick(self) -> None:
        started = time.perf_counter()
        count = 0
        while True:
            due = started + count / self.rate
            if due >= self.end:
                break
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            self.ticks.put_nowait(due)
            count += 1
        self.ticks.put_nowait(None)

    async def close(self) -> None:
        """Stop issuing."""
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task


class Driver:
    """Plays learners against one bot: creates updates in the fake, POSTs them, times replies."""

    def __init__(self, fake: ProbeTelegram, hook: str, *, echo: bool, script: list[Any]) -> None:
        self.fake, self.hook, self.echo = fake, hook, echo
        self.floor_script = script
        self.steps: dict[int, Step] = {}
        self.samples: list[Sample] = []
        self.learned_script: list[tuple[str, str]] = []
        self.calls: Counter[str] = Counter()
        self.finished = 0
        self.errors: Counter[str] = Counter()
        self.loop = asyncio.get_running_loop()
        # aiohttp, not httpx: at hundreds of open connections httpx's pool costs the driver
        # more CPU per POST than the server spends on the update (bot/channels/telegram_http.py).
        self.client = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=REPLY_DEADLINE),
            connector=aiohttp.TCPConnector(limit=1000),
        )
        fake.listener = self._from_fake

    def _from_fake(self, chat: int, method: str, at: float, message: dict[str, Any] | None) -> None:
        self.loop.call_soon_threadsafe(self._heard, chat, method, at, message)

    def _heard(self, chat: int, method: str, at: float, message: dict[str, Any] | None) -> None:
        self.calls[method] += 1
        step = self.steps.get(chat)
        if step is None or step.future.done():
            return
        if step.first is None:
            step.first = at
        if message is None:
            return
        step.messages.append(message)
        texts = [m.get("text") or "" for m in step.messages]
        if message.get("reply_markup") and any(step.expect in t for t in texts):
            step.complete = at
            step.future.set_result(step.messages)

    async def close(self) -> None:
        """Close the HTTP client."""
        self.fake.listener = None
        await self.client.close()

    async def seat(self, pacer: Pacer) -> None:
        """One place in the room: a learner after another, until the run is over."""
        with contextlib.suppress(Stop):
            while True:
                chat = next(CHATS)
                try:
                    await (self.play_echo(chat, pacer) if self.echo else self.play(chat, pacer))
                    self.finished += 1
                except (AssertionError, TimeoutError, aiohttp.ClientError) as exc:
                    self.errors[type(exc).__name__] += 1
                finally:
                    self.steps.pop(chat, None)

    async def play(self, chat: int, pacer: Pacer) -> None:
        """Consent, profile, the lesson offered next, its quiz answered rightly."""
        script: list[tuple[str, str]] = []
        last = await self.say(chat, pacer, "/start", "Bạn có đồng ý", script)
        last = await self.press(chat, pacer, last, "Đồng ý", "Câu 1/3", script)
        last = await self.press(chat, pacer, last, "Người dân", "Câu 2/3", script)
        last = await self.say(chat, pacer, "thon 2", "Câu 3/3", script)
        last = await self.say(chat, pacer, "1957", "Bạn muốn làm gì?", script)
        last = await self.press(chat, pacer, last, "Học tiếp", "(1/", script)
        while "Làm bài kiểm tra" not in json.dumps(last[-1]["reply_markup"], ensure_ascii=False):
            last = await self.press(chat, pacer, last, "Tiếp", "📖", script)
        last = await self.press(chat, pacer, last, "Làm bài kiểm tra", "Câu 1/", script)
        for _ in range(10):
            if any("Chúc mừng" in (m.get("text") or "") for m in last):
                if not self.learned_script:
                    self.learned_script = script
                return
            question = last[-1].get("text") or ""
            how, answer = next(a for q, a in ANSWERS.items() if q in question)
            if how == "press":
                last = await self.press(chat, pacer, last, answer, "Đúng rồi", script)
            else:
                last = await self.say(chat, pacer, answer, "Đúng rồi", script)
        raise AssertionError(f"chat {chat}: quiz not passed")

    async def play_echo(self, chat: int, pacer: Pacer) -> None:
        """The same mix of typed messages and presses, to the echo bot."""
        last: list[dict[str, Any]] = []
        for kind, text in self.floor_script:
            if kind == "say":
                last = await self.say(chat, pacer, text, "", None)
            else:
                last = await self.press(chat, pacer, last, "Tiếp", "", None)

    async def say(
        self, chat: int, pacer: Pacer, text: str, expect: str, script: list[Any] | None
    ) -> list[dict[str, Any]]:
        """Type a message; return the messages of the complete answer."""
        if script is not None:
            script.append(("say", text))
        due = await pacer.ready()
        return await self.act(chat, "say", due, lambda: self.fake.send_message(chat, text), expect)

    async def press(
        self,
        chat: int,
        pacer: Pacer,
        last: list[dict[str, Any]],
        label: str,
        expect: str,
        script: list[Any] | None,
    ) -> list[dict[str, Any]]:
        """Press the newest button of the last answer whose label contains `label`."""
        if script is not None:
            script.append(("press", label))
        message_id, data = _button(last, label)
        due = await pacer.ready()
        return await self.act(
            chat, "press", due, lambda: self.fake.press_button(chat, message_id, data), expect
        )

    async def act(
        self, chat: int, kind: str, due: float, make: Callable[[], int], expect: str
    ) -> list[dict[str, Any]]:
        """Create the update in the fake, POST it as Telegram would, wait for the answer."""
        step = Step(expect, self.loop.create_future())
        self.steps[chat] = step
        update = self.fake.update(make())
        await self.deliver(json.dumps(update))
        messages = await asyncio.wait_for(step.future, REPLY_DEADLINE)
        assert step.first is not None and step.complete is not None
        self.samples.append(Sample(kind, due, step.first, step.complete))
        return messages

    async def deliver(self, body: str, tries: int = 3) -> None:
        """POST an update to the webhook; like Telegram, deliver it again if the connection
        broke (a keep-alive connection the server closed just as it was reused)."""
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
        for attempt in range(tries):
            try:
                async with self.client.post(self.hook, data=body, headers=headers) as answer:
                    await answer.read()
                    if answer.status != 200:
                        raise AssertionError(f"webhook answered {answer.status}")
                    return
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError):
                self.calls["webhook delivered again"] += 1
                if attempt == tries - 1:
                    raise


def _button(last: list[dict[str, Any]], label: str) -> tuple[int, str]:
    """The newest message of an answer with a button labelled `label`, and the button's data."""
    for message in reversed(last):
        for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
            for button in row:
                if label in button["text"] or button.get("callback_data") == "next":
                    return int(message["message_id"]), str(button["callback_data"])
    raise AssertionError(f"no button {label!r}")


# ---------------------------------------------------------------- measuring


def _cpu_of(pid: int) -> float:
    """CPU seconds (user + system) a process has used."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _postgres_cpu() -> float:
    """CPU seconds used by every PostgreSQL process on the machine."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() == "postgres":
                    total += _cpu_of(int(entry.name))
    return total


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Load:
    """What one run of the driver produced."""

    seconds: float
    window: tuple[float, float]
    samples: list[Sample]
    finished: int
    errors: Counter[str]
    calls: Counter[str]
    cpu: dict[str, float]


def _pct(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def figures(load: Load, warmup: float = 0.0) -> dict[str, float]:
    """Updates per second and latency percentiles (ms) of one run."""
    # Counted: updates due after the warm-up and answered before the run's planned end.
    start, end = load.window[0] + warmup, load.window[1]
    counted = [s for s in load.samples if s.due >= start and s.complete <= end]
    first = [(s.first - s.due) * 1000 for s in counted]
    complete = [(s.complete - s.due) * 1000 for s in counted]
    span = end - start
    half = start + span / 2
    early = sum(1 for s in counted if s.complete < half)
    late = sum(1 for s in counted if half <= s.complete)
    return {
        "updates": float(len(counted)),
        "rate": len(counted) / span if span > 0 else 0.0,
        "rate_first_half": early / (span / 2) if span > 0 else 0.0,
        "rate_second_half": late / (span / 2) if span > 0 else 0.0,
        "p50": _pct(first, 0.50),
        "p95": _pct(first, 0.95),
        "p99": _pct(first, 0.99),
        "c50": _pct(complete, 0.50),
        "c95": _pct(complete, 0.95),
        "c99": _pct(complete, 0.99),
        "mean_complete": statistics.fmean(complete) if complete else float("nan"),
    }


async def drive(
    fake: ProbeTelegram,
    hook: str,
    *,
    echo: bool,
    script: list[Any],
    learners: int,
    seconds: float,
    rate: float | None,
    pids: dict[str, int],
) -> tuple[Load, list[tuple[str, str]]]:
    """Run `learners` at once for `seconds`, closed loop or at `rate` updates per second."""
    driver = Driver(fake, hook, echo=echo, script=script)
    pacer: Pacer = Pacer(seconds) if rate is None else OpenPacer(seconds, rate, learners)
    cpu0 = {name: _cpu_of(pid) for name, pid in pids.items()}
    cpu0 |= {"bench (driver + fake)": _own_cpu(), "postgres": _postgres_cpu()}
    started = time.perf_counter()
    pacer.start()
    seats = [asyncio.create_task(driver.seat(pacer)) for _ in range(learners)]
    # Answers still missing a few seconds after the end are not waited for.
    _, late = await asyncio.wait(seats, timeout=seconds + 5)
    for task in late:
        task.cancel()
    await asyncio.gather(*seats, return_exceptions=True)
    await pacer.close()
    elapsed = time.perf_counter() - started
    cpu1 = {name: _cpu_of(pid) for name, pid in pids.items()}
    cpu1 |= {"bench (driver + fake)": _own_cpu(), "postgres": _postgres_cpu()}
    await driver.close()
    cpu = {name: (cpu1[name] - cpu0[name]) / elapsed for name in cpu0}
    window = (started, started + seconds)
    load = Load(elapsed, window, driver.samples, driver.finished, driver.errors, driver.calls, cpu)
    return load, driver.learned_script


# ---------------------------------------------------------------- systems under test


@contextlib.contextmanager
def postgres_database() -> Iterator[str | None]:
    """A fresh PostgreSQL database for one run, dropped afterwards; None if unreachable."""
    admin = sa.create_engine(
        normalise_url(ADMIN_URL), isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )
    name = f"hocvuso_bench_{secrets.token_hex(4)}"
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as error:
        print(f"bench: PostgreSQL unreachable, skipped ({error.orig})", file=sys.stderr)
        admin.dispose()
        yield None
        return
    try:
        yield normalise_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextlib.contextmanager
def hocvuso_server(fake: ProbeTelegram, url: str, log: Path) -> Iterator[tuple[str, int]]:
    """`hocvuso serve` in webhook mode against the fake; yields its hook URL and pid."""
    port = free_port()
    env = webhook_env(fake, url, port, telegram_max_rate=MAX_RATE)
    with server_process(env, log, deadline=60, port=port) as server:
        hook = f"{server.base}{HOOK_PATH}"
        fake.wait_for(lambda: fake.webhook()["url"] == hook, timeout=30, what="webhook")
        # From now on the driver delivers, as Telegram would; the fake does not.
        httpx.post(f"{fake.base_url}{fake.token}/deleteWebhook", trust_env=False)
        yield hook, server.process.pid


@contextlib.contextmanager
def floor_server(fake: ProbeTelegram, log: Path) -> Iterator[tuple[str, int]]:
    """The echo floor as its own uvicorn process; yields its hook URL and pid."""
    port = free_port()
    env = {
        **os.environ,
        "FLOOR_TOKEN": fake.token,
        "FLOOR_API_BASE": fake.base_url,
        "FLOOR_SECRET": SECRET,
        "PYTHONUNBUFFERED": "1",
    }
    command = [sys.executable, str(ROOT / "bench" / "echo_floor.py"), "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
        try:
            base = f"http://127.0.0.1:{port}"
            give_up = time.monotonic() + 30
            while True:
                if process.poll() is not None or time.monotonic() > give_up:
                    raise RuntimeError(f"echo floor did not start:\n{log.read_text()}")
                with contextlib.suppress(httpx.TransportError):
                    if httpx.get(f"{base}/api/v1/health", trust_env=False).status_code == 200:
                        break
                time.sleep(0.05)
            yield f"{base}{HOOK_PATH}", process.pid
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


class Profiler:
    """py-spy sampling the server while the closed loop runs (skipped if py-spy is missing)."""

    def __init__(self, pid: int, seconds: float, out: Path) -> None:
        self.out = out
        self.process: subprocess.Popen[bytes] | None = None
        spy = os.environ.get("PY_SPY") or shutil.which("py-spy")
        beside = Path(sys.executable).parent / "py-spy"  # pip install py-spy into the venv
        if spy is None and beside.is_file():
            spy = str(beside)
        if spy is None:
            return
        command = [spy, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate",
                   "200", "--nonblocking", "--format", "raw", "--output", str(out)]  # fmt: skip
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def stacks(self) -> Counter[str]:
        """Collapsed stacks and their sample counts, once py-spy has finished."""
        if self.process is None:
            return Counter()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return Counter()
        found: Counter[str] = Counter()
        if self.out.exists():
            for line in self.out.read_text(errors="replace").splitlines():
                stack, _, count = line.rpartition(" ")
                if count.isdigit():
                    found[stack] += int(count)
        return found


# The top package of a sample's innermost frame (py-spy shows paths relative to sys.path)
# -> what the time is spent on.
_LAYERS = {
    "sqlalchemy": "SQLAlchemy", "sqlmodel": "SQLAlchemy", "psycopg": "psycopg",
    "sqlite3": "sqlite3", "telegram": "python-telegram-bot",
    "httpx": "HTTP client (httpx, httpcore, anyio)",
    "httpcore": "HTTP client (httpx, httpcore, anyio)",
    "anyio": "HTTP client (httpx, httpcore, anyio)", "h11": "HTTP (h11)",
    "aiohttp": "HTTP client (aiohttp)", "multidict": "HTTP client (aiohttp)",
    "yarl": "HTTP client (aiohttp)",
    "uvicorn": "web server (uvicorn, starlette, FastAPI)",
    "starlette": "web server (uvicorn, starlette, FastAPI)",
    "fastapi": "web server (uvicorn, starlette, FastAPI)", "pydantic": "pydantic",
    "logging": "logging", "json": "json", "asyncio": "asyncio event loop and threads",
    "concurrent": "asyncio event loop and threads",
    "threading.py": "asyncio event loop and threads",
    "selectors.py": "asyncio event loop and threads", "bot": "hocvuso (bot/)",
    "storage": "hocvuso (storage/)", "api": "hocvuso (api/)", "hocvuso": "hocvuso (hocvuso/)",
    "<frozen importlib._bootstrap>": "imports inside functions",
    "<frozen importlib._bootstrap_external>": "imports inside functions",
}  # fmt: skip
# Project functions whose inclusive share tells the story of one update.
_SPANS = (
    ("webhook (check, parse, store)", "accept (bot/channels/webhooks.py"),
    ("SqlInbox._insert (store an update)", "_insert (storage/inbox.py"),
    ("SqlInbox.claim_due", "claim_due (storage/inbox.py"),
    ("SqlInbox.done_many", "done_many (storage/inbox.py"),
    ("SqlInbox.next_due_in", "next_due_in (storage/inbox.py"),
    ("Engine.respond", "respond (bot/engine/engine.py"),
    ("TelegramChannel.send (Bot API calls)", "send (bot/channels/telegram.py"),
    ("answer callback", "_answer (bot/channels/telegram.py"),
    ("close keyboard (edit)", "_close_keyboard (bot/channels/telegram.py"),
    ("Update.de_json", "de_json (telegram/_update.py"),
)


def _layer(frame: str) -> str:
    path = frame.rpartition("(")[2].rpartition(":")[0]
    return _LAYERS.get(path.split("/", 1)[0], "other")


def profile_summary(stacks: Counter[str]) -> list[str]:
    """Markdown lines: samples by library of the innermost frame, and by project span."""
    total = sum(stacks.values())
    if not total:
        return ["(no profile: py-spy not found; `pip install py-spy`, or set PY_SPY to its path)"]
    layers: Counter[str] = Counter()
    spans: Counter[str] = Counter()
    for stack, count in stacks.items():
        frames = stack.split(";")
        layers[_layer(frames[-1])] += count
        for name, needle in _SPANS:
            if any(needle in frame for frame in frames):
                spans[name] += count
    lines = [f"{total} samples of the server's busy threads (py-spy, 200/s, idle excluded).", ""]
    lines += ["| innermost frame in | share |", "|---|---|"]
    lines += [f"| {name} | {count / total:.0%} |" for name, count in layers.most_common(9)]
    lines += ["", "| inside (inclusive) | share |", "|---|---|"]
    lines += [f"| {name} | {spans[name] / total:.0%} |" for name, _ in _SPANS if spans[name]]
    return lines


def table_sizes(url: str) -> dict[str, int]:
    """Rows in the tables that grow with every update."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            count = "select count(*) from {}"
            return {
                table: int(connection.execute(sa.text(count.format(table))).scalar_one())
                for table in ("learner", "inbox_update", "applied_update", "progress_event")
            }
    finally:
        engine.dispose()


@dataclass
class Result:
    """One system's runs: closed loop (throughput), open loop (latency at the fixed rate)."""

    name: str
    closed: Load
    open: Load
    sizes: dict[str, int] = field(default_factory=dict)
    profile: list[str] = field(default_factory=list)


@dataclass
class Plan:
    """How big a run is."""

    learners: int
    closed_seconds: float
    warmup: float
    open_seconds: float
    rate: float
    profile: bool


async def measure(
    name: str,
    hook: str,
    fake: ProbeTelegram,
    pid: int,
    plan: Plan,
    *,
    echo: bool,
    script: list[Any],
    work: Path,
) -> tuple[Result, list[tuple[str, str]]]:
    """Closed loop then open loop against one running system."""
    print(f"{name}: closed loop, {plan.learners} learners, {plan.closed_seconds:.0f}s", flush=True)
    profiler = None
    closed_task = asyncio.create_task(
        drive(fake, hook, echo=echo, script=script, learners=plan.learners,
              seconds=plan.closed_seconds, rate=None, pids={"server": pid})
    )  # fmt: skip
    if plan.profile:
        await asyncio.sleep(plan.warmup)
        spy_seconds = max(plan.closed_seconds - plan.warmup - 1, 1)
        profiler = Profiler(pid, spy_seconds, work / f"{name}.pyspy.txt")
    closed, learned = await closed_task
    await asyncio.sleep(1)  # let the answers still in flight arrive before the next run
    print(f"{name}: open loop at {plan.rate:.0f}/s, {plan.open_seconds:.0f}s", flush=True)
    opened, more = await drive(
        fake, hook, echo=echo, script=script, learners=plan.learners,
        seconds=plan.open_seconds, rate=plan.rate, pids={"server": pid},
    )  # fmt: skip
    result = Result(name, closed, opened)
    if profiler is not None:
        result.profile = profile_summary(await asyncio.to_thread(profiler.stacks))
    return result, learned or more


DEFAULT_SCRIPT = [("say", "/start"), *[("press", "Tiếp")] * 2, ("say", "thon 2"),
                  ("say", "1957"), *[("press", "Tiếp")] * 8]  # fmt: skip


async def run_all(plan: Plan, work: Path, systems: list[str]) -> list[Result]:
    """Every system in turn, each with a fresh fake Bot API: SQLite, PostgreSQL, floor."""
    results: list[Result] = []
    script: list[Any] = DEFAULT_SCRIPT
    if "sqlite" in systems:
        with ProbeTelegram() as fake:
            sqlite_url = f"sqlite:///{work / 'bench.db'}"
            with hocvuso_server(fake, sqlite_url, work / "sqlite.log") as (hook, pid):
                result, learned = await measure(
                    "SQLite", hook, fake, pid, plan, echo=False, script=script, work=work
                )
            result.sizes = table_sizes(sqlite_url)
            results.append(result)
            script = learned or script
    if "postgres" in systems:
        with postgres_database() as url, ProbeTelegram() as fake:
            if url is not None:
                with hocvuso_server(fake, url, work / "postgres.log") as (hook, pid):
                    result, learned = await measure(
                        "PostgreSQL", hook, fake, pid, plan, echo=False, script=script, work=work
                    )
                result.sizes = table_sizes(url)
                results.append(result)
                script = learned or script
    if "floor" in systems:
        with ProbeTelegram() as fake, floor_server(fake, work / "floor.log") as (hook, pid):
            result, _ = await measure(
                "floor (PTB echo)", hook, fake, pid, plan, echo=True, script=script, work=work
            )
            results.insert(0, result)
    print(f"update mix per learner: {' '.join(kind for kind, _ in script)}")
    return results


# ---------------------------------------------------------------- report


def summary(results: list[Result], plan: Plan) -> tuple[list[str], bool]:
    """The figures as markdown lines, and whether every target was met."""
    floor = next((r for r in results if r.name.startswith("floor")), None)
    floor_rate = figures(floor.closed, plan.warmup)["rate"] if floor else 0.0
    lines = [
        "| system | updates/s (closed loop) | ratio to floor | p50 / p95 / p99 first reply at "
        f"{plan.rate:.0f}/s | p50 / p95 / p99 complete answer at {plan.rate:.0f}/s | "
        "achieved rate | Bot API calls per update |",
        "|---|---|---|---|---|---|---|",
    ]
    met = True
    for result in results:
        closed = figures(result.closed, plan.warmup)
        opened = figures(result.open)
        ratio = closed["rate"] / floor_rate if floor_rate else float("nan")
        calls = sum(result.closed.calls[m] for m in REPLY_METHODS)
        per_update = calls / max(len(result.closed.samples), 1)
        if result is not floor:
            met = met and ratio >= 0.5 and opened["p99"] < 100
        lines.append(
            f"| {result.name} | {closed['rate']:.0f} | {ratio:.0%} | "
            f"{opened['p50']:.0f} / {opened['p95']:.0f} / {opened['p99']:.0f} ms | "
            f"{opened['c50']:.0f} / {opened['c95']:.0f} / {opened['c99']:.0f} ms | "
            f"{opened['rate']:.0f}/s | {per_update:.1f} |"
        )
    return lines, met


def details(results: list[Result], plan: Plan) -> list[str]:
    """Run lengths, counts, CPU, growth and profiles, as markdown lines."""
    lines = []
    for result in results:
        closed, opened = figures(result.closed, plan.warmup), figures(result.open)
        cpu = ", ".join(
            f"{name} {share:.0%}" for name, share in result.closed.cpu.items() if share >= 0.01
        )
        errors = dict(result.closed.errors + result.open.errors)
        again = sum(r.calls["webhook delivered again"] for r in (result.closed, result.open))
        lines += [
            f"**{result.name}.** Closed loop {result.closed.seconds:.0f} s "
            f"({plan.warmup:.0f} s warm-up not counted): {int(closed['updates'])} updates, "
            f"{result.closed.finished} learners finished; throughput "
            f"{closed['rate_first_half']:.0f}/s in the first half, "
            f"{closed['rate_second_half']:.0f}/s in the second; complete-answer p50 "
            f"{closed['c50']:.0f} ms, p99 {closed['c99']:.0f} ms under that load. "
            f"Open loop {result.open.seconds:.0f} s: {int(opened['updates'])} updates. "
            f"CPU in the closed loop (share of one core): {cpu}."
            + (f" Learners cut short: {errors}." if errors else "")
            + (f" Webhook POSTs sent again after a dropped connection: {again}." if again else ""),
            "",
        ]
        if result.sizes:
            sizes = ", ".join(f"{table} {count}" for table, count in result.sizes.items())
            lines += [f"Rows afterwards: {sizes}.", ""]
        if result.profile:
            lines += [f"Where the {result.name} server's time goes (closed loop):", ""]
            lines += [*result.profile, ""]
    return lines


def write_section(results: list[Result], plan: Plan, table: list[str], notes: str) -> None:
    """Replace the conversation section of docs/benchmarks.md with this run's figures."""
    body = "\n".join(
        [
            run_line(".venv/bin/python bench/conversation.py")
            + " PostgreSQL at `HOCVUSO_TEST_POSTGRES_URL` (default the local `test` server; "
            "a fresh database is created and dropped). Profiles need `py-spy` "
            "(on PATH, in the venv, or at `PY_SPY`).",
            "",
            "Through the real webhook path: each update is made in the fake Bot API "
            "(`tests/fakes/telegram_api.py`, in the benchmark's process), POSTed to "
            "`/webhooks/telegram` of a real `hocvuso serve` (webhook mode, one process), "
            "stored in the inbox, run by the engine and answered by Bot API calls to the fake. "
            f"{plan.learners} learners at once each do consent, the three profile questions, "
            "the lesson offered next (its cards) and its quiz; a learner who finishes is "
            "replaced by a new one. Each learner sends its next update only once the answer "
            "to the previous one has fully arrived. The floor is `bench/echo_floor.py`: a bare "
            "python-telegram-bot echo bot (`MessageHandler`, `CallbackQueryHandler`, "
            "`concurrent_updates`, no rate limiter, no database) behind the same FastAPI/uvicorn "
            "stack, route and secret check, fed the same mix of typed messages and presses, "
            "against its own fresh copy of the same fake.",
            "",
            "Throughput: all learners in a closed loop; the updates answered per second after "
            "the warm-up. Latency: an open loop at a fixed rate, each update timed from when "
            "it was due (a late send is not hidden) to the first reply call the fake receives "
            "for that chat (sendMessage, editMessageText, editMessageReplyMarkup or "
            "answerCallbackQuery), and to the complete answer (its last message, with the "
            f"keyboard). Limits set aside: `HOCVUSO_TELEGRAM_MAX_RATE={MAX_RATE}` (the setting's "
            f"maximum; 30 by default) and the fake's flood limit at {FAKE_FLOOD_LIMIT:,} "
            "calls/s. The benchmark's own process (driver and fake) shares the 2 cores with "
            "the server and PostgreSQL.",
            "",
            *table,
            "",
            "Targets: hocvuso at least 50% of the floor's updates per second, and p99 under "
            f"100 ms at {plan.rate:.0f} updates per second.",
            "",
            *details(results, plan),
            notes,
        ]
    )
    write_report_section(TITLE, body)


def main() -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a tiny run; does not write docs")
    parser.add_argument("--learners", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30.0, help="closed loop length")
    parser.add_argument("--open-seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=100.0, help="open-loop updates per second")
    parser.add_argument("--systems", default="sqlite,postgres,floor")
    parser.add_argument("--notes", default="", help="text appended to the docs section")
    parser.add_argument("--keep", action="store_true", help="keep logs and profiles")
    args = parser.parse_args()
    if args.smoke:
        plan = Plan(8, closed_seconds=2, warmup=0.5, open_seconds=1.5, rate=10, profile=False)
    else:
        plan = Plan(args.learners, args.seconds, 5.0, args.open_seconds, args.rate, True)
    work = Path(tempfile.mkdtemp(prefix="hocvuso-bench-"))
    try:
        results = asyncio.run(run_all(plan, work, args.systems.split(",")))
        table, met = summary(results, plan)
        print("\n".join(table))
        print("\n".join(details(results, plan)))
        problems = [r.name for r in results if not r.closed.samples or not r.open.samples]
        if problems:
            print(f"bench: no answers from {problems}", file=sys.stderr)
            return 1
        if not args.smoke:
            write_section(results, plan, table, args.notes)
            print(f"updated docs/benchmarks.md (targets {'met' if met else 'NOT met'})")
    finally:
        if args.keep:
            print(f"logs and profiles kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
