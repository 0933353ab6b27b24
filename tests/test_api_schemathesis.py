"""schemathesis over the whole app's OpenAPI schema: generated requests never get a 5xx."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from server import PROJECT

from api.auth import RateLimiter
from hocvuso.app import create_app
from hocvuso.services import build_services
from hocvuso.settings import Settings
from storage.officials import OfficialStore

EXAMPLES_PER_OPERATION = 25


def test_no_generated_request_gets_a_server_error(tmp_path: Path) -> None:
    """Every operation (chat, officials' API, health) with schema-shaped random input."""
    for name in ("HOCVUSO_TELEGRAM_TOKEN", "HOCVUSO_ZALO_TOKEN", "HOCVUSO_PUBLIC_URL"):
        os.environ.pop(name, None)
    services = build_services(
        Settings(
            database_url=f"sqlite:///{tmp_path / 'api.db'}",
            content_dir=PROJECT,
            commune_file=PROJECT / "commune.yaml",
        )
    )
    app = create_app(services)
    # Generated calls come fast; the rate limit has its own tests.
    app.state.rate_limit = RateLimiter(10**6, 60)
    _, token = OfficialStore(services.database).add("Schemathesis", "admin")
    headers = {"Authorization": f"Bearer {token}"}
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8, "the schema lost its operations"
    failures: list[str] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def no_server_error(case: schemathesis.Case) -> None:
            response = case.call(headers=headers)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.status_code}")
            assert response.status_code < 500

        # Hypothesis re-raises the shrunk failure; it is already in `failures`.
        with contextlib.suppress(AssertionError):
            no_server_error()
    if failures:
        pytest.fail("server errors:\n" + "\n".join(sorted(set(failures))))
