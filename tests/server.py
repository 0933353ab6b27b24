"""Start the real `hocvuso serve` as a subprocess, and stop it cleanly."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

PROJECT = Path(__file__).resolve().parents[1]
# Settings whose values must never reach a log line, by the variable's name.
_SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD")
# Telegram bot tokens and officials' API tokens, whoever they belong to.
TOKEN_SHAPES = re.compile(r"\d{5,}:[A-Za-z0-9_-]{20,}|hv_[A-Za-z0-9_-]{20,}")
# Tokens the tests made while servers ran (officials' API tokens): no log may show them.
_never_logged: set[str] = set()


class LeakedSecret(AssertionError):
    """A server's log shows a token or a secret."""


def never_logged(*values: str) -> None:
    """Register secrets (say an official's new API token) that no server log may show."""
    _never_logged.update(values)


def secrets_of_env(env: Mapping[str, str]) -> set[str]:
    """The secret values in a server's environment: tokens, secrets, database passwords."""
    found = {
        value
        for name, value in env.items()
        if name.startswith("HOCVUSO_") and _SECRET_NAME.search(name) and value
    }
    url = env.get("HOCVUSO_DATABASE_URL")
    if url:
        password = make_url(url).password
        if password:
            found.add(str(password))
    return found


def assert_no_secrets(log: Path, secrets: Iterable[str]) -> None:
    """Fail if any line of `log` holds one of `secrets` or anything shaped like a token."""
    wanted = sorted({s for s in (*secrets, *_never_logged) if len(s) >= 6}, key=len)
    text = log.read_text(encoding="utf-8", errors="replace")
    for number, line in enumerate(text.splitlines(), 1):
        leaked = [s for s in wanted if s in line]
        shaped = TOKEN_SHAPES.search(line)
        if leaked or shaped:
            what = f"{len(leaked)} known secret(s)" if leaked else "a token-shaped value"
            raise LeakedSecret(f"{log}:{number}: the log shows {what}")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Server:
    """A running `hocvuso serve`: its base URL and its process."""

    base: str
    process: subprocess.Popen[bytes]

    def kill(self) -> None:
        """SIGKILL, as a power cut or the OOM killer would: no shutdown code runs."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


@contextmanager
def server_process(
    env: Mapping[str, str],
    log: Path,
    deadline: float = 30.0,
    port: int | None = None,
    *,
    secrets: Iterable[str] = (),
) -> Iterator[Server]:
    """Run `hocvuso serve` until the block ends (or `kill()`); yields it once it answers.

    Once it has stopped, its log must show none of the environment's secrets, nor `secrets`,
    nor any token registered with `never_logged`: otherwise `LeakedSecret`.
    """
    port = port or free_port()
    command = [sys.executable, "-m", "hocvuso.cli", "serve", "--port", str(port)]
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **env}
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=PROJECT, env=full_env, stdout=out, stderr=out)
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_until_up(base, process, log, deadline)
            yield Server(base, process)
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
    # Reached only when the block ended without an error, which must not be masked.
    assert_no_secrets(log, {*secrets_of_env(full_env), *secrets})


@contextmanager
def running_server(
    env: Mapping[str, str],
    log: Path,
    deadline: float = 30.0,
    port: int | None = None,
    *,
    secrets: Iterable[str] = (),
) -> Iterator[str]:
    """Run `hocvuso serve` until the block ends; yields its base URL once it answers."""
    with server_process(env, log, deadline, port, secrets=secrets) as server:
        yield server.base


def _wait_until_up(base: str, process: subprocess.Popen[bytes], log: Path, deadline: float) -> None:
    """Poll the health endpoint until it answers, the process dies, or time runs out."""
    give_up = time.monotonic() + deadline
    while time.monotonic() < give_up:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log.read_text(errors='replace')}")
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"server did not answer in {deadline}s:\n{log.read_text(errors='replace')}")
