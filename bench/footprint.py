"""Benchmark: start-up time and memory (RSS) of `hocvuso serve`, idle and after a load.

.venv/bin/python bench/footprint.py            # full run, updates docs/benchmarks.md
.venv/bin/python bench/footprint.py --smoke    # one start, a few learners; prints only (CI)

Start-up is timed from process start to the first 200 of `/api/v1/health`, over several
starts on a fresh SQLite file, and split into its parts in-process (content, commune,
database migration, assistant). The load is many learners, each a web-chat client
(`POST /chat/messages`, the same engine and database as every channel) going through
consent, profile, a whole lesson and its quiz; RSS and its peak are read from /proc.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import run_line, write_section  # noqa: E402


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _memory_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a process in KiB: resident now, and its peak."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields["VmRSS"], fields["VmHWM"]


class Server:
    """`hocvuso serve` on a fresh SQLite file, timed from spawn to its first health 200."""

    def __init__(self, folder: Path) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "HOCVUSO_DATABASE_URL": f"sqlite:///{folder / 'hocvuso.db'}",
            "HOCVUSO_CONTENT_DIR": str(ROOT),
            "HOCVUSO_COMMUNE_FILE": str(ROOT / "commune.yaml"),
        }
        self.log = (folder / "server.log").open("wb")
        started = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hocvuso.cli", "serve", "--port", str(self.port)],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=self.log,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early; see {folder / 'server.log'}")
            try:
                if httpx.get(f"{self.base}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.02)  # polling for readiness, with a deadline
        else:
            raise RuntimeError("server did not answer in 120 s")
        self.startup_s = time.perf_counter() - started

    def memory_mib(self) -> tuple[float, float]:
        """RSS now and its peak, in MiB."""
        rss, peak = _memory_kib(self.process.pid)
        return rss / 1024, peak / 1024

    def stop(self) -> None:
        """Stop the server and wait for it."""
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


class Learner:
    """A web-chat client pressing the buttons the bot shows, by label."""

    def __init__(self, base: str) -> None:
        self.client = httpx.Client(base_url=base, timeout=30)
        self.replies: list[dict[str, Any]] = []
        self.requests = 0

    def send(self, body: dict[str, str]) -> str:
        """Post one message; keep the replies."""
        response = self.client.post("/chat/messages", json=body)
        response.raise_for_status()
        self.requests += 1
        self.replies = response.json()["replies"]
        return "\n".join(str(r["text"]) for r in self.replies)

    def press(self, label: str) -> str:
        """Press the first button whose label contains `label`."""
        for reply in self.replies:
            for button in reply["buttons"]:
                if label in button["label"]:
                    return self.send({"button": button["id"]})
        raise RuntimeError(f"no button {label!r}")

    def labels(self) -> list[str]:
        """The labels of the buttons on offer."""
        return [b["label"] for r in self.replies for b in r["buttons"]]

    def session(self) -> None:
        """Consent, profile, the first lesson of the path, and its quiz (first options)."""
        self.send({"text": "xin chào"})
        self.press("Đồng ý")
        self.press("Người dân")
        self.send({"text": "thon 1"})
        self.send({"text": "1960"})
        self.press("Học tiếp")
        for _ in range(10):
            if any("Làm bài kiểm tra" in label for label in self.labels()):
                break
            self.press("Tiếp")
        self.press("Làm bài kiểm tra")
        for _ in range(10):
            labels = self.labels()
            if not labels or any("Học bài tiếp" in label or "Làm lại" in label for label in labels):
                break
            text = "\n".join(str(r["text"]) for r in self.replies)
            if "gõ câu trả lời" in text:
                self.send({"text": "khong biet"})
            else:
                self.send({"button": self.replies[-1]["buttons"][0]["id"]})
        self.client.close()


def _load(base: str, learners: int, threads: int) -> tuple[int, float]:
    """Run `learners` sessions on `threads` threads; return requests made and seconds."""
    count = [0]
    lock = threading.Lock()
    queue = list(range(learners))

    def worker() -> None:
        while True:
            with lock:
                if not queue:
                    return
                queue.pop()
            learner = Learner(base)
            learner.session()
            with lock:
                count[0] += learner.requests

    started = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return count[0], time.perf_counter() - started


def _timed(step: Callable[[], object]) -> float:
    started = time.perf_counter()
    step()
    return (time.perf_counter() - started) * 1000


def startup_parts(folder: Path) -> dict[str, float]:
    """Milliseconds of each start-up part, in this process, on a fresh database."""
    from bot.assistant import Assistant
    from bot.commune import load_commune
    from bot.content import load_content
    from storage.db import make_engine, migrate

    parts: dict[str, float] = {}
    holder: dict[str, Any] = {}
    parts["content (load + check)"] = _timed(lambda: holder.update(c=load_content(ROOT)))
    parts["commune file"] = _timed(lambda: load_commune(ROOT / "commune.yaml"))
    engine = make_engine(f"sqlite:///{folder / 'parts.db'}")
    parts["database migration (fresh)"] = _timed(lambda: migrate(engine))
    parts["database migration (up to date)"] = _timed(lambda: migrate(engine))
    parts["assistant (index + classifier)"] = _timed(lambda: Assistant(holder["c"]))
    engine.dispose()
    return parts


def measure(starts: int, learners: int, threads: int) -> dict[str, Any]:
    """Start the server `starts` times; load the last one; return the figures."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        startups = []
        for number in range(starts):
            run = folder / f"run{number}"
            run.mkdir()
            server = Server(run)
            startups.append(server.startup_s)
            if number < starts - 1:
                server.stop()
        idle, _ = server.memory_mib()
        requests, seconds = _load(server.base, learners, threads)
        after, peak = server.memory_mib()
        server.stop()
        parts = startup_parts(folder)
    return {
        "starts": startups,
        "idle_mib": idle,
        "after_mib": after,
        "peak_mib": peak,
        "learners": learners,
        "threads": threads,
        "requests": requests,
        "load_s": seconds,
        "parts": parts,
    }


def render(figures: dict[str, Any]) -> str:
    """The figures as Markdown."""
    starts = figures["starts"]
    lines = [
        "| measure | value |",
        "|---|---|",
        f"| start-up to first health 200, median of {len(starts)} | "
        f"{statistics.median(starts):.2f} s (min {min(starts):.2f}, max {max(starts):.2f}) |",
        f"| RSS idle after start | {figures['idle_mib']:.0f} MiB |",
        f"| RSS after the load | {figures['after_mib']:.0f} MiB |",
        f"| peak RSS (VmHWM) | {figures['peak_mib']:.0f} MiB |",
        f"| load | {figures['learners']} web-chat learners on {figures['threads']} threads, "
        f"{figures['requests']} requests in {figures['load_s']:.1f} s |",
        "",
        "Where start-up goes (in-process, one run):",
        "",
        "| part | ms |",
        "|---|---|",
        *(f"| {name} | {ms:.0f} |" for name, ms in figures["parts"].items()),
    ]
    return "\n".join(lines)


def main() -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="1 start, 4 learners, no docs")
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--learners", type=int, default=200)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    sizes = (1, 4, 2) if args.smoke else (args.starts, args.learners, args.threads)
    figures = measure(*sizes)
    text = render(figures)
    print(text)
    if not args.smoke:
        body = "\n\n".join(
            [
                run_line(".venv/bin/python bench/footprint.py"),
                "`hocvuso serve` on a fresh SQLite file with the sample content; the load goes "
                "through the web chat endpoint (the engine, the database and the assistant are "
                "the same for every channel).",
                text,
            ]
        )
        write_section("Start-up and memory", body)
        print("updated docs/benchmarks.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
