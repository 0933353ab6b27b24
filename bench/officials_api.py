"""Benchmark: latency of the officials' coverage API on generated data, against plain SQL.

.venv/bin/python bench/officials_api.py            # commune (SQLite) + province (PostgreSQL)
.venv/bin/python bench/officials_api.py --smoke    # tiny data on both backends, prints only (CI)

Commune scale: 20,000 residents (learner rows), 400,000 progress events, SQLite (WAL).
Province scale: 1,700,000 residents across 90 communes, 15,000,000 events, PostgreSQL. The
schema holds one commune per deployment, so the province is modelled as ONE deployment whose
generated commune file lists 90 x 8 hamlets (ids `c01-thon-1` ... `c90-thon-8`).

The schema is made by the project's migrations (storage.db.migrate), so the real indexes are
measured. The real app (hocvuso.app.create_app) is served by uvicorn in a thread and asked
over HTTP with a real admin Bearer token; the per-token rate limit (120 a minute) is raised
for the run, nothing else is changed. In the same run, a hand-written SQL aggregate over the
raw tables (enrolled and core-path-completed per group and hamlet) is timed the same way: the
floor a plain query gives, without the API.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import random
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import sqlalchemy as sa  # noqa: E402
import uvicorn  # noqa: E402
import yaml  # noqa: E402

from api.auth import RateLimiter  # noqa: E402
from bench.report import run_line, write_section  # noqa: E402
from bot.content import TARGET_GROUPS, load_content  # noqa: E402
from bot.paths import core_path  # noqa: E402
from hocvuso.app import create_app  # noqa: E402
from hocvuso.services import build_services  # noqa: E402
from hocvuso.settings import Settings  # noqa: E402
from storage.db import make_engine, migrate  # noqa: E402
from storage.officials import OfficialStore  # noqa: E402
from storage.rollup import drop_triggers, sync_rollup  # noqa: E402

DEFAULT_PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
HAMLETS_PER_COMMUNE = 8
# Shares of the residents per target group (adults dominate, as in a rural commune).
GROUP_SHARES = {"adult": 0.70, "pupil": 0.20, "official": 0.015, "worker": 0.085}
# Of the residents the commune file counts, this share has consented (a learner row).
ENROLMENT = 0.88
CHECK_IDS = ("vneid_level2", "qr_transfer", "zalo_2fa", "dvc_online")
KINDS = ("lesson_started", "lesson_read", "quiz_started", "quiz_passed", "quiz_failed")
STARTED, READ, QUIZ, PASSED, FAILED = range(5)
HISTORY_DAYS = 300


@dataclass(frozen=True)
class Scale:
    """How much data to generate and how often to ask."""

    name: str
    communes: int
    residents: int
    events: int
    requests: int
    warmup: int


COMMUNE = Scale("commune", 1, 20_000, 400_000, 50, 5)
# Province requests take seconds each (see FINDINGS): few of them, or the run takes an hour.
PROVINCE = Scale("province", 90, 1_700_000, 15_000_000, 10, 1)
SMOKE_COMMUNE = Scale("commune (smoke)", 1, 400, 6_000, 10, 2)
SMOKE_PROVINCE = Scale("province (smoke)", 3, 600, 8_000, 10, 2)


@dataclass
class Dataset:
    """The generated commune file and what was loaded."""

    commune_file: Path
    hamlet_ids: list[str]
    learners: int
    events: int
    checks: int
    load_seconds: float
    index_seconds: float


# ---------------------------------------------------------------------------- generation


def hamlet_ids(scale: Scale) -> list[str]:
    """The hamlet ids: `thon-1`... for one commune, `c01-thon-1`... for a province."""
    if scale.communes == 1:
        return [f"thon-{h}" for h in range(1, HAMLETS_PER_COMMUNE + 1)]
    return [
        f"c{c:02d}-thon-{h}"
        for c in range(1, scale.communes + 1)
        for h in range(1, HAMLETS_PER_COMMUNE + 1)
    ]


def assign_learners(
    scale: Scale, hamlets: Sequence[str], rng: random.Random
) -> list[tuple[str | None, str | None]]:
    """(group, hamlet) of every learner: hamlets of uneven size, groups by GROUP_SHARES."""
    weights = [rng.uniform(0.6, 1.4) for _ in hamlets]
    groups = list(GROUP_SHARES)
    shares = list(GROUP_SHARES.values())
    people: list[tuple[str | None, str | None]] = []
    chosen_hamlets = rng.choices(hamlets, weights, k=scale.residents)
    chosen_groups = rng.choices(groups, shares, k=scale.residents)
    for hamlet, group in zip(chosen_hamlets, chosen_groups, strict=True):
        roll = rng.random()
        if roll < 0.01:
            people.append((None, None))  # consented, never chose a group
        elif roll < 0.03:
            people.append((group, None))  # no hamlet: counts commune-wide only
        else:
            people.append((group, hamlet))
    return people


def write_commune_file(
    path: Path, scale: Scale, hamlets: Sequence[str], people: Sequence[tuple[str | None, ...]]
) -> None:
    """A commune file whose populations are the learners divided by ENROLMENT."""
    counts: dict[tuple[str, str], int] = {}
    for group, hamlet in people:
        if group is not None and hamlet is not None:
            counts[hamlet, group] = counts.get((hamlet, group), 0) + 1
    data = {
        "commune": {
            "name": "Xã Mẫu (benchmark)" if scale.communes == 1 else "Tỉnh Mẫu (benchmark)",
            "province": "Tỉnh Mẫu",
            "placeholder_hamlets": True,
        },
        "hamlets": [
            {
                "id": hamlet,
                "name": f"Thôn {hamlet}",
                "population": {
                    group: round(counts.get((hamlet, group), 0) / ENROLMENT)
                    for group in TARGET_GROUPS
                },
            }
            for hamlet in hamlets
        ],
        "targets": [
            {"group": "official", "share": 1.0, "deadline": "2025-12-31"},
            {"group": "pupil", "share": 1.0, "deadline": "2025-12-31"},
            {"group": "adult", "share": 0.8, "deadline": "2025-12-31"},
            {"group": "adult", "share": 0.9, "deadline": "2026-12-31", "strictly_above": True},
            {"group": "worker", "share": 0.8, "deadline": "2025-12-31"},
            {"group": "worker", "share": 1.0, "deadline": "2026-12-31"},
        ],
    }
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def learner_rows(
    people: Sequence[tuple[str | None, str | None]], now: float, rng: random.Random
) -> Iterator[tuple[int, str, str, str | None, str | None, int, float]]:
    """(id, channel, chat_id, group, hamlet, birth_year, created epoch) per learner."""
    start = now - HISTORY_DAYS * 86400
    for index, (group, hamlet) in enumerate(people, start=1):
        channel = rng.choice(("telegram", "zalo", "zalo", "web"))
        born = {"pupil": 2010, "official": 1980, "worker": 1990}.get(group or "", 1965)
        # Sign-ups come in waves but keep going: more of them in the later months.
        created = start + (now - start - 86400) * rng.random() ** 0.8
        yield index, channel, f"bench-{index}", group, hamlet, born + rng.randint(-8, 8), created


def event_rows(
    learners: Sequence[tuple[int, str | None, float]],
    paths: dict[str, list[str]],
    optional: list[str],
    total: int,
    now: float,
    rng: random.Random,
) -> Iterator[tuple[int, int, int, float]]:
    """(learner, lesson index, kind, epoch) following lesson -> quiz flows, `total` events.

    Each learner works through their group's core path in order, stopping somewhere
    (some finish it); retries follow a failed quiz. Sessions are hours to days apart.
    Lesson indexes point into `optional` order: core lessons first, then the others.
    """
    lesson_index = {lesson: i for i, lesson in enumerate(optional)}
    mean_events = total / max(len(learners), 1)
    produced = 0

    def flows(learner_id: int, lessons: Sequence[str], t: float) -> Iterator[Any]:
        for lesson in lessons:
            t += rng.expovariate(1 / (2.5 * 86400))
            if t >= now:
                return
            index = lesson_index[lesson]
            yield learner_id, index, STARTED, t
            yield learner_id, index, READ, t + 120
            t += 300
            while True:
                yield learner_id, index, QUIZ, t
                if rng.random() < 0.78:
                    yield learner_id, index, PASSED, t + 90
                    break
                yield learner_id, index, FAILED, t + 90
                t += rng.uniform(600, 86400)
                if rng.random() < 0.25 or t >= now:
                    return  # gave up on this lesson for now
            t += 90

    # Lessons per learner: the mean that spends the budget, at ~4.6 events per lesson.
    mean_lessons = mean_events / 4.6
    for learner_id, group, created in learners:
        path = paths.get(group or "", [])
        if not path:
            continue
        extra = [lesson for lesson in optional if lesson not in path]
        if rng.random() < min(0.9, mean_lessons / (len(path) + 3)):
            lessons = path + rng.sample(extra, min(len(extra), rng.randint(0, 3)))
        else:
            lessons = path[: rng.randint(0, max(0, min(len(path) - 1, int(mean_lessons * 1.2))))]
        for row in flows(learner_id, lessons, created):
            if produced >= total:
                return
            produced += 1
            yield row
    # Top up to exactly `total` with optional lessons of random learners.
    while produced < total:
        learner_id, group, created = rng.choice(learners)
        if not paths.get(group or ""):
            continue
        for row in flows(learner_id, rng.sample(optional, 2), created):
            if produced >= total:
                return
            produced += 1
            yield row


def check_rows(
    learners: Sequence[tuple[int, str | None, float]], now: float, rng: random.Random
) -> Iterator[tuple[int, str, float]]:
    """Hands-on checks: ~15% of learners have skills signed off, ~8% confirmed on VNeID."""
    for learner_id, group, created in learners:
        if group is None:
            continue
        if rng.random() < 0.15:
            for check in rng.sample(CHECK_IDS, rng.randint(1, 2)):
                yield learner_id, check, created + (now - created) * rng.random()
        if rng.random() < 0.08:
            yield learner_id, "platform_confirmed", created + (now - created) * rng.random()


# ---------------------------------------------------------------------------- loading


def _sqlite_time(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _pg_time(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00")


def generate_and_load(url: str, scale: Scale, workdir: Path, seed: int = 7) -> Dataset:
    """Generate the scale's data and bulk-load it into the migrated database at `url`."""
    rng = random.Random(seed)
    now = time.time() - 60
    content = load_content(ROOT)
    paths = {group: order_path(content, group) for group in TARGET_GROUPS}
    ordered = list(dict.fromkeys([lesson for path in paths.values() for lesson in path]))
    lessons = ordered + [lesson for lesson in content.lessons if lesson not in ordered]
    hamlets = hamlet_ids(scale)
    people = assign_learners(scale, hamlets, rng)
    commune_file = workdir / f"commune-{scale.communes}.yaml"
    write_commune_file(commune_file, scale, hamlets, people)
    engine = make_engine(url)
    migrate(engine)
    started = time.perf_counter()
    learners = list(learner_rows(people, now, rng))
    brief = [(row[0], row[3], row[6]) for row in learners]
    events = event_rows(brief, paths, lessons, scale.events, now, rng)
    checks = list(check_rows(brief, now, rng))
    if engine.dialect.name == "sqlite":
        index_seconds = _load_sqlite(engine, learners, events, checks, lessons)
    else:
        index_seconds = _load_postgres(engine, learners, events, checks, lessons)
    load_seconds = time.perf_counter() - started
    with engine.connect() as connection:
        count = connection.execute(sa.text("SELECT count(*) FROM progress_event")).scalar_one()
    engine.dispose()
    return Dataset(
        commune_file, hamlets, len(learners), count, len(checks), load_seconds, index_seconds
    )


def order_path(content: Any, group: str) -> list[str]:
    """The group's core path in teaching order (paths.yaml order, else content order)."""
    core = core_path(content, group)
    path = content.path_for(group, None)
    if path is not None:
        return [lesson for lesson in path.core if lesson in core]
    return [lesson for lesson in content.lessons if lesson in core]


def _load_sqlite(
    engine: sa.Engine,
    learners: Sequence[tuple[Any, ...]],
    events: Iterator[tuple[int, int, int, float]],
    checks: Sequence[tuple[int, str, float]],
    lessons: Sequence[str],
) -> float:
    # A bulk load does not maintain the coverage rollup row by row: it is rebuilt from the
    # raw rows at start-up (storage.rollup.sync_rollup reinstalls the triggers).
    with engine.begin() as connection:
        drop_triggers(connection)
    raw = engine.raw_connection()
    try:
        db = raw.driver_connection
        assert db is not None
        db.execute("PRAGMA synchronous=OFF")
        db.execute("PRAGMA cache_size=-400000")
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO learner (id, channel, chat_id, target_group, hamlet_id, birth_year,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            ((*row[:6], _sqlite_time(row[6])) for row in learners),
        )
        db.executemany(
            "INSERT INTO progress_event (learner_id, lesson_id, kind, score, total, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                (
                    learner,
                    lessons[lesson],
                    KINDS[kind],
                    *((3, 3) if kind == PASSED else (1, 3) if kind == FAILED else (None, None)),
                    _sqlite_time(at),
                )
                for learner, lesson, kind, at in events
            ),
        )
        db.executemany(
            "INSERT INTO hands_on_check (learner_id, check_id, signed_by, signed_at)"
            " VALUES (?, ?, NULL, ?)",
            ((learner, check, _sqlite_time(at)) for learner, check, at in checks),
        )
        db.execute("COMMIT")
        started = time.perf_counter()
        db.execute("ANALYZE")
        return time.perf_counter() - started
    finally:
        raw.close()


def _plain_indexes(connection: Any, tables: Sequence[str]) -> list[tuple[str, str]]:
    """(name, definition) of the indexes on `tables` that back no constraint."""
    rows = connection.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = ANY(%s)"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
        (list(tables),),
    ).fetchall()
    return [(name, definition) for name, definition in rows]


def _load_postgres(
    engine: sa.Engine,
    learners: Sequence[tuple[Any, ...]],
    events: Iterator[tuple[int, int, int, float]],
    checks: Sequence[tuple[int, str, float]],
    lessons: Sequence[str],
) -> float:
    raw = engine.raw_connection()
    try:
        db = raw.driver_connection
        assert db is not None
        db.autocommit = True
        tables = ["learner", "progress_event", "hands_on_check"]
        # The migrations' own index definitions, dropped for the load and re-created as they
        # were: a bulk load builds an index far faster than it maintains one row by row.
        indexes = _plain_indexes(db, tables)
        for name, _ in indexes:
            db.execute(f'DROP INDEX "{name}"')
        # Generated rows are consistent by construction: skip the per-row foreign-key checks.
        db.execute("SET session_replication_role = replica")
        with db.cursor().copy(
            "COPY learner (id, channel, chat_id, target_group, hamlet_id, birth_year,"
            " created_at) FROM STDIN"
        ) as copy:
            for row in learners:
                copy.write_row((*row[:6], _pg_time(row[6])))
        db.execute(
            "CREATE UNLOGGED TABLE bench_event_stage (learner_id int, lesson smallint,"
            " kind smallint, at double precision)"
        )
        with db.cursor().copy("COPY bench_event_stage FROM STDIN") as copy:
            buffer = io.StringIO()
            for number, (learner, lesson, kind, at) in enumerate(events, start=1):
                buffer.write(f"{learner}\t{lesson}\t{kind}\t{at:.6f}\n")
                if number % 200_000 == 0:
                    copy.write(buffer.getvalue())
                    buffer = io.StringIO()
            copy.write(buffer.getvalue())
        names = ", ".join(f"({i}, '{lesson}')" for i, lesson in enumerate(lessons))
        kinds = ", ".join(f"({i}, '{kind}')" for i, kind in enumerate(KINDS))
        db.execute(
            "INSERT INTO progress_event (learner_id, lesson_id, kind, score, total, created_at)"
            " SELECT s.learner_id, l.name, k.name,"
            f" CASE s.kind WHEN {PASSED} THEN 3 WHEN {FAILED} THEN 1 END,"
            f" CASE WHEN s.kind IN ({PASSED}, {FAILED}) THEN 3 END, to_timestamp(s.at)"
            f" FROM bench_event_stage s JOIN (VALUES {names}) AS l(i, name) ON l.i = s.lesson"
            f" JOIN (VALUES {kinds}) AS k(i, name) ON k.i = s.kind ORDER BY s.learner_id"
        )
        db.execute("DROP TABLE bench_event_stage")
        with db.cursor().copy(
            "COPY hands_on_check (learner_id, check_id, signed_at) FROM STDIN"
        ) as copy:
            for learner, check, at in checks:
                copy.write_row((learner, check, _pg_time(at)))
        db.execute("SET session_replication_role = DEFAULT")
        db.execute("SELECT setval('learner_id_seq', (SELECT max(id) FROM learner))")
        started = time.perf_counter()
        db.execute("SET maintenance_work_mem = '1GB'")
        for _, definition in indexes:
            db.execute(definition)
        db.execute("VACUUM ANALYZE learner, progress_event, hands_on_check")
        return time.perf_counter() - started
    finally:
        raw.close()


# ---------------------------------------------------------------------------- measuring


def plain_sql(engine: sa.Engine, paths: dict[str, list[str]]) -> str:
    """The hand-written floor: enrolled and core-path-completed per group and hamlet."""
    pairs = ", ".join(
        f"('{group}', '{lesson}')" for group, lessons in paths.items() for lesson in lessons
    )
    lengths = ", ".join(f"('{group}', {len(lessons)})" for group, lessons in paths.items())
    return f"""
        WITH path(target_group, lesson_id) AS (VALUES {pairs}),
             length(target_group, n) AS (VALUES {lengths}),
             done AS (
               SELECT l.id FROM learner l
               JOIN progress_event e ON e.learner_id = l.id AND e.kind = 'quiz_passed'
               JOIN path p ON p.target_group = l.target_group AND p.lesson_id = e.lesson_id
               WHERE e.created_at <= :now AND l.created_at <= :now
               GROUP BY l.id, l.target_group
               HAVING count(DISTINCT e.lesson_id)
                      = (SELECT n FROM length WHERE length.target_group = l.target_group))
        SELECT l.target_group, l.hamlet_id, count(*), count(done.id)
        FROM learner l LEFT JOIN done ON done.id = l.id
        WHERE l.target_group IS NOT NULL AND l.created_at <= :now {{hamlet}}
        GROUP BY l.target_group, l.hamlet_id
    """


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[round(0.95 * (len(ordered) - 1))]


def timed(call: Callable[[], object], warmup: int, requests: int) -> tuple[float, float]:
    """p50 and p95 in milliseconds of `requests` calls after `warmup` untimed ones."""
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return _percentiles(samples)


def measure(url: str, data: Dataset, scale: Scale) -> dict[str, tuple[float, float]]:
    """p50/p95 of the endpoints over HTTP, and of the plain SQL floor, on the loaded data."""
    settings = Settings(
        database_url=url,
        commune_file=data.commune_file,
        content_dir=ROOT,
        inbox_worker=False,
    )
    content = load_content(ROOT)
    engine = make_engine(url)
    started = time.perf_counter()
    sync_rollup(engine, {group: core_path(content, group) for group in TARGET_GROUPS})
    engine.dispose()
    print(
        f"  rollup rebuilt from the raw rows at start-up in {time.perf_counter() - started:.1f} s"
    )
    services = build_services(settings)
    app = create_app(services)
    app.state.rate_limit = RateLimiter(1_000_000, 60)
    _, token = OfficialStore(services.database).add("benchmark", "admin")
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    results: dict[str, tuple[float, float]] = {}
    hamlet = data.hamlet_ids[len(data.hamlet_ids) // 2]
    try:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers) as client:

            def get(path: str) -> Callable[[], object]:
                def call() -> object:
                    response = client.get(path, timeout=120)
                    response.raise_for_status()
                    return response

                return call

            for label, path in (
                ("GET /api/v1/overview", "/api/v1/overview"),
                (
                    f"GET /api/v1/hamlets/{{id}} (one of {len(data.hamlet_ids)})",
                    f"/api/v1/hamlets/{hamlet}",
                ),
                (f"GET /api/v1/hamlets (all {len(data.hamlet_ids)})", "/api/v1/hamlets"),
            ):
                results[label] = timed(get(path), scale.warmup, scale.requests)
                print(f"  {label}: p50 {results[label][0]:.1f} ms, p95 {results[label][1]:.1f} ms")
        content = services.content
        paths = {group: order_path(content, group) for group in TARGET_GROUPS}
        sql = plain_sql(services.database, paths)
        now = dt.datetime.now(dt.UTC)
        floors = (
            ("plain SQL, whole commune", sa.text(sql.format(hamlet="")), {"now": now}),
            (
                "plain SQL, one hamlet",
                sa.text(sql.format(hamlet="AND l.hamlet_id = :hamlet")),
                {"now": now, "hamlet": hamlet},
            ),
        )
        with services.database.connect() as connection:
            for label, query, params in floors:
                results[label] = timed(
                    lambda q=query, p=params: connection.execute(q, p).all(),  # type: ignore[misc]
                    scale.warmup,
                    scale.requests,
                )
                print(f"  {label}: p50 {results[label][0]:.1f} ms, p95 {results[label][1]:.1f} ms")
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        services.database.dispose()
    return results


# ---------------------------------------------------------------------------- running


def run_sqlite(scale: Scale, workdir: Path) -> tuple[Dataset, dict[str, tuple[float, float]]]:
    """Generate, load and measure one scale on a fresh SQLite file."""
    url = f"sqlite:///{workdir / f'bench-{scale.communes}.db'}"
    data = generate_and_load(url, scale, workdir)
    print(
        f"{scale.name} on SQLite: {data.learners:,} learners, {data.events:,} events, "
        f"{data.checks:,} checks loaded in {data.load_seconds:.1f} s"
    )
    return data, measure(url, data, scale)


def run_postgres(
    scale: Scale, workdir: Path, admin_url: str, keep: bool
) -> tuple[Dataset, dict[str, tuple[float, float]]]:
    """Generate, load and measure one scale on a fresh PostgreSQL database."""
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"bench_{scale.name.split()[0]}_{os.getpid()}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    try:
        data = generate_and_load(url, scale, workdir)
        print(
            f"{scale.name} on PostgreSQL ({name}): {data.learners:,} learners, "
            f"{data.events:,} events, {data.checks:,} checks loaded in "
            f"{data.load_seconds:.1f} s (indexes built in {data.index_seconds:.1f} s)"
        )
        return data, measure(url, data, scale)
    finally:
        if keep:
            print(f"kept database {name}")
        else:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


FINDINGS = """
**Targets met** in the run above: p95 21 ms at commune scale (SQLite, target 50 ms) and
315-450 ms at province scale (PostgreSQL, target 500 ms), against 250 ms and 3.5 s for the
plain SQL aggregate over the raw tables. The margin for "all 720 hamlets" is small (450 ms).

How it got here, on the same generated data: first every request recomputed completion
from the raw events (province overview p95 15.8 s; one pass per table for both instants and
JIT off: 7.9 s; commune 1171 -> 788 ms). Then `learner_milestone` (migration 0006,
`storage/rollup.py`): per learner the instant the core path was completed and the first
sign-offs, kept exact by triggers on SQLite and PostgreSQL, rebuilt at start-up when the
content's core paths change (province 620 ms, commune 51 ms on a busy machine). Then
migration 0007 copied the learner's group, hamlet and creation time into that row, so a
request no longer joins it to every learner (the join spilled to disk): province 322 ms,
commune 21 ms. The figures are unchanged throughout: `tests/test_rollup.py` compares the
rollup's counts with the raw ones after random writes on both databases.

Where the time goes now, and how it grows: the enrolled count still reads every learner row
(about 270 ms of the province request, EXPLAIN ANALYZE), the milestone count the ~450 k
rollup rows of learners with a milestone. Both grow linearly with learners: 85 times the
residents of a commune cost 15 times the time. A province much larger than 1.7 M would need
per-(group, hamlet) counters for enrolment too. The rollup's rebuild at start-up (only after
the core paths change) took 0.3 s at commune scale and 7.7 s at province scale.
"""


def section(runs: list[tuple[str, Scale, Dataset, dict[str, tuple[float, float]]]]) -> str:
    """The benchmarks.md section for a full run."""
    lines = [
        run_line(".venv/bin/python bench/officials_api.py"),
        "",
        "Generated data, loaded in bulk into a schema made by the project's migrations. The",
        "real app served by uvicorn (one process), asked over HTTP with an admin Bearer token,",
        "one request at a time after a warm-up; the per-token rate limit is raised for the run.",
        "The plain SQL floor is a hand-written aggregate over the raw tables (enrolled and",
        "core-path-completed per group and hamlet as of now) run on one connection.",
        "",
        "| scale | backend | residents (learner rows) | hamlets | progress events | hands-on checks"
        " | load |",
        "|---|---|---|---|---|---|---|",
    ]
    for backend, scale, data, _ in runs:
        lines.append(
            f"| {scale.name} | {backend} | {data.learners:,} | {len(data.hamlet_ids)} | "
            f"{data.events:,} | {data.checks:,} | {data.load_seconds:.0f} s |"
        )
    lines += [
        "",
        "| scale | measure | requests | p50 | p95 | target p95 |",
        "|---|---|---|---|---|---|",
    ]
    for _, scale, _, results in runs:
        target = "50 ms" if scale.communes == 1 else "500 ms"
        for label, (p50, p95) in results.items():
            lines.append(
                f"| {scale.name} | {label} | {scale.requests} | {p50:.1f} ms | {p95:.1f} ms | "
                f"{target if label.startswith('GET') else ''} |"
            )
    return "\n".join(lines) + "\n" + FINDINGS


def main() -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny data, do not write docs")
    parser.add_argument("--scale", choices=("commune", "province", "both"), default="both")
    parser.add_argument("--requests", type=int, help="timed requests per measure")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("HOCVUSO_BENCH_POSTGRES_URL", DEFAULT_PG_ADMIN),
        help="admin URL of the PostgreSQL server",
    )
    args = parser.parse_args()
    commune, province = (SMOKE_COMMUNE, SMOKE_PROVINCE) if args.smoke else (COMMUNE, PROVINCE)
    if args.requests:
        commune = Scale(**{**commune.__dict__, "requests": args.requests})
        province = Scale(**{**province.__dict__, "requests": args.requests})
    runs = []
    with tempfile.TemporaryDirectory(prefix="hocvuso-bench-") as tmp:
        workdir = Path(tmp)
        if args.scale in ("commune", "both"):
            data, results = run_sqlite(commune, workdir)
            runs.append(("SQLite", commune, data, results))
        if args.scale in ("province", "both"):
            data, results = run_postgres(province, workdir, args.postgres, args.keep)
            runs.append(("PostgreSQL", province, data, results))
    if not args.smoke and args.scale == "both":
        write_section("Officials' API", section(runs))
        print("updated docs/benchmarks.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
