"""Segment membership on a large PostgreSQL database against hand-written SQL.

    .venv/bin/python benchmarks/segments.py [--scale 1.0] [--reuse-db URL]

Starts its own PostgreSQL, migrates a fresh database and generates 1,000,000
contacts, 20,000 companies and 10,000,000 events (times --scale) with progress
bars, then ANALYZE. For five rules of different shapes (benchmarks/segments_rules.py)
it times our full refresh from scratch against hand-written SQL doing the same
work in one transaction on the same data (select the members, insert the new
memberships and their segment.entered events, delete leavers with their
segment.exited events; into a second segment with the same rule), each twice in
turn (the first rolled back), best of two; then our no-change refresh against a
hand-written SELECT of the same contacts. All three must give the same ids.
Then it ingests 10,000 events one at a time through nurture.events and runs
the worker's incremental check for each, printing the p95 latency.

Targets: full refresh / hand-written <= 1.5, no-change refresh / hand-written
SELECT <= 1.5, incremental p95 < 20 ms. The last line is `RESULT name=value ...`;
the exit code is 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._harness import fresh_database, services
from benchmarks.segments_data import TOPICS, generate
from benchmarks.segments_rules import CASES, resolve
from nurture import events
from nurture.db import get_engine, session_scope
from nurture.migrate import upgrade
from nurture.models import SegmentKind, SegmentMember
from segments import store
from segments.membership import check_after_events, refresh_segment

FULL_TARGET = 1.5
NO_CHANGE_TARGET = 1.5
INCREMENTAL_P95_MS = 20.0
INGEST_TYPES = (
    ("email.clicked", 0.4),
    ("page.visited", 0.3),
    ("email.opened", 0.2),
    ("webinar.attended", 0.05),
    ("nps.answered", 0.05),
)


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


# The full refresh written by hand: select the members, insert the new memberships
# and their segment.entered events, delete the leavers with their segment.exited
# events, in one transaction. The event keys are the ones membership.event_row makes.
HAND_FULL = """
WITH m AS MATERIALIZED ({members}),
joined AS (
  INSERT INTO segment_members (segment_id, contact_id, since)
  SELECT :hand_id, m.id, :now FROM m
  WHERE NOT EXISTS (SELECT 1 FROM segment_members s
                    WHERE s.segment_id = :hand_id AND s.contact_id = m.id)
  ORDER BY m.id
  RETURNING contact_id, since),
gone AS (
  DELETE FROM segment_members s
  WHERE s.segment_id = :hand_id AND NOT EXISTS (SELECT 1 FROM m WHERE m.id = s.contact_id)
  RETURNING contact_id, since),
changed AS (
  SELECT contact_id, since, 'entered' AS verb FROM joined
  UNION ALL SELECT contact_id, since, 'exited' FROM gone),
announced AS (
  INSERT INTO events
    (contact_id, type, occurred_at, received_at, properties, source, idempotency_key)
  SELECT contact_id, 'segment.' || verb, :now, :now, jsonb_build_object('segment_id', :hand_id),
         'segments', 'segment:' || :hand_id || ':' || contact_id || ':' || verb || ':'
         || to_char(since AT TIME ZONE 'UTC', 'YYYYMMDD"T"HH24MISS.US')
  FROM changed
  RETURNING 1)
SELECT (SELECT count(*) FROM joined), (SELECT count(*) FROM gone), (SELECT count(*) FROM announced)
"""


def run_cases(url: str, now: datetime) -> tuple[list[dict[str, Any]], bool]:
    rows: list[dict[str, Any]] = []
    ok = True
    segment_ids: dict[str, int] = {}
    for case in CASES:
        with session_scope(url) as db:
            rule = {"version": 1, "rule": resolve(case.node, segment_ids)}
            segment = store.create_segment(db, name=case.name, rule=rule)
            # The hand-written refresh's own segment, so both start from no members; a
            # static list, so that no refresh or incremental check of ours touches it.
            hand_id = store.create_segment(
                db, name=f"{case.name} (by hand)", kind=SegmentKind.STATIC.value
            ).id
            segment_ids[case.name] = segment.id
        sql = text(case.sql)
        params: dict[str, Any] = {"now": now, **segment_ids}
        hand_sql = text(HAND_FULL.format(members=case.sql))
        hand_params = {**params, "hand_id": hand_id}

        def hand_written(sql: Any = sql, params: dict[str, Any] = params) -> list[int]:
            with session_scope(url) as db:
                return [row[0] for row in db.execute(sql, params)]

        def hand_full(commit: bool, sql: Any = hand_sql, params: Any = hand_params) -> Any:
            with session_scope(url) as db:
                counts = db.execute(sql, params).one()
                if not commit:
                    db.rollback()
                return counts

        def refresh(commit: bool = True, sid: int = segment.id) -> int:
            with session_scope(url) as db:
                size = refresh_segment(db, sid, now=now).size or 0
                if not commit:
                    db.rollback()
                return size

        hand_written()  # warm the cache the same way for both sides
        hand_seconds, expected = min(timed(hand_written), timed(hand_written))
        # Each full refresh twice, in turn: the first rolled back, the second kept.
        hand_full_first, _ = timed(lambda: hand_full(False))
        full_first, _ = timed(lambda: refresh(False))
        hand_full_second, hand_counts = timed(lambda: hand_full(True))
        full_second, size = timed(refresh)
        hand_full_seconds = min(hand_full_first, hand_full_second)
        full_seconds = min(full_first, full_second)
        no_change_seconds = min(timed(refresh)[0], timed(refresh)[0])
        with session_scope(url) as db:
            stmt = select(SegmentMember.contact_id).where(SegmentMember.segment_id == segment.id)
            members = set(db.scalars(stmt))
            stmt = select(SegmentMember.contact_id).where(SegmentMember.segment_id == hand_id)
            hand_members = set(db.scalars(stmt))
        same = (
            members == set(expected) == hand_members
            and size == len(expected)
            and tuple(hand_counts) == (len(expected), 0, len(expected))
        )
        full_ratio = full_seconds / hand_full_seconds
        no_change_ratio = no_change_seconds / hand_seconds
        ok = ok and same and full_ratio <= FULL_TARGET and no_change_ratio <= NO_CHANGE_TARGET
        rows.append(
            {
                "name": case.name,
                "size": size,
                "same": same,
                "hand": hand_seconds,
                "hand_full": hand_full_seconds,
                "full": full_seconds,
                "no_change": no_change_seconds,
                "full_ratio": full_ratio,
                "no_change_ratio": no_change_ratio,
            }
        )
        print(
            f"{case.name:16} size={size:>8} same_ids={same}"
            f" full={full_seconds * 1000:8.1f} ms vs by hand {hand_full_seconds * 1000:8.1f} ms"
            f" ({full_ratio:.2f}x)  no_change={no_change_seconds * 1000:8.1f} ms"
            f" vs select {hand_seconds * 1000:8.1f} ms ({no_change_ratio:.2f}x)",
            flush=True,
        )
    return rows, ok


def incremental(url: str, count: int, contacts: int) -> list[float]:
    """Ingest `count` events one by one and time the worker's incremental check of each."""
    rng = random.Random(11)
    kinds = [kind for kind, _ in INGEST_TYPES]
    weights = [weight for _, weight in INGEST_TYPES]
    latencies: list[float] = []
    for n in tqdm(range(count), desc="incremental", unit="events"):
        kind = rng.choices(kinds, weights)[0]
        properties: dict[str, Any] = {}
        if kind in ("email.clicked", "page.visited"):
            properties = {"url": f"/insights/{rng.choice(TOPICS)}-{n % 50}"}
        elif kind == "nps.answered":
            properties = {"score": rng.randrange(11)}
        item = {
            "type": kind,
            "contact_id": 1 + int(contacts * rng.random() ** 2.5),
            "properties": properties,
            "idempotency_key": f"bench-incremental-{n}",
        }
        with session_scope(url) as db:
            result = events.ingest_raw(db, [item], source="bench")
        ids = result.stored_event_ids
        started = time.perf_counter()
        # What workers.actors.process_events does for a batch of one.
        with session_scope(url) as db:
            marked = events.mark_processed(db, ids)
            check_after_events(db, marked)
        latencies.append(time.perf_counter() - started)
    return latencies


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0: 1M contacts, 10M events")
    parser.add_argument("--reuse-db", help="a database this script generated before (skips data)")
    parser.add_argument("--incremental", type=int, default=10_000, help="events to ingest")
    args = parser.parse_args()
    contacts = int(1_000_000 * args.scale)
    companies = int(20_000 * args.scale)
    event_count = int(10_000_000 * args.scale)
    now = datetime.now(UTC).replace(microsecond=0)

    def run(url: str) -> int:
        generation: dict[str, float] = {}
        if args.reuse_db is None:
            upgrade(url)
            print(f"generating {contacts} contacts, {companies} companies, {event_count} events")
            generation = generate(
                get_engine(url),
                contacts=contacts,
                companies=companies,
                events=event_count,
                now=now - timedelta(minutes=1),
            )
            print("generation seconds: " + ", ".join(f"{k}={v:.1f}" for k, v in generation.items()))
        else:
            with session_scope(url) as db:
                db.execute(text("DELETE FROM segments"))
                db.execute(
                    text(
                        "DELETE FROM events WHERE source IN ('segments', 'bench')"
                        " AND idempotency_key IS NOT NULL"
                    )
                )
            with get_engine(url).connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(text("VACUUM ANALYZE"))
        rows, ok = run_cases(url, now)
        latencies = incremental(url, args.incremental, contacts)
        p95 = statistics.quantiles(latencies, n=100)[94] * 1000
        median = statistics.median(latencies) * 1000
        print(f"incremental check per event: median={median:.1f} ms p95={p95:.1f} ms")
        ok = ok and p95 < INCREMENTAL_P95_MS
        parts = [f"scale={args.scale}", f"generate_s={sum(generation.values()):.0f}"]
        for row in rows:
            parts.append(f"{row['name']}_full_ratio={row['full_ratio']:.2f}")
            parts.append(f"{row['name']}_no_change_ratio={row['no_change_ratio']:.2f}")
        parts += [f"incremental_p95_ms={p95:.1f}", f"ok={int(ok)}"]
        print("RESULT " + " ".join(parts))
        return 0 if ok else 1

    if args.reuse_db:
        return run(args.reuse_db)
    with services() as servers:
        url = fresh_database(servers.pg_admin_url, "bench_segments")
        return run(url)


if __name__ == "__main__":
    sys.exit(main())
