"""Tokens, roles, rate limits and the audit log on a small app built from the real dependencies.

The app here has dummy routes shaped like the officials' API; the real routes use the same
dependencies (api.auth) and the same middleware and audit router (api.audit).
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, HTTPException
from server import PROJECT

from api import audit
from api.auth import (
    AdminOfficial,
    CurrentOfficial,
    RateLimiter,
    ReportReader,
    ensure_hamlet_access,
    hamlet_scope,
)
from storage.db import make_engine, migrate
from storage.officials import OfficialRecord, OfficialStore


class FakeClock:
    """A monotonic clock the test moves by hand, so no test sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Api:
    """The test app, its client, its store and a token per role."""

    app: FastAPI
    client: httpx.AsyncClient
    store: OfficialStore
    tokens: dict[str, str]
    calls: list[str] = field(default_factory=list)


def build_app(store: OfficialStore, calls: list[str]) -> FastAPI:
    """The dependencies, middleware and audit router wired as the composition root does."""
    app = FastAPI()
    app.state.officials = store
    app.add_middleware(audit.AuditMiddleware)
    app.include_router(audit.router())

    @app.get("/api/v1/health")
    def health() -> dict[str, str]:
        calls.append("health")
        return {"status": "ok"}

    @app.get("/api/v1/public/summary")
    def public() -> dict[str, str]:
        calls.append("public")
        return {"commune": "x"}

    @app.get("/api/v1/overview")
    def overview(official: CurrentOfficial) -> dict[str, str | None]:
        calls.append("overview")
        return {"name": official.name, "scope": hamlet_scope(official)}

    @app.get("/api/v1/hamlets/{hamlet_id}")
    def hamlet(hamlet_id: str, official: CurrentOfficial) -> dict[str, str]:
        ensure_hamlet_access(official, hamlet_id)
        calls.append(f"hamlet {hamlet_id}")
        return {"hamlet": hamlet_id}

    @app.get("/api/v1/reports/lessons")
    def lessons(official: ReportReader) -> dict[str, str]:
        calls.append("lessons")
        return {"by": official.role}

    @app.post("/api/v1/admin/reload")
    def reload(official: AdminOfficial) -> dict[str, str]:
        calls.append("reload")
        return {"by": official.name}

    return app


def _client(app: FastAPI, *, raise_app_exceptions: bool = True) -> httpx.AsyncClient:
    # The whole app runs before the response is returned, audit write included: no waiting.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
    return httpx.AsyncClient(transport=transport, base_url="http://hocvuso.test")


@pytest.fixture
async def api(sqlite_url: str) -> AsyncIterator[Api]:
    engine = make_engine(sqlite_url)
    migrate(engine)
    store = OfficialStore(engine)
    tokens = {
        "admin": store.add("Chủ tịch xã", "admin")[1],
        "viewer": store.add("Văn phòng xã", "viewer")[1],
        "hamlet": store.add("Trưởng thôn Một", "hamlet", "thon-1")[1],
    }
    _, revoked = store.add("Cán bộ cũ", "admin")
    store.revoke("Cán bộ cũ")
    tokens["revoked"] = revoked
    calls: list[str] = []
    app = build_app(store, calls)
    async with _client(app) as client:
        yield Api(app, client, store, tokens, calls)
    engine.dispose()


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _get(api: Api, method: str, path: str, token: str | None) -> int:
    headers = {} if token is None else _auth(token)
    return (await api.client.request(method, path, headers=headers)).status_code


ROUTES = [
    ("GET", "/api/v1/overview"),
    ("GET", "/api/v1/hamlets/thon-1"),
    ("GET", "/api/v1/hamlets/thon-2"),
    ("GET", "/api/v1/reports/lessons"),
    ("POST", "/api/v1/admin/reload"),
    ("GET", "/api/v1/audit"),
]

# role -> expected status on each of ROUTES, in order.
MATRIX = {
    "admin": [200, 200, 200, 200, 200, 200],
    "viewer": [200, 200, 200, 200, 403, 403],
    "hamlet": [200, 200, 403, 403, 403, 403],
}


@pytest.mark.parametrize("role", sorted(MATRIX))
async def test_role_matrix(api: Api, role: str) -> None:
    statuses = [await _get(api, method, path, api.tokens[role]) for method, path in ROUTES]
    assert statuses == MATRIX[role]


@pytest.mark.parametrize(("method", "path"), ROUTES)
@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer hv_wrong",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "hv_no_scheme",
        "revoked",
    ],
)
async def test_no_wrong_or_revoked_token_is_401_with_one_message(
    api: Api, method: str, path: str, authorization: str | None
) -> None:
    headers = {}
    if authorization == "revoked":
        headers["Authorization"] = f"Bearer {api.tokens['revoked']}"
    elif authorization is not None:
        headers["Authorization"] = authorization

    response = await api.client.request(method, path, headers=headers)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json() == {"detail": "a valid API token is required"}
    assert api.calls == []


async def test_the_scheme_is_case_insensitive(api: Api) -> None:
    response = await api.client.get(
        "/api/v1/overview", headers={"Authorization": f"bearer {api.tokens['viewer']}"}
    )
    assert response.status_code == 200


async def test_routes_see_who_called_and_their_hamlet(api: Api) -> None:
    hamlet = await api.client.get("/api/v1/overview", headers=_auth(api.tokens["hamlet"]))
    viewer = await api.client.get("/api/v1/overview", headers=_auth(api.tokens["viewer"]))
    assert hamlet.json() == {"name": "Trưởng thôn Một", "scope": "thon-1"}
    assert viewer.json() == {"name": "Văn phòng xã", "scope": None}


async def test_forbidden_answers_say_why_and_never_run_the_route(api: Api) -> None:
    viewer = await api.client.post("/api/v1/admin/reload", headers=_auth(api.tokens["viewer"]))
    hamlet = await api.client.get("/api/v1/hamlets/thon-2", headers=_auth(api.tokens["hamlet"]))
    assert viewer.status_code == 403
    assert viewer.json() == {"detail": "admin only"}
    assert hamlet.status_code == 403
    assert hamlet.json() == {"detail": "this token may only read its own hamlet"}
    assert api.calls == []


def test_a_hamlet_token_without_a_hamlet_fails_closed() -> None:
    broken = OfficialRecord(1, "x", "hamlet", None, datetime.now(UTC))
    with pytest.raises(HTTPException) as raised:
        ensure_hamlet_access(broken, "thon-1")
    assert raised.value.status_code == 403


async def test_health_and_public_need_no_token(api: Api) -> None:
    assert await _get(api, "GET", "/api/v1/health", None) == 200
    assert await _get(api, "GET", "/api/v1/public/summary", None) == 200


# --- rate limits ---------------------------------------------------------------------------


async def test_the_token_limit_answers_429_with_retry_after_and_skips_the_route(api: Api) -> None:
    clock = FakeClock()
    api.app.state.rate_limit = RateLimiter(limit=3, window=60, clock=clock)
    admin = api.tokens["admin"]

    first = [await _get(api, "GET", "/api/v1/overview", admin) for _ in range(3)]
    clock.now += 20.5
    refused = await api.client.get("/api/v1/overview", headers=_auth(admin))

    assert first == [200, 200, 200]
    assert refused.status_code == 429
    # The first request leaves the window 60 s after it was made: 39.5 s from now, rounded up.
    assert refused.headers["Retry-After"] == "40"
    assert api.calls == ["overview"] * 3


async def test_the_limit_is_per_token(api: Api) -> None:
    api.app.state.rate_limit = RateLimiter(limit=2, window=60, clock=FakeClock())

    admin = [await _get(api, "GET", "/api/v1/overview", api.tokens["admin"]) for _ in range(3)]
    viewer = [await _get(api, "GET", "/api/v1/overview", api.tokens["viewer"]) for _ in range(2)]

    assert admin == [200, 200, 429]
    assert viewer == [200, 200]


async def test_the_window_slides(api: Api) -> None:
    clock = FakeClock()
    api.app.state.rate_limit = RateLimiter(limit=2, window=60, clock=clock)
    token = api.tokens["viewer"]

    assert await _get(api, "GET", "/api/v1/overview", token) == 200
    clock.now += 30
    assert await _get(api, "GET", "/api/v1/overview", token) == 200
    assert await _get(api, "GET", "/api/v1/overview", token) == 429
    clock.now += 30  # the first request has left the window, the second has not
    assert await _get(api, "GET", "/api/v1/overview", token) == 200
    assert await _get(api, "GET", "/api/v1/overview", token) == 429
    clock.now += 29.9
    response = await api.client.get("/api/v1/overview", headers=_auth(token))
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "1"  # 0.1 s, never "0"
    clock.now += 0.1
    assert await _get(api, "GET", "/api/v1/overview", token) == 200


async def test_wrong_tokens_from_one_address_are_limited_even_before_a_right_one(api: Api) -> None:
    clock = FakeClock()
    api.app.state.auth_failure_limit = RateLimiter(limit=3, window=60, clock=clock)

    wrong = [await _get(api, "GET", "/api/v1/overview", f"hv_guess{n}") for n in range(4)]
    right = await api.client.get("/api/v1/overview", headers=_auth(api.tokens["admin"]))

    assert wrong == [401, 401, 401, 429]
    # Same answer for a right token, so a guesser cannot tell they found one.
    assert right.status_code == 429
    assert right.headers["Retry-After"] == "60"
    clock.now += 60
    assert await _get(api, "GET", "/api/v1/overview", api.tokens["admin"]) == 200


async def test_requests_without_a_token_do_not_count_as_guesses(api: Api) -> None:
    api.app.state.auth_failure_limit = RateLimiter(limit=2, window=60, clock=FakeClock())

    statuses = [await _get(api, "GET", "/api/v1/overview", None) for _ in range(5)]

    assert statuses == [401] * 5
    assert await _get(api, "GET", "/api/v1/overview", api.tokens["admin"]) == 200


async def test_default_limits_are_made_on_first_use(api: Api) -> None:
    assert await _get(api, "GET", "/api/v1/overview", api.tokens["admin"]) == 200
    limiter = api.app.state.rate_limit
    assert isinstance(limiter, RateLimiter)
    assert (limiter.limit, limiter.window) == (120, 60)
    failures = api.app.state.auth_failure_limit
    assert (failures.limit, failures.window) == (30, 60)


def test_rate_limiter_forgets_idle_keys() -> None:
    clock = FakeClock()
    limiter = RateLimiter(limit=1, window=10, clock=clock)
    for n in range(100):
        assert limiter.acquire(f"10.0.0.{n}") is None
    clock.now += 10
    assert limiter.acquire("10.0.0.200") is None
    assert list(limiter._hits) == ["10.0.0.200"]


@pytest.mark.parametrize(("limit", "window"), [(0, 60), (1, 0), (1, -1)])
def test_rate_limiter_refuses_nonsense(limit: int, window: float) -> None:
    with pytest.raises(ValueError):
        RateLimiter(limit=limit, window=window)


# --- the audit log -------------------------------------------------------------------------


def _trail(api: Api) -> list[tuple[str | None, str | None, str, str, int]]:
    return [
        (e.official_name, e.role, e.method, e.path, e.status) for e in reversed(api.store.audit())
    ]


async def test_every_api_request_is_recorded_with_who_what_and_status(api: Api) -> None:
    await _get(api, "GET", "/api/v1/overview?week=2026-W10&x=" + "y" * 500, api.tokens["viewer"])
    await _get(api, "GET", "/api/v1/overview", None)
    await _get(api, "GET", "/api/v1/overview", "hv_wrong")
    await _get(api, "GET", "/api/v1/overview", api.tokens["revoked"])
    await _get(api, "POST", "/api/v1/admin/reload", api.tokens["viewer"])
    await _get(api, "GET", "/api/v1/hamlets/thon-2", api.tokens["hamlet"])
    await _get(api, "GET", "/api/v1/nothing-here", api.tokens["admin"])

    assert _trail(api) == [
        ("Văn phòng xã", "viewer", "GET", "/api/v1/overview", 200),
        (None, None, "GET", "/api/v1/overview", 401),
        (None, None, "GET", "/api/v1/overview", 401),
        (None, None, "GET", "/api/v1/overview", 401),
        ("Văn phòng xã", "viewer", "POST", "/api/v1/admin/reload", 403),
        ("Trưởng thôn Một", "hamlet", "GET", "/api/v1/hamlets/thon-2", 403),
        # No route, so no dependency ran and nobody was identified.
        (None, None, "GET", "/api/v1/nothing-here", 404),
    ]


async def test_rate_limited_requests_are_recorded_with_who(api: Api) -> None:
    api.app.state.rate_limit = RateLimiter(limit=1, window=60, clock=FakeClock())
    await _get(api, "GET", "/api/v1/overview", api.tokens["admin"])
    await _get(api, "GET", "/api/v1/overview", api.tokens["admin"])

    assert [entry[-1] for entry in _trail(api)] == [200, 429]
    assert {entry[0] for entry in _trail(api)} == {"Chủ tịch xã"}


async def test_health_public_and_other_paths_are_not_recorded(api: Api) -> None:
    await _get(api, "GET", "/api/v1/health", None)
    await _get(api, "GET", "/api/v1/public/summary", None)
    await _get(api, "GET", "/dashboard", None)
    await _get(api, "GET", "/api/docs", None)

    assert api.store.audit() == []


async def test_the_time_is_when_the_request_came(api: Api) -> None:
    before = datetime.now(UTC)
    await _get(api, "GET", "/api/v1/overview", api.tokens["admin"])
    after = datetime.now(UTC)

    [entry] = api.store.audit()
    assert before - timedelta(seconds=1) <= entry.at <= after
    assert entry.at.tzinfo is not None


async def test_a_failing_audit_write_is_logged_and_the_answer_stays(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(api.store, "record", broken)

    with caplog.at_level(logging.ERROR, logger="api.audit"):
        response = await api.client.get("/api/v1/overview", headers=_auth(api.tokens["admin"]))

    assert response.status_code == 200
    assert "could not write the audit entry for GET /api/v1/overview" in caplog.text
    assert "disk full" in caplog.text
    assert api.tokens["admin"] not in caplog.text


async def test_a_crashing_route_is_recorded_as_500(api: Api) -> None:
    @api.app.get("/api/v1/boom")
    def boom(official: CurrentOfficial) -> None:
        raise RuntimeError("boom")

    async with _client(api.app, raise_app_exceptions=False) as client:
        response = await client.get("/api/v1/boom", headers=_auth(api.tokens["admin"]))

    assert response.status_code == 500
    assert _trail(api) == [("Chủ tịch xã", "admin", "GET", "/api/v1/boom", 500)]


async def test_admins_read_the_audit_log_newest_first(api: Api) -> None:
    await _get(api, "GET", "/api/v1/overview", api.tokens["viewer"])
    await _get(api, "GET", "/api/v1/overview", None)

    response = await api.client.get("/api/v1/audit?limit=2", headers=_auth(api.tokens["admin"]))

    assert response.status_code == 200
    entries = response.json()["entries"]
    assert [(e["official"], e["role"], e["path"], e["status"]) for e in entries] == [
        (None, None, "/api/v1/overview", 401),
        ("Văn phòng xã", "viewer", "/api/v1/overview", 200),
    ]
    assert set(entries[0]) == {"at", "official", "role", "method", "path", "status"}
    # The read itself is on record once it has been answered.
    assert _trail(api)[-1] == ("Chủ tịch xã", "admin", "GET", "/api/v1/audit", 200)


@pytest.mark.parametrize("limit", ["0", "1001", "many"])
async def test_the_audit_limit_is_checked(api: Api, limit: str) -> None:
    response = await api.client.get(
        f"/api/v1/audit?limit={limit}", headers=_auth(api.tokens["admin"])
    )
    assert response.status_code == 422


async def test_the_audit_log_shows_no_token_or_hash(api: Api) -> None:
    await _get(api, "GET", "/api/v1/overview", api.tokens["viewer"])
    response = await api.client.get("/api/v1/audit", headers=_auth(api.tokens["admin"]))
    for token in api.tokens.values():
        assert token not in response.text


# --- the `hocvuso officials` commands --------------------------------------------------------


def _hocvuso(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hocvuso.cli", "officials", *args],
        cwd=PROJECT,
        env={**os.environ, "HOCVUSO_DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def cli_url(tmp_path: Path) -> str:
    # A database file that does not exist yet: the command must migrate it first.
    return f"sqlite:///{tmp_path / 'cli' / 'hocvuso.sqlite3'}"


def _store(url: str) -> OfficialStore:
    return OfficialStore(make_engine(url))


def test_cli_add_prints_only_the_token_and_it_authenticates(cli_url: str) -> None:
    result = _hocvuso(cli_url, "add", "Nguyễn Thị Lan", "--role", "admin")

    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    assert result.stdout == token + "\n"
    assert token.startswith("hv_")
    assert "shown only this once" in result.stderr
    assert token not in result.stderr
    official = _store(cli_url).authenticate(token)
    assert official is not None
    assert (official.name, official.role, official.hamlet_id) == ("Nguyễn Thị Lan", "admin", None)


def test_cli_add_a_hamlet_official(cli_url: str) -> None:
    result = _hocvuso(cli_url, "add", "Trưởng thôn", "--role", "hamlet", "--hamlet", "thon-2")

    assert result.returncode == 0, result.stderr
    official = _store(cli_url).authenticate(result.stdout.strip())
    assert official is not None
    assert (official.role, official.hamlet_id) == ("hamlet", "thon-2")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "boss"], "role must be one of admin, viewer, hamlet"),
        (["--role", "hamlet"], "role 'hamlet' needs a hamlet id"),
        (["--role", "viewer", "--hamlet", "thon-1"], "takes no hamlet id"),
        (["--role", "hamlet", "--hamlet", "thon-99"], "unknown hamlet 'thon-99'; known: thon-1"),
    ],
)
def test_cli_add_refuses_a_bad_role_or_hamlet_with_one_line(
    cli_url: str, args: list[str], message: str
) -> None:
    result = _hocvuso(cli_url, "add", "Lan", *args)

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("hocvuso: ")
    assert message in result.stderr
    assert _store(cli_url).list() == []


def test_cli_list_and_revoke(cli_url: str) -> None:
    lan = _hocvuso(cli_url, "add", "Lan", "--role", "viewer").stdout.strip()
    _hocvuso(cli_url, "add", "Hoa", "--role", "hamlet", "--hamlet", "thon-1")

    revoked = _hocvuso(cli_url, "revoke", "Lan")
    again = _hocvuso(cli_url, "revoke", "Lan")
    listed = _hocvuso(cli_url, "list")

    assert revoked.returncode == 0, revoked.stderr
    assert _store(cli_url).authenticate(lan) is None
    assert again.returncode == 1
    assert "no official named 'Lan'" in again.stderr
    assert listed.returncode == 0, listed.stderr
    header, first, second = listed.stdout.splitlines()
    assert header.split() == ["NAME", "ROLE", "HAMLET", "CREATED", "(UTC)", "REVOKED", "(UTC)"]
    assert first.split()[:3] == ["Lan", "viewer", "-"]
    assert first.split()[-1] != "-"  # revoked: a time
    assert second.split()[:3] == ["Hoa", "hamlet", "thon-1"]
    assert second.split()[-1] == "-"
    assert lan not in listed.stdout
    for official in _store(cli_url).list():
        assert official.name in listed.stdout


def test_cli_list_shows_no_hash(cli_url: str) -> None:
    token = _hocvuso(cli_url, "add", "Lan", "--role", "admin").stdout.strip()

    listed = _hocvuso(cli_url, "list")

    assert hashlib.sha256(token.encode()).hexdigest() not in listed.stdout
    assert token not in listed.stdout


def test_cli_list_on_an_empty_database(cli_url: str) -> None:
    result = _hocvuso(cli_url, "list")
    assert result.returncode == 0
    assert result.stdout == ""
    assert "no officials yet" in result.stderr
