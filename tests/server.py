"""Start the real `hocvuso serve` as a subprocess, and stop it cleanly."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

PROJECT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(
    env: Mapping[str, str], log: Path, deadline: float = 30.0, port: int | None = None
) -> Iterator[str]:
    """Run `hocvuso serve` until the block ends; yields its base URL once it answers."""
    port = port or free_port()
    command = [sys.executable, "-m", "hocvuso.cli", "serve", "--port", str(port)]
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **env}
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=PROJECT, env=full_env, stdout=out, stderr=out)
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_until_up(base, process, log, deadline)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


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
