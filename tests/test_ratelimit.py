"""The shared rate limiter: counts per key and purpose, in the database or in Redis."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
import redis
from litestar.testing import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture.config import Settings
from nurture.models import RateCounter
from nurture.ratelimit import DatabaseLimiter, Limit, Limiter, RedisLimiter, limiter_for
from nurture.web.app import create_app
from nurture.web.ui.session import LOGIN_PER_ACCOUNT
from tests.factories import PASSWORD, make_user
from tests.ui.helpers import post_form

LIMIT = Limit("test-form", hits=3, window_seconds=600)
# The windows are fixed and aligned to the clock: a test that counts hits needs them all in
# one window, so it starts with at least this much of the window left.
ROOM_SECONDS = 30


def _room_in_the_window(limit: Limit) -> None:
    """Wait for the next window when the current one ends within ROOM_SECONDS: hits on
    both sides of its end are counted apart, as a fixed window means to."""
    left = limit.window_seconds - time.time() % limit.window_seconds
    if left < ROOM_SECONDS:
        time.sleep(left + 0.1)


def _exercise(first: Limiter, second: Limiter) -> None:
    """Hits through two limiters (two web processes) add up; keys and purposes stay apart."""
    _room_in_the_window(LIMIT)
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


@pytest.mark.redis
def test_sign_in_limit_holds_across_two_apps_sharing_redis(
    redis_settings: Settings, db: Session
) -> None:
    user = make_user(db)
    db.commit()
    clients = [
        TestClient(create_app(redis_settings), base_url="http://127.0.0.1:8000") for _ in range(2)
    ]
    with clients[0] as first, clients[1] as second:
        _room_in_the_window(LOGIN_PER_ACCOUNT)
        for n in range(LOGIN_PER_ACCOUNT.hits):
            either = first if n % 2 else second
            response = post_form(either, "/login", {"email": user.email, "password": "wrong!"})
            assert response.status_code == 400
        refused = post_form(first, "/login", {"email": user.email, "password": PASSWORD})
        assert refused.status_code == 429
    # Counted in Redis, not in the database.
    assert db.scalar(select(func.count()).select_from(RateCounter)) == 0
