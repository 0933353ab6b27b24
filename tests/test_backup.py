"""Backups and restores: SQLite online (`hocvuso backup`/`restore`), PostgreSQL with pg_dump.

The data is written through the app: the real `hocvuso serve` and its web chat, the
`hocvuso officials` command, the engine over the repository. A backup taken while another
process keeps writing must be one consistent moment; a restore must bring everything back
and be read by the service; a broken or foreign file must be refused, leaving all as it was.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from alembic import command
from dialog import Dialog, Press, Say, play
from dialog import make_engine as make_bot
from server import PROJECT, running_server
from sqlalchemy.engine import Engine

from hocvuso.cli import main
from storage.backup import backup_sqlite, database_in_use, head_revision
from storage.db import alembic_config, make_engine, migrate
from storage.officials import OfficialStore
from storage.records import LearnerKey
from storage.repository import SqlRepository

NOTICE = "Bạn có đồng ý không?"
MENU = "Bạn muốn làm gì?"
# Generous: start-up trains the assistant, slow on a loaded CI machine.
STARTUP = 120.0


@pytest.fixture
def sqlite_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Settings of a SQLite deployment in tmp_path, for `main()` here and for the server."""
    env = {
        "HOCVUSO_DATABASE_URL": f"sqlite:///{tmp_path / 'data' / 'hocvuso.db'}",
        "HOCVUSO_CONTENT_DIR": str(PROJECT),
        "HOCVUSO_COMMUNE_FILE": str(PROJECT / "commune.yaml"),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    # No stray .env file from the working directory.
    monkeypatch.chdir(tmp_path)
    return env


def _database(env: dict[str, str]) -> Path:
    return Path(env["HOCVUSO_DATABASE_URL"].removeprefix("sqlite:///"))


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run `hocvuso ARGV` in this process: exit status, stdout, stderr."""
    capsys.readouterr()
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


class WebChat:
    """A learner's browser on the real server: keeps the cookie, presses buttons by label."""

    def __init__(self, base: str, cookies: httpx.Cookies | None = None) -> None:
        self.client = httpx.Client(base_url=base, timeout=10, cookies=cookies)
        self.replies: list[dict[str, object]] = []

    def post(self, body: dict[str, str]) -> str:
        response = self.client.post("/chat/messages", json=body)
        assert response.status_code == 200, response.text
        self.replies = response.json()["replies"]
        return "\n".join(str(reply["text"]) for reply in self.replies)

    def press(self, label: str) -> str:
        buttons = [b for r in self.replies for b in r["buttons"]]  # type: ignore[attr-defined]
        found = [b["id"] for b in buttons if label in b["label"]]
        assert found, f"no button {label!r} among {[b['label'] for b in buttons]}"
        return self.post({"button": found[0]})


def _counts(database: Path) -> dict[str, int]:
    with closing(sqlite3.connect(database)) as connection, connection:
        names = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {
            name: connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
            for name in names
        }


def test_round_trip_through_the_running_service(
    sqlite_env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = _database(sqlite_env)
    status, token, _ = _run(capsys, "officials", "add", "Nguyễn Thị Lan", "--role", "viewer")
    assert status == 0
    token = token.strip()
    auth = {"Authorization": f"Bearer {token}"}

    with running_server(sqlite_env, tmp_path / "serve-1.log", deadline=STARTUP) as base:
        chat = WebChat(base)
        assert NOTICE in chat.post({"text": "/start"})
        chat.press("Đồng ý")
        chat.press("Người dân")
        chat.post({"text": "thon 1"})
        assert MENU in chat.post({"text": "1961"})
        assert "(1/" in chat.press("Học tiếp")
        chat.press("Tiếp")
        assert httpx.get(f"{base}/api/v1/overview", headers=auth).status_code == 200

        # Online: taken while the service runs, with its connections open.
        status, out, err = _run(capsys, "backup")
        assert status == 0, err
        backup = Path(out.strip())
        assert backup.parent == database.parent / "backups"
        assert backup.name.startswith("hocvuso-") and backup.suffix == ".db"
        saved = _counts(backup)
        assert saved["learner"] == 1 and saved["progress_event"] >= 1
        assert saved["official"] == 1 and saved["consent"] == 1

        # Life goes on after the backup: the learner deletes their data, the token is revoked.
        chat.post({"text": "xóa dữ liệu"})
        assert "Đã xóa hết dữ liệu" in chat.press("Xóa hết dữ liệu")
        assert _run(capsys, "officials", "revoke", "Nguyễn Thị Lan")[0] == 0
        assert httpx.get(f"{base}/api/v1/overview", headers=auth).status_code == 401

        # A running service's database is never overwritten.
        status, _, err = _run(capsys, "restore", str(backup))
        assert status == 2
        assert "in use" in err and "stop the service" in err and len(err.splitlines()) == 1

    status, out, err = _run(capsys, "restore", str(backup))
    assert status == 0, err
    assert f"restored {backup} into {database} (schema {head_revision()})" in out
    previous = next(database.parent.glob("hocvuso.db.before-restore-*"))
    assert str(previous) in out
    assert _counts(database) == saved
    # The database as it was before the restore is kept, deletion and revocation included.
    with closing(sqlite3.connect(previous)) as connection, connection:
        channels = connection.execute("SELECT channel FROM learner").fetchall()
        revoked = connection.execute("SELECT revoked_at FROM official").fetchone()[0]
    assert channels == [("deleted",)] and revoked is not None

    with running_server(sqlite_env, tmp_path / "serve-2.log", deadline=STARTUP) as base:
        # The token works again, and the same browser is back in its lesson, not at consent.
        assert httpx.get(f"{base}/api/v1/overview", headers=auth).status_code == 200
        again = WebChat(base, cookies=chat.client.cookies)
        assert NOTICE not in again.post({"text": "menu"})
        assert MENU in "\n".join(str(reply["text"]) for reply in again.replies)


# Writes learners and their steps until killed; each transaction keeps these invariants:
# learners == consents == conversations, progress events == 2 x (sum of versions - learners).
_WRITER = """
import itertools, sys
from storage.db import make_engine
from storage.records import Changes, Consent, EventKind, LearnerKey, ProgressEvent
from storage.repository import SqlRepository

repository = SqlRepository(make_engine(sys.argv[1]))
events = (
    ProgressEvent("bai-1", EventKind.LESSON_STARTED),
    ProgressEvent("bai-1", EventKind.LESSON_READ),
)
print("ready", flush=True)
for n in itertools.count():
    snapshot = repository.enrol(LearnerKey("web", f"w-{n}"), Consent("2026-01"), "menu", {})
    assert snapshot is not None
    for step in range(3):
        changes = Changes(state="lesson", data={"step": step}, events=events)
        assert repository.apply(snapshot.learner_id, snapshot.version + step, changes)
"""


def _learners(database: Path) -> int:
    with closing(sqlite3.connect(database, timeout=10)) as connection, connection:
        return int(connection.execute("SELECT count(*) FROM learner").fetchone()[0])


def test_a_backup_taken_while_another_process_writes_is_one_consistent_moment(
    sqlite_url: str, tmp_path: Path
) -> None:
    engine = make_engine(sqlite_url)
    migrate(engine)
    # Some bulk, so that copying takes long enough for the writer to commit meanwhile.
    with engine.begin() as connection:
        connection.execute(
            sa.text("INSERT INTO question_log (asked_at, answered, text) VALUES (:at, 0, :text)"),
            [{"at": "2026-01-01 00:00:00", "text": f"{n:06d} " + "x" * 280} for n in range(30_000)],
        )
    engine.dispose()
    database = Path(sqlite_url.removeprefix("sqlite:///"))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PROJECT), *sys.path])}
    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITER, sqlite_url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=PROJECT,
        env=env,
    )
    overlapped = 0
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "ready"
        while _learners(database) < 20:
            assert writer.poll() is None, writer.communicate()[1]
        for n in range(6):
            before = _learners(database)
            backup = tmp_path / "backups" / f"b{n}.db"
            backup_sqlite(database, backup)
            after = _learners(database)
            overlapped += after > before

            with closing(sqlite3.connect(backup)) as connection, connection:
                assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
                assert connection.execute("PRAGMA journal_mode").fetchone() == ("delete",)
                learners, consents, conversations, versions, events = connection.execute(
                    "SELECT (SELECT count(*) FROM learner), (SELECT count(*) FROM consent),"
                    " (SELECT count(*) FROM conversation),"
                    " (SELECT coalesce(sum(version), 0) FROM conversation),"
                    " (SELECT count(*) FROM progress_event)"
                ).fetchone()
                logged = connection.execute("SELECT count(*) FROM question_log").fetchone()[0]
            assert before <= learners <= after
            assert learners == consents == conversations
            assert events == 2 * (versions - conversations)
            assert logged == 30_000
            assert not Path(f"{backup}-wal").exists()
        assert writer.poll() is None, "the writer stopped while the backups were taken"
    finally:
        writer.kill()
        writer.communicate()
    # The writer committed during at least one backup: they really ran at the same time.
    assert overlapped >= 1


def _foreign(path: Path) -> None:
    with closing(sqlite3.connect(path)) as connection, connection:
        connection.execute("CREATE TABLE notes (body TEXT)")
        connection.execute("INSERT INTO notes VALUES ('not ours')")


def _unknown_revision(path: Path) -> None:
    with closing(sqlite3.connect(path)) as connection, connection:
        connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32))")
        connection.execute("INSERT INTO alembic_version VALUES ('9999_future')")


def _damaged(path: Path, good_backup: Path) -> None:
    # A real backup whose pages are overwritten in the middle: the header still says SQLite.
    data = bytearray(good_backup.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 8192] = b"\xff" * 8192
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("text", "is not a SQLite database"),
        ("missing", "cannot read"),
        ("foreign", "is not a hocvuso database (it has no alembic_version table)"),
        ("future", "schema revision '9999_future', unknown to this version of hocvuso"),
        ("damaged", "is damaged"),
        ("itself", "is the database itself"),
    ],
)
def test_restore_refuses_a_broken_or_foreign_file_and_changes_nothing(
    kind: str,
    message: str,
    sqlite_env: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    database = _database(sqlite_env)
    engine = make_engine(sqlite_env["HOCVUSO_DATABASE_URL"])
    migrate(engine)
    repository = SqlRepository(engine)
    play(
        Dialog(make_bot(repository), "keep-me"),
        [(Say("/start"), NOTICE), (Press("Đồng ý"), "Câu 1/3")],
    )
    engine.dispose()
    good = tmp_path / "good.db"
    backup_sqlite(database, good)
    # Bulk so the damage lands in table pages, not in free space.
    with closing(sqlite3.connect(good)) as connection, connection:
        connection.execute("CREATE TABLE padding (body TEXT)")
        connection.executemany("INSERT INTO padding VALUES (?)", [("p" * 500,)] * 400)
    bad = tmp_path / "bad.db"
    if kind == "text":
        bad.write_text("learner,chat_id\n1,42\n", encoding="utf-8")
    elif kind == "foreign":
        _foreign(bad)
    elif kind == "future":
        _unknown_revision(bad)
    elif kind == "damaged":
        _damaged(bad, good)
    elif kind == "itself":
        bad = database
    before = _counts(database)

    status, out, err = _run(capsys, "restore", str(bad))

    assert status == 2
    assert out == ""
    assert err.startswith("hocvuso: ") and message in err and len(err.splitlines()) == 1
    assert _counts(database) == before
    assert sorted(path.name for path in database.parent.iterdir()) == ["hocvuso.db"]


def test_restore_migrates_an_old_backup_forward(
    sqlite_env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A backup made by the first release: schema 0001, with a learner in a lesson.
    old = make_engine(f"sqlite:///{tmp_path / 'old' / 'hocvuso.db'}")
    with old.begin() as connection:
        command.upgrade(alembic_config(connection), "0001")
        connection.execute(
            sa.text(
                "INSERT INTO learner (channel, chat_id, target_group, hamlet_id, birth_year,"
                " created_at) VALUES ('telegram', '42', 'adult', 'thon-1', 1960,"
                " '2025-03-01 08:00:00.000000')"
            )
        )
        connection.execute(
            sa.text(
                "INSERT INTO conversation (learner_id, state, data, version, updated_at)"
                " VALUES (1, 'menu', '{}', 4, '2025-03-01 08:00:00.000000')"
            )
        )
    old.dispose()
    backup = tmp_path / "hocvuso-2025.db"
    backup_sqlite(tmp_path / "old" / "hocvuso.db", backup)

    status, out, err = _run(capsys, "restore", str(backup))

    assert status == 0, err
    assert f"(schema 0001, migrated to {head_revision()})" in out
    # No database was there before: nothing to keep aside.
    assert "previous" not in out
    engine = make_engine(sqlite_env["HOCVUSO_DATABASE_URL"])
    try:
        snapshot = SqlRepository(engine).load(LearnerKey("telegram", "42"))
        assert snapshot is not None and snapshot.version == 4 and snapshot.state == "menu"
    finally:
        engine.dispose()
    # The file handed in is left exactly as it was.
    with closing(sqlite3.connect(backup)) as connection, connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchone() == ("0001",)


def test_backup_never_overwrites_and_restore_force_is_explicit(
    sqlite_env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = _database(sqlite_env)
    assert _run(capsys, "officials", "add", "An", "--role", "admin")[0] == 0
    target = tmp_path / "mine.db"
    status, out, _ = _run(capsys, "backup", str(target))
    assert (status, out.strip()) == (0, str(target))

    status, _, err = _run(capsys, "backup", str(target))
    assert status == 2 and "exists already" in err

    # A process holding the database open, as a running service does.
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]);"
            " c.execute('select 1 from official').fetchall(); print('ready', flush=True);"
            " sys.stdin.read()",
            str(database),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        assert database_in_use(database)
        assert _run(capsys, "restore", str(target))[0] == 2
    finally:
        holder.communicate("")
    assert not database_in_use(database)
    status, out, err = _run(capsys, "restore", "--force", str(target))
    assert status == 0, err
    assert "restored" in out


def test_backup_on_postgres_points_to_pg_dump(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOCVUSO_CONTENT_DIR", str(PROJECT))
    monkeypatch.setenv("HOCVUSO_COMMUNE_FILE", str(PROJECT / "commune.yaml"))
    monkeypatch.setenv(
        "HOCVUSO_DATABASE_URL", "postgresql://hocvuso:s3cret-pw@db.example:5433/hocvuso"
    )

    for argv in (["backup"], ["restore", "x.dump"]):
        status, out, err = _run(capsys, *argv)

        assert status == 2 and out == ""
        assert len(err.splitlines()) == 1
        assert "docs/operations.md#backups" in err
        assert "--host=db.example --port=5433 --username=hocvuso --dbname=hocvuso" in err
        assert "s3cret-pw" not in err
    assert "pg_dump --format=custom --file=hocvuso-" in _run(capsys, "backup")[2]


def _libpq(url: str) -> str:
    """The URL as pg_dump and pg_restore take it (no SQLAlchemy driver name)."""
    return sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _table_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        names = sa.inspect(connection).get_table_names()
        return {
            name: connection.execute(sa.text(f'SELECT count(*) FROM "{name}"')).scalar_one()
            for name in names
        }


@pytest.fixture
def pg_tools() -> None:
    """Skip when the PostgreSQL client tools are not installed."""
    missing = [tool for tool in ("pg_dump", "pg_restore") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed")


@pytest.mark.postgres
@pytest.mark.usefixtures("pg_tools")
def test_pg_dump_and_pg_restore_round_trip(
    create_postgres_database: Callable[[], str], tmp_path: Path
) -> None:
    source_url = create_postgres_database()
    source = make_engine(source_url)
    migrate(source)
    repository = SqlRepository(source)
    play(
        Dialog(make_bot(repository), "pg-learner"),
        [
            (Say("/start"), NOTICE),
            (Press("Đồng ý"), "Câu 1/3"),
            (Press("Người dân"), "Câu 2/3"),
            (Press("Nà Lài"), "Câu 3/3"),
            (Say("1955"), MENU),
            (Press("Học tiếp"), "Thẻ một"),
            (Press("Tiếp"), "Thẻ hai"),
        ],
    )
    _, token = OfficialStore(source).add("Trần Văn Bình", "admin")
    snapshot = repository.load(LearnerKey("test", "pg-learner"))
    counts = _table_counts(source)
    source.dispose()
    dump = tmp_path / "hocvuso.dump"

    # The commands of docs/operations.md#backups, as written there.
    subprocess.run(
        ["pg_dump", "--format=custom", f"--file={dump}", f"--dbname={_libpq(source_url)}"],
        check=True,
        capture_output=True,
    )
    target_url = create_postgres_database()
    subprocess.run(
        [
            "pg_restore",
            "--no-owner",
            "--exit-on-error",
            f"--dbname={_libpq(target_url)}",
            str(dump),
        ],
        check=True,
        capture_output=True,
    )

    target = make_engine(target_url)
    try:
        migrate(target)  # nothing to do: the dump carries alembic_version
        assert _table_counts(target) == counts
        assert counts["learner"] == 1 and counts["progress_event"] >= 1
        restored = SqlRepository(target)
        assert restored.load(LearnerKey("test", "pg-learner")) == snapshot
        official = OfficialStore(target).authenticate(token)
        assert official is not None and official.name == "Trần Văn Bình"
        # Sequences came along: a new learner gets a fresh id, not one already taken.
        play(Dialog(make_bot(restored), "pg-newcomer"), [(Say("/start"), NOTICE)])
        play(Dialog(make_bot(restored), "pg-newcomer"), [(Say("đồng ý"), "Câu 1/3")])
        newcomer = restored.load(LearnerKey("test", "pg-newcomer"))
        assert snapshot is not None and newcomer is not None
        assert newcomer.learner_id > snapshot.learner_id
    finally:
        target.dispose()
