"""The shared rate limiter: counts per key and purpose, in the database or in Redis."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import replace

import pytest
import redis

from nurture.config import Settings
from nurture.ratelimit import DatabaseLimiter, Limit, Limiter, RedisLimiter, limiter_for

LIMIT = Limit("test-form", hits=3, window_seconds=600)


def _exercise(first: Limiter, second: Limiter) -> None:
    """Hits through two limiters (two web processes) add up; keys and purposes stay apart."""
    assert first.peek(LIMIT, "203.0.113.9").allowed
    assert first.hit(LIMIT, "203.0.113.9").allowed
    assert second.hit(LIMIT, "203.0.113.9").allowed
    assert first.hit(LIMIT, "203.0.113.9").allowed
    assert not second.peek(LIMIT, "203.0.113.9").allowed
    refused = second.hit(LIMIT, "203.0.113.9")
    assert not refused.allowed
    assert refused.hits == 4
    assert 0 < refused.retry_after <= LIMIT.window_seconds
    assert first.hit(LIMIT, "198.51.100.7").allowed
    assert first.hit(Limit("other-form", 3, 600), "203.0.113.9").allowed
    second.reset(LIMIT, "203.0.113.9")
    assert first.hit(LIMIT, "203.0.113.9").allowed


def test_database_counts_are_shared_between_processes(db_url: str) -> None:
    _exercise(DatabaseLimiter(db_url), DatabaseLimiter(db_url))


def test_without_redis_the_limiter_counts_in_the_database(settings: Settings) -> None:
    assert isinstance(limiter_for(settings), DatabaseLimiter)


@pytest.fixture
def redis_settings(settings: Settings) -> Iterator[Settings]:
    url = os.environ.get("NURTURE_TEST_REDIS_URL")
    if not url:
        pytest.fail("NURTURE_TEST_REDIS_URL is not set: run the suite with `make test`")
    namespace = f"nurture-test-{secrets.token_hex(6)}"
    separator = "&" if "?" in url else "?"
    yield replace(settings, redis_url=f"{url}{separator}namespace={namespace}")
    client = redis.Redis.from_url(url)
    for key in client.scan_iter(f"{namespace}:*"):
        client.delete(key)
    client.close()


@pytest.mark.redis
def test_redis_counts_are_shared_between_processes(redis_settings: Settings) -> None:
    first = limiter_for(redis_settings)
    assert isinstance(first, RedisLimiter)
    url = os.environ["NURTURE_TEST_REDIS_URL"]
    namespace = (redis_settings.redis_url or "").rpartition("namespace=")[2]
    # A second client, as another web process would have.
    second = RedisLimiter(redis.Redis.from_url(url), namespace)
    _exercise(first, second)
