"""Hypothesis throws hostile bodies at both webhooks, with the right secret: never a 5xx.

Malformed JSON gets 400, a body over 64 KB gets 413, JSON of the wrong shape gets 400, and a
rejected body leaves nothing in the inbox. Runs in process on the real app (`create_app`),
without its lifespan, so no worker drains the inbox and no platform is called.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from server import PROJECT

from bot.channels.webhooks import MAX_BODY
from hocvuso.app import TELEGRAM_SECRET_HEADER, ZALO_SECRET_HEADER, create_app
from hocvuso.services import Services, build_services
from hocvuso.settings import Settings

SECRET = "fuzz_Webhook-secret-42"
# HOCVUSO_FUZZ_EXAMPLES turns a quick check into a long hunt.
EXAMPLES = int(os.environ.get("HOCVUSO_FUZZ_EXAMPLES", "150"))
ROUTES = {
    "telegram": ("/webhooks/telegram", TELEGRAM_SECRET_HEADER),
    "zalo": ("/webhooks/zalo", ZALO_SECRET_HEADER),
}


@dataclass(frozen=True)
class Body:
    """A request body and the statuses it may get (None: any status below 500)."""

    content: bytes
    expect: frozenset[int] | None
    kind: str
    chunked: bool = False


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
)
_json_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
_not_objects = st.one_of(
    _scalars, st.lists(_json_values, max_size=4), st.integers(min_value=10**30)
)
# Values that no update id may be: anything but a (reasonable) integer or a non-empty string.
_bad_ids = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.lists(_scalars, max_size=3),
    st.dictionaries(st.text(max_size=5), _scalars, max_size=3),
    st.just(""),
)


def _random_bytes() -> st.SearchStrategy[Body]:
    return st.binary(max_size=2000).map(lambda b: Body(b, None, "random bytes"))


def _malformed() -> st.SearchStrategy[Body]:
    """Valid JSON objects cut short or with junk inside: never parseable."""

    def broken(value: dict[str, Any], cut: int, junk: bytes) -> Body:
        text = _json(value)
        return Body(text[: max(1, min(cut, len(text) - 1))] + junk, frozenset({400}), "malformed")

    return st.builds(
        broken,
        st.dictionaries(st.text(max_size=10), _json_values, min_size=1, max_size=5),
        st.integers(0, 400),
        st.sampled_from([b"", b"{", b",", b"\x00", b"\xff\xfe", b"'", b"NaNx", b"}}"]),
    )


def _special() -> st.SearchStrategy[Body]:
    """Bodies that trip JSON parsers: deep nesting, huge numbers, bad encodings, empties."""
    return st.sampled_from(
        [
            Body(b"", frozenset({400}), "empty"),
            Body(b"[" * 60_000, frozenset({400}), "deep list"),
            Body(b'{"a":' * 10_000 + b"1" + b"}" * 10_000, frozenset({400}), "deep object"),
            Body(b'{"update_id": ' + b"9" * 5000 + b"}", frozenset({400}), "huge int"),
            Body(b'{"update_id": 1e999999}', frozenset({400}), "huge float"),
            Body(b'{"update_id": NaN}', frozenset({400}), "NaN"),
            Body(b'{"update_id": -Infinity}', frozenset({400}), "infinity"),
            Body('{"update_id": 5}'.encode("utf-16"), frozenset({200, 400}), "utf-16"),
            Body(b'\xef\xbb\xbf{"update_id": 5}', frozenset({200, 400}), "BOM"),
            Body(b'"\\ud800"', frozenset({400}), "lone surrogate string"),
            Body(
                b'{"message": {"message_id": "\\ud800x", "chat": {"id": 1}}}',
                frozenset({400}),
                "surrogate",
            ),
            Body(
                b'{"message": {"message_id": "\\u0000", "chat": {"id": 1}}}',
                frozenset({400}),
                "NUL id",
            ),
            Body(b'{"update_id": 7, "message": "\\u0000\\ud83d"}', None, "NUL payload"),
            Body(b"null", frozenset({400}), "null"),
            Body(b"{}", frozenset({400}), "empty object"),
        ]
    )


def _wrong_types() -> st.SearchStrategy[Body]:
    """Valid JSON of the wrong shape: not an object, or an update whose id is not one."""
    not_object = _not_objects.map(lambda v: Body(_json(v), frozenset({400}), "not an object"))
    telegram = st.builds(
        lambda bad, rest: Body(_json({**rest, "update_id": bad}), None, "bad update_id"),
        _bad_ids,
        st.dictionaries(st.text(max_size=8), _json_values, max_size=3),
    )
    zalo = st.one_of(
        st.builds(lambda m: {"message": m}, _not_objects),
        st.builds(lambda i: {"message": {"message_id": i, "chat": None}}, _bad_ids),
        st.builds(lambda i: {"ok": True, "result": {"message": {"message_id": i}}}, _bad_ids),
        st.builds(lambda r: {"ok": True, "result": r}, _not_objects),
    ).map(lambda v: Body(_json(v), None, "bad message"))
    return st.one_of(not_object, telegram, zalo)


def _too_big() -> st.SearchStrategy[Body]:
    """Over 64 KB, declared by Content-Length or streamed in chunks without one."""

    def big(piece: bytes, extra: int, chunked: bool) -> Body:
        size = MAX_BODY + extra
        return Body((piece * size)[:size], frozenset({413}), "too big", chunked)

    valid_start = b'{"update_id": 1, "message": {"message_id": 1, "text": "' + b"a" * 100
    return st.builds(
        big,
        st.one_of(st.binary(min_size=1, max_size=16), st.just(valid_start)),
        st.integers(1, 200_000),
        st.booleans(),
    )


def _valid() -> st.SearchStrategy[Body]:
    """Real-looking updates of either platform, with odd but acceptable ids and texts."""
    telegram = st.builds(
        lambda i, text: {"update_id": i, "message": {"message_id": 1, "text": text}},
        st.integers(0, 2**53),
        st.text(max_size=50),
    )
    zalo = st.builds(
        lambda i, text: {
            "ok": True,
            "result": {
                "event_name": "message.text.received",
                "message": {"message_id": i, "chat": {"id": "c"}, "text": text},
            },
        },
        st.one_of(st.integers(0, 2**53), st.text(min_size=1, max_size=20)),
        st.text(max_size=50),
    )
    return st.one_of(telegram, zalo).map(lambda v: Body(_json(v), None, "update"))


BODIES = st.one_of(_random_bytes(), _malformed(), _special(), _wrong_types(), _too_big(), _valid())


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def services(request: pytest.FixtureRequest, sqlite_url: str) -> Iterator[Services]:
    """Both platforms configured for webhooks (fake API bases nobody calls), on each backend."""
    url = sqlite_url if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    built = build_services(
        Settings(
            database_url=url,
            content_dir=PROJECT,
            commune_file=PROJECT / "commune.yaml",
            telegram_token="123456:fuzz-token-not-real-abcdefghij",
            telegram_api_base="http://127.0.0.1:9/bot",
            zalo_token="fuzz-zalo-token-not-real",
            zalo_api_base="http://127.0.0.1:9",
            webhook_secret=SECRET,
            public_url="http://127.0.0.1:9",
        )
    )
    yield built
    built.database.dispose()


def _stored(services: Services) -> int:
    return sum(services.inbox.counts().values())


def _post(client: TestClient, platform: str, body: Body) -> int:
    path, header = ROUTES[platform]
    headers = {header: SECRET, "Content-Type": "application/json"}
    if body.chunked:

        def chunks() -> Iterator[bytes]:
            for start in range(0, len(body.content), 8192):
                yield body.content[start : start + 8192]

        response = client.post(path, content=chunks(), headers=headers)
    else:
        response = client.post(path, content=body.content, headers=headers)
    return int(response.status_code)


def test_webhooks_never_answer_a_hostile_body_with_a_server_error(
    services: Services, record_property: Callable[[str, object], None]
) -> None:
    """Every generated body, on both webhooks: a 4xx or a 200, and storage only on a 200."""
    client = TestClient(create_app(services), raise_server_exceptions=False)
    statuses: dict[int, int] = {}

    @given(platform=st.sampled_from(sorted(ROUTES)), body=BODIES)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    def never_a_server_error(platform: str, body: Body) -> None:
        before = _stored(services)
        status = _post(client, platform, body)
        statuses[status] = statuses.get(status, 0) + 1
        assert status < 500, (body.kind, body.content[:200])
        if body.expect is not None:
            assert status in body.expect, (body.kind, status, body.content[:200])
        elif status != 200:
            assert status == 400, (body.kind, status, body.content[:200])
        stored = _stored(services) - before
        if status == 200:
            assert stored in (0, 1)  # 0: the same update delivered again
        else:
            assert stored == 0, (body.kind, status)

    never_a_server_error()
    record_property("statuses", statuses)
    assert {200, 400, 413} <= set(statuses), statuses


def test_the_secret_is_checked_before_the_body(services: Services) -> None:
    """Without the right secret, even a perfect update is refused and nothing is stored."""
    client = TestClient(create_app(services), raise_server_exceptions=False)
    update = _json({"update_id": 1, "message": {"message_id": 1, "text": "hi"}})
    for path, header in ROUTES.values():
        for headers in ({}, {header: "wrong-secret-000"}, {header: SECRET + "x"}):
            assert client.post(path, content=update, headers=headers).status_code == 403
        assert client.post(path, content=b"[" * 70_000, headers={}).status_code == 403
    assert _stored(services) == 0
