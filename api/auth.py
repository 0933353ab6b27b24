"""Who is calling the officials' API, what they may read, and how often they may ask.

Every route under `/api/v1` except health and public ones takes one of these dependencies:

- `CurrentOfficial`: any valid token (401 without one or with a wrong or revoked one);
- `ReportReader`: an admin or viewer token (403 for a hamlet token);
- `AdminOfficial`: an admin token (403 for the others);
- `ensure_hamlet_access(official, hamlet_id)` inside a route: 403 when a hamlet token asks
  about another hamlet.

The composition root sets `app.state.officials` (an `OfficialStore`) and may set
`app.state.rate_limit` (per token) and `app.state.auth_failure_limit` (per client address)
to `RateLimiter`s; defaults are made on first use.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from storage.officials import OfficialRecord, OfficialStore

DEFAULT_RATE_LIMIT = 120
DEFAULT_AUTH_FAILURE_LIMIT = 30
DEFAULT_WINDOW_SECONDS = 60.0

# One message for a missing, unknown or revoked token: the answer must not help a guesser.
_UNAUTHORIZED = "a valid API token is required"

_bearer = HTTPBearer(
    auto_error=False,
    description="API token from `hocvuso officials add NAME --role ...`",
)
_setup_lock = threading.Lock()


class RateLimiter:
    """A sliding-window limit: at most `limit` requests per `window` seconds for each key.

    The windows live in this process's memory. With several workers each keeps its own, so
    the effective limit is the per-worker limit times the number of workers; good enough to
    stop a runaway script or a token guesser, and it needs no shared store.
    """

    def __init__(
        self,
        limit: int = DEFAULT_RATE_LIMIT,
        window: float = DEFAULT_WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Allow `limit` requests per `window` seconds per key, timed by `clock`."""
        if limit < 1 or window <= 0:
            raise ValueError("a rate limit needs limit >= 1 and window > 0")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._hits: dict[Hashable, deque[float]] = {}
        self._lock = threading.Lock()
        self._last_sweep = clock()

    def acquire(self, key: Hashable) -> int | None:
        """Count one request for `key`; None if allowed, else seconds to wait (Retry-After)."""
        with self._lock:
            now = self._clock()
            self._sweep(now)
            hits = self._recent(key, now)
            if len(hits) >= self.limit:
                return self._retry_after(hits, now)
            hits.append(now)
            return None

    def blocked(self, key: Hashable) -> int | None:
        """Seconds `key` must wait before its next request counts, or None; counts nothing."""
        with self._lock:
            now = self._clock()
            hits = self._hits.get(key)
            if hits is None:
                return None
            self._drop_old(hits, now)
            if len(hits) < self.limit:
                return None
            return self._retry_after(hits, now)

    def _recent(self, key: Hashable, now: float) -> deque[float]:
        hits = self._hits.setdefault(key, deque())
        self._drop_old(hits, now)
        return hits

    def _drop_old(self, hits: deque[float], now: float) -> None:
        while hits and hits[0] <= now - self.window:
            hits.popleft()

    def _retry_after(self, hits: deque[float], now: float) -> int:
        # Refused requests are not recorded, so the oldest hit is the one whose expiry frees a
        # place. Whole seconds, rounded up and at least 1, as Retry-After requires.
        return max(1, math.ceil(hits[0] + self.window - now))

    def _sweep(self, now: float) -> None:
        # Forget idle keys once per window, so addresses seen once do not pile up forever.
        if now - self._last_sweep < self.window:
            return
        self._last_sweep = now
        idle = [
            key for key, hits in self._hits.items() if not hits or hits[-1] <= now - self.window
        ]
        for key in idle:
            del self._hits[key]


def get_officials(request: Request) -> OfficialStore:
    """The official store the composition root put on the app."""
    store: OfficialStore = request.app.state.officials
    return store


OfficialsDep = Annotated[OfficialStore, Depends(get_officials)]


def _limiter(request: Request, name: str, default: Callable[[], RateLimiter]) -> RateLimiter:
    state = request.app.state
    limiter: RateLimiter | None = getattr(state, name, None)
    if limiter is None:
        # Sync dependencies run in a thread pool: make sure two first requests share one.
        with _setup_lock:
            limiter = getattr(state, name, None)
            if limiter is None:
                limiter = default()
                setattr(state, name, limiter)
    return limiter


def _too_many(retry_after: int) -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_429_TOO_MANY_REQUESTS,
        detail="too many requests; try again later",
        headers={"Retry-After": str(retry_after)},
    )


def _unauthorized() -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=_UNAUTHORIZED,
        headers={"WWW-Authenticate": "Bearer"},
    )


def _client_address(request: Request) -> str:
    # Behind a reverse proxy this is the proxy unless uvicorn trusts its X-Forwarded-For
    # (--proxy-headers --forwarded-allow-ips); then all officials would share one budget.
    return request.client.host if request.client is not None else "unknown"


def current_official(
    request: Request,
    officials: OfficialsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> OfficialRecord:
    """The official whose `Authorization: Bearer` token came with the request.

    401 (with `WWW-Authenticate: Bearer`) when the token is missing, unknown or revoked;
    429 (with `Retry-After`) when the token used up its rate limit, or when the client's
    address sent too many wrong tokens lately (then even a right token waits, so a guesser
    learns nothing). Sets `request.state.official` for the audit log.
    """
    request.state.official = None
    if credentials is None or not credentials.credentials:
        raise _unauthorized()
    failures = _limiter(
        request,
        "auth_failure_limit",
        lambda: RateLimiter(DEFAULT_AUTH_FAILURE_LIMIT, DEFAULT_WINDOW_SECONDS),
    )
    address = _client_address(request)
    wait = failures.blocked(address)
    if wait is not None:
        raise _too_many(wait)
    official = officials.authenticate(credentials.credentials)
    if official is None:
        failures.acquire(address)
        raise _unauthorized()
    request.state.official = official
    # Keyed by the official's id: one id per token, and no token kept in memory.
    wait = _limiter(request, "rate_limit", RateLimiter).acquire(official.id)
    if wait is not None:
        raise _too_many(wait)
    return official


CurrentOfficial = Annotated[OfficialRecord, Depends(current_official)]


def require_admin(official: CurrentOfficial) -> OfficialRecord:
    """The caller, if they hold an admin token; 403 "admin only" otherwise."""
    if official.role != "admin":
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="admin only")
    return official


AdminOfficial = Annotated[OfficialRecord, Depends(require_admin)]


def require_report_reader(official: CurrentOfficial) -> OfficialRecord:
    """The caller, if they may read commune-wide reports (admin or viewer); 403 otherwise."""
    if official.role not in ("admin", "viewer"):
        raise HTTPException(
            status_code=status.HTTP_403_FORBIDDEN,
            detail="commune-wide reports are for admin and viewer tokens",
        )
    return official


ReportReader = Annotated[OfficialRecord, Depends(require_report_reader)]


def hamlet_scope(official: OfficialRecord) -> str | None:
    """The only hamlet this official may see, or None when they may see every hamlet."""
    if official.role != "hamlet":
        return None
    if not official.hamlet_id:
        # The store never makes such a token; if one appears, fail closed, not wide open.
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="token has no hamlet")
    return official.hamlet_id


def ensure_hamlet_access(official: OfficialRecord, hamlet_id: str) -> None:
    """Raise 403 when a hamlet token asks about a hamlet other than its own."""
    scope = hamlet_scope(official)
    if scope is not None and scope != hamlet_id:
        raise HTTPException(
            status_code=status.HTTP_403_FORBIDDEN,
            detail="this token may only read its own hamlet",
        )
