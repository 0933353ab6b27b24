"""Two processes write one SQLite file at once, for a sustained while: never "database is locked".

Each process (`sqlite_soak.py`) drives its own learners through the real engine and
`SqlRepository`, and files, claims and finishes inbox updates, as two workers of one
deployment do. Afterwards: no error in either process, every step they saw written is in
the database (conversation versions, applied updates), every inbox update is there, and the
file passes `PRAGMA integrity_check`.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from storage.db import make_engine, migrate

ROOT = Path(__file__).resolve().parents[1]
SOAK = Path(__file__).resolve().parent / "sqlite_soak.py"
# Long enough for thousands of interleaved write transactions; HOCVUSO_SOAK_SECONDS for more.
SECONDS = float(os.environ.get("HOCVUSO_SOAK_SECONDS", "12"))
WRITERS = ("p1", "p2")


def _one(database: Path, sql: str) -> Any:
    with sqlite3.connect(database) as connection:
        return connection.execute(sql).fetchone()[0]


@pytest.mark.slow
def test_two_processes_writing_for_a_while_never_see_a_locked_database(
    tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    """Both writers run the whole time; neither reports an error, and nothing is lost."""
    database = tmp_path / "soak.db"
    url = f"sqlite:///{database}"
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), *sys.path]))}
    processes = [
        subprocess.Popen(
            [sys.executable, str(SOAK), url, name, str(SECONDS)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=env,
        )
        for name in WRITERS
    ]
    try:
        for process in processes:
            assert process.stdout is not None
            assert process.stdout.readline().strip() == "ready", process.communicate()
        started = time.monotonic()
        for process in processes:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        outputs = [process.communicate(timeout=SECONDS + 60) for process in processes]
        elapsed = time.monotonic() - started
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()

    for (stdout, stderr), process in zip(outputs, processes, strict=True):
        assert "database is locked" not in stdout + stderr, stderr[-3000:]
        assert process.returncode == 0, stderr[-3000:]
    reports = [json.loads(stdout.strip().splitlines()[-1]) for stdout, _ in outputs]
    for report in reports:
        assert report["errors"] == [], report["errors"][:3]
        assert report["counts"]["busy"] == 0, report["counts"]
    counts = [report["counts"] for report in reports]
    record_property("counts", counts)
    record_property("seconds", round(elapsed, 1))
    # Both really wrote for the whole time, side by side (not one after the other).
    assert elapsed >= SECONDS
    for count in counts:
        assert count["written"] >= 100, counts
        assert count["written"] >= count["messages"] // 2, counts

    written = sum(count["written"] for count in counts)
    assert _one(database, "SELECT sum(version) FROM conversation") == written
    assert _one(database, "SELECT count(*) FROM applied_update") == written
    assert _one(database, "SELECT count(*) FROM learner") == 4 * len(WRITERS)
    added = sum(count["added"] for count in counts)
    assert _one(database, "SELECT count(*) FROM inbox_update") == added
    done = sum(count["done"] for count in counts)
    assert _one(database, "SELECT count(*) FROM inbox_update WHERE status = 'done'") == done
    assert _one(database, "PRAGMA integrity_check") == "ok"
    assert _one(database, "PRAGMA journal_mode") == "wal"
