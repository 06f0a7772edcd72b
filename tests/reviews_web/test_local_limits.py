"""Rate limits counted in-process first: exact within the process, every hit added to
the shared counters, other processes' hits counted once read back."""

from __future__ import annotations

import time

from nurture.ratelimit import DatabaseLimiter, Limit
from nurture.web.public.local_limits import LocalCounts

# A window far longer than the test, so no window boundary falls inside it.
LIMIT = Limit("test-local", 3, 10**9)
# Nothing listens on port 9 of loopback: every write fails at once.
UNREACHABLE = "postgresql+psycopg://nobody:nothing@127.0.0.1:9/nowhere?connect_timeout=1"


def test_hits_are_decided_at_once_and_added_to_the_shared_counters(db_url: str) -> None:
    shared = DatabaseLimiter(db_url)
    counts = LocalCounts(shared, interval=3600)

    decisions = [counts.hit(LIMIT, "10.0.0.1") for _ in range(5)]
    other = counts.hit(LIMIT, "10.0.0.2")

    assert [d.allowed for d in decisions] == [True, True, True, False, False]
    assert decisions[-1].retry_after > 0
    assert other.allowed
    # Nothing reached the shared counters yet; one round adds every hit.
    assert shared.peek(LIMIT, "10.0.0.1").hits == 0
    assert counts.sync()
    assert shared.peek(LIMIT, "10.0.0.1").hits == 5
    assert shared.peek(LIMIT, "10.0.0.2").hits == 1


def test_hits_taken_by_other_processes_count_once_read_back(db_url: str) -> None:
    shared = DatabaseLimiter(db_url)
    counts = LocalCounts(shared, interval=3600)
    assert counts.hit(LIMIT, "10.0.0.1").allowed
    # Another web process spent the rest of the limit.
    start = int(time.time() // LIMIT.window_seconds) * LIMIT.window_seconds
    shared.add(LIMIT, "10.0.0.1", 2, start)

    assert counts.sync()

    refused = counts.hit(LIMIT, "10.0.0.1")
    assert not refused.allowed
    assert refused.hits == 4


def test_hits_that_cannot_be_added_wait_for_the_next_round(db_url: str) -> None:
    counts = LocalCounts(DatabaseLimiter(UNREACHABLE), interval=3600)
    for _ in range(2):
        counts.hit(LIMIT, "10.0.0.1")

    assert not counts.sync()
    # The process's own count still holds the limit meanwhile.
    assert counts.hit(LIMIT, "10.0.0.1").allowed
    assert not counts.hit(LIMIT, "10.0.0.1").allowed

    counts._limiter = DatabaseLimiter(db_url)  # the counters are back
    assert counts.sync()
    assert DatabaseLimiter(db_url).peek(LIMIT, "10.0.0.1").hits == 4
