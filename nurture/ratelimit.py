"""A fixed-window rate limiter for sign-in and every public form.

Counts live where every web process sees them: in Redis when the deployment has one,
else in the database (the embedded runtime), so a limit holds across processes and
restarts. Keys are hashed before they are stored: an e-mail or address is never kept.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from nurture.config import Settings
from nurture.db import get_engine, session_scope
from nurture.models.rate_limits import RateCounter


@dataclass(frozen=True, slots=True)
class Limit:
    """At most `hits` per `window_seconds` for each key of `purpose` (e.g. "login-account")."""

    purpose: str
    hits: int
    window_seconds: int


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    hits: int
    retry_after: int  # seconds until the window ends; 0 when allowed


class Limiter(Protocol):
    def hit(self, limit: Limit, key: str) -> Decision:
        """Count one attempt and say whether it is within the limit."""
        ...

    def add(self, limit: Limit, key: str, count: int, window_start: int) -> int:
        """Count `count` attempts made in the window starting at `window_start` (some
        counted in-process first); the window's total so far."""
        ...

    def peek(self, limit: Limit, key: str) -> Decision:
        """Whether the next attempt would still be allowed, without counting one."""
        ...

    def reset(self, limit: Limit, key: str) -> None:
        """Forget the current window's attempts (after a successful sign-in, say)."""
        ...


def _digest(limit: Limit, key: str) -> str:
    return hashlib.sha256(f"{limit.purpose}\0{key}".encode()).hexdigest()


def _window(limit: Limit, now: float) -> tuple[int, int]:
    """The start of the current window and the whole seconds left in it (at least 1)."""
    start = int(now // limit.window_seconds) * limit.window_seconds
    return start, max(1, math.ceil(start + limit.window_seconds - now))


def _decide(limit: Limit, hits: int, left: int, *, counted: bool) -> Decision:
    allowed = hits <= limit.hits if counted else hits < limit.hits
    return Decision(allowed, hits, 0 if allowed else left)


class DatabaseLimiter:
    """Counters in the `rate_counters` table, one atomic upsert per hit."""

    def __init__(self, database_url: str) -> None:
        self._url = database_url

    def hit(self, limit: Limit, key: str) -> Decision:
        start, left = _window(limit, time.time())
        return _decide(limit, self.add(limit, key, 1, start), left, counted=True)

    def add(self, limit: Limit, key: str, count: int, window_start: int) -> int:
        now = time.time()
        start = window_start
        digest = _digest(limit, key)
        expires = datetime.fromtimestamp(start + limit.window_seconds, UTC)
        insert = pg_insert if get_engine(self._url).dialect.name == "postgresql" else sqlite_insert
        statement = (
            insert(RateCounter)
            .values(
                purpose=limit.purpose,
                key=digest,
                window_start=start,
                hits=count,
                expires_at=expires,
            )
            .on_conflict_do_update(
                index_elements=["purpose", "key", "window_start"],
                set_={"hits": RateCounter.hits + count},
            )
            .returning(RateCounter.hits)
        )
        with session_scope(self._url) as db:
            hits = int(db.execute(statement).scalar_one())
            # Ended windows are only clutter; sweeping them here (an indexed range, empty
            # most of the time) keeps the table small without a scheduled job.
            db.execute(
                delete(RateCounter).where(
                    RateCounter.expires_at < datetime.fromtimestamp(now, UTC) - timedelta(minutes=5)
                )
            )
        return hits

    def peek(self, limit: Limit, key: str) -> Decision:
        start, left = _window(limit, time.time())
        with session_scope(self._url) as db:
            hits = db.scalar(
                select(RateCounter.hits).where(
                    RateCounter.purpose == limit.purpose,
                    RateCounter.key == _digest(limit, key),
                    RateCounter.window_start == start,
                )
            )
        return _decide(limit, hits or 0, left, counted=False)

    def reset(self, limit: Limit, key: str) -> None:
        with session_scope(self._url) as db:
            db.execute(
                delete(RateCounter).where(
                    RateCounter.purpose == limit.purpose, RateCounter.key == _digest(limit, key)
                )
            )


class RedisLimiter:
    """Counters as Redis keys that expire with their window (INCR, then EXPIRE once)."""

    def __init__(self, client: redis.Redis[bytes], namespace: str = "nurture") -> None:
        self._redis = client
        self._namespace = namespace

    def _name(self, limit: Limit, key: str, start: int) -> str:
        return f"{self._namespace}:ratelimit:{limit.purpose}:{_digest(limit, key)}:{start}"

    def hit(self, limit: Limit, key: str) -> Decision:
        start, left = _window(limit, time.time())
        return _decide(limit, self.add(limit, key, 1, start), left, counted=True)

    def add(self, limit: Limit, key: str, count: int, window_start: int) -> int:
        name = self._name(limit, key, window_start)
        pipe = self._redis.pipeline()
        pipe.incrby(name, count)
        # NX: only the first hit sets the expiry, so the key dies with its window.
        pipe.expire(name, limit.window_seconds + 1, nx=True)
        hits, _ = pipe.execute()
        return int(hits)

    def peek(self, limit: Limit, key: str) -> Decision:
        start, left = _window(limit, time.time())
        value = self._redis.get(self._name(limit, key, start))
        return _decide(limit, int(value or 0), left, counted=False)

    def reset(self, limit: Limit, key: str) -> None:
        start, _ = _window(limit, time.time())
        self._redis.delete(self._name(limit, key, start))


def limiter_for(settings: Settings) -> Limiter:
    """Redis when NURTURE_REDIS_URL is set, else the database."""
    if settings.redis_url:
        return _redis_limiter(settings.redis_url)
    return DatabaseLimiter(settings.database_url)


@cache
def _redis_limiter(url: str) -> RedisLimiter:
    # The broker's convention: an optional `?namespace=` lets deployments share one Redis.
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    namespace = next((value for key, value in query if key == "namespace"), "") or "nurture"
    rest = urlencode([(key, value) for key, value in query if key != "namespace"])
    client = redis.Redis.from_url(
        urlunsplit(parts._replace(query=rest)), socket_connect_timeout=5, socket_timeout=5
    )
    return RedisLimiter(client, namespace)
