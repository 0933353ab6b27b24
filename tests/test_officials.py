"""OfficialStore on SQLite and PostgreSQL: tokens stored as hashes only, revocation, audit."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from storage.officials import OfficialRecord, OfficialStore


class Clock:
    """A settable clock, so times in the tests are exact."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(migrated_engine: Engine, clock: Clock) -> OfficialStore:
    return OfficialStore(migrated_engine, now=clock)


def _dump(engine: Engine) -> str:
    """Every row of every table, as text."""
    lines = []
    with engine.connect() as connection:
        for table in sa.inspect(connection).get_table_names():
            quoted = connection.dialect.identifier_preparer.quote(table)
            for row in connection.exec_driver_sql(f"SELECT * FROM {quoted}"):
                lines.append(f"{table}: {tuple(row)!r}")
    return "\n".join(lines)


def test_add_returns_a_prefixed_token_that_authenticates(store: OfficialStore) -> None:
    official, token = store.add("Nguyễn Thị Lan", "admin")

    assert token.startswith("hv_")
    assert len(token) >= 3 + 43
    assert official.name == "Nguyễn Thị Lan"
    assert official.role == "admin"
    assert official.hamlet_id is None
    assert official.created_at == datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    assert not official.revoked
    assert store.authenticate(token) == official


def test_each_token_is_new(store: OfficialStore) -> None:
    tokens = {store.add(f"cán bộ {n}", "viewer")[1] for n in range(5)}
    assert len(tokens) == 5


@pytest.mark.parametrize(
    "wrong",
    ["", "hv_", "hv_nope", "Bearer hv_x", "x" * 10_000, "hv_" + "a" * 500],
)
def test_wrong_tokens_match_nobody(store: OfficialStore, wrong: str) -> None:
    store.add("Lan", "admin")
    assert store.authenticate(wrong) is None


def test_a_token_with_one_character_changed_matches_nobody(store: OfficialStore) -> None:
    _, token = store.add("Lan", "admin")
    changed = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert store.authenticate(changed) is None


def test_only_the_hash_is_stored(migrated_engine: Engine, store: OfficialStore) -> None:
    official, token = store.add("Trưởng thôn Một", "hamlet", "thon-1")
    store.record(official, "GET", "/api/v1/hamlets/thon-1", 200)

    dump = _dump(migrated_engine)

    assert hashlib.sha256(token.encode()).hexdigest() in dump
    assert token not in dump
    assert token.removeprefix("hv_") not in dump
    if migrated_engine.dialect.name == "sqlite":
        # The raw file and its write-ahead log, in case a value hides from SELECT *.
        database = migrated_engine.url.database
        assert database is not None
        for path in Path(database).parent.iterdir():
            assert token.encode() not in path.read_bytes(), path


def test_the_hash_column_has_room_for_exactly_a_sha256(migrated_engine: Engine) -> None:
    columns = {c["name"]: c for c in sa.inspect(migrated_engine).get_columns("official")}
    assert columns["token_hash"]["type"].length == 64
    assert "token" not in columns


def test_revoke_stops_the_token_and_keeps_the_official(store: OfficialStore, clock: Clock) -> None:
    official, token = store.add("Lan", "viewer")
    clock.now += timedelta(days=3)

    assert store.revoke("Lan") == 1

    assert store.authenticate(token) is None
    [listed] = store.list()
    assert listed.id == official.id
    assert listed.revoked_at == clock.now
    assert listed.revoked


def test_revoking_twice_or_an_unknown_name_revokes_nothing(store: OfficialStore) -> None:
    store.add("Lan", "viewer")
    assert store.revoke("Lan") == 1
    assert store.revoke("Lan") == 0
    assert store.revoke("Nobody") == 0


def test_revoke_leaves_other_officials_alone(store: OfficialStore) -> None:
    _, lan = store.add("Lan", "viewer")
    _, minh = store.add("Minh", "admin")

    store.revoke("Lan")

    assert store.authenticate(lan) is None
    minh_record = store.authenticate(minh)
    assert minh_record is not None
    assert minh_record.name == "Minh"


def test_a_revoked_name_can_get_a_new_token(store: OfficialStore) -> None:
    first, old = store.add("Lan", "viewer")
    store.revoke("Lan")

    second, new = store.add("Lan", "admin")

    assert second.id != first.id
    assert store.authenticate(old) is None
    assert store.authenticate(new) == second
    assert [o.name for o in store.list()] == ["Lan", "Lan"]


def test_names_are_normalised_for_storage_and_lookup(store: OfficialStore) -> None:
    # "ễ" typed as e + two combining marks (NFD) is the same name as the composed one.
    decomposed = "Nguye\u0302\u0303n  Lan "
    official, _ = store.add(decomposed, "viewer")

    assert official.name == "Nguyễn Lan"
    with pytest.raises(ValueError, match="already has a token"):
        store.add("Nguyễn Lan", "admin")
    assert store.revoke("Nguyễn Lan") == 1


@pytest.mark.parametrize(
    ("name", "role", "hamlet", "message"),
    [
        ("Lan", "boss", None, "role must be one of admin, viewer, hamlet"),
        ("Lan", "hamlet", None, "role 'hamlet' needs a hamlet id"),
        ("Lan", "hamlet", "", "role 'hamlet' needs a hamlet id"),
        ("Lan", "admin", "thon-1", "role 'admin' reads every hamlet"),
        ("Lan", "viewer", "thon-1", "role 'viewer' reads every hamlet"),
        ("   ", "admin", None, "the name must not be empty"),
        ("L" * 81, "admin", None, "the limit is 80"),
    ],
)
def test_add_validates(
    store: OfficialStore, name: str, role: str, hamlet: str | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        store.add(name, role, hamlet)
    assert store.list() == []


def test_a_name_of_80_characters_fits(store: OfficialStore) -> None:
    official, _ = store.add("L" * 80, "admin")
    assert official.name == "L" * 80


def test_an_active_name_cannot_be_added_twice(store: OfficialStore) -> None:
    store.add("Lan", "viewer")
    with pytest.raises(ValueError, match="an official named 'Lan' already has a token"):
        store.add("Lan", "viewer")


def test_list_shows_everyone_oldest_first(store: OfficialStore, clock: Clock) -> None:
    store.add("Lan", "admin")
    clock.now += timedelta(minutes=1)
    store.add("Minh", "viewer")
    clock.now += timedelta(minutes=1)
    store.add("Hoa", "hamlet", "thon-2")

    listed = store.list()

    assert [(o.name, o.role, o.hamlet_id) for o in listed] == [
        ("Lan", "admin", None),
        ("Minh", "viewer", None),
        ("Hoa", "hamlet", "thon-2"),
    ]
    assert all(isinstance(o, OfficialRecord) for o in listed)


def test_audit_records_who_what_when_newest_first(store: OfficialStore, clock: Clock) -> None:
    official, _ = store.add("Lan", "admin")
    store.record(official, "GET", "/api/v1/overview", 200)
    clock.now += timedelta(seconds=5)
    store.record(None, "GET", "/api/v1/overview", 401)
    at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    store.record(official, "POST", "/api/v1/x", 403, at=at)

    entries = store.audit()

    assert [(e.official_name, e.role, e.method, e.path, e.status, e.at) for e in entries] == [
        ("Lan", "admin", "POST", "/api/v1/x", 403, at),
        (None, None, "GET", "/api/v1/overview", 401, clock.now),
        ("Lan", "admin", "GET", "/api/v1/overview", 200, clock.now - timedelta(seconds=5)),
    ]
    assert entries[0].official_id == official.id
    assert entries[1].official_id is None


def test_audit_limit(store: OfficialStore, clock: Clock) -> None:
    for n in range(5):
        clock.now += timedelta(seconds=1)
        store.record(None, "GET", f"/api/v1/{n}", 200)

    assert [e.path for e in store.audit(limit=2)] == ["/api/v1/4", "/api/v1/3"]
    for bad in (0, 1001):
        with pytest.raises(ValueError, match="between 1 and 1000"):
            store.audit(limit=bad)


def test_audit_entries_outlive_the_official(migrated_engine: Engine, store: OfficialStore) -> None:
    official, _ = store.add("Lan", "viewer")
    store.record(official, "GET", "/api/v1/overview", 200)

    with migrated_engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM official"))

    [entry] = store.audit()
    assert (entry.official_id, entry.official_name, entry.role) == (official.id, "Lan", "viewer")


def test_long_paths_and_odd_text_are_stored_cut(store: OfficialStore) -> None:
    store.record(None, "GET", "/api/v1/" + "x" * 1000 + "\x00", 404)

    [entry] = store.audit()

    assert len(entry.path) == 300
    assert entry.path.startswith("/api/v1/xxx")
