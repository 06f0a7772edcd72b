"""Segment membership on a large PostgreSQL database against hand-written SQL.

    .venv/bin/python benchmarks/segments.py [--scale 1.0] [--reuse-db URL]

Starts its own PostgreSQL, migrates a fresh database and generates 1,000,000
contacts, 20,000 companies and 10,000,000 events (times --scale) with progress
bars, then ANALYZE. For five rules of different shapes (benchmarks/segments_rules.py)
it times our full refresh from scratch (INSERT of every member with its
segment.entered event), our no-change refresh, and a hand-written SELECT of
the same contacts (checked to return the same ids), and prints each ratio.
Then it ingests 10,000 events one at a time through nurture.events and runs
the worker's incremental check for each, printing the p95 latency.

Targets: full refresh / hand-written <= 2.0, no-change <= 3.0, incremental
p95 < 20 ms. The last line is `RESULT name=value ...`; the exit code is 1 when a
target is missed.
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
from nurture.models import SegmentMember
from segments import store
from segments.membership import check_after_events, refresh_segment

FULL_TARGET = 2.0
NO_CHANGE_TARGET = 3.0
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


def run_cases(url: str, now: datetime) -> tuple[list[dict[str, Any]], bool]:
    rows: list[dict[str, Any]] = []
    ok = True
    segment_ids: dict[str, int] = {}
    for case in CASES:
        with session_scope(url) as db:
            segment = store.create_segment(
                db, name=case.name, rule={"version": 1, "rule": resolve(case.node, segment_ids)}
            )
            segment_ids[case.name] = segment.id
        sql = text(case.sql)
        params: dict[str, Any] = {"now": now, **segment_ids}

        def hand_written(sql: Any = sql, params: dict[str, Any] = params) -> list[int]:
            with session_scope(url) as db:
                return [row[0] for row in db.execute(sql, params)]

        hand_written()  # warm the cache the same way for both sides
        hand_seconds, expected = min(timed(hand_written), timed(hand_written))

        def refresh(sid: int = segment.id) -> int:
            with session_scope(url) as db:
                return refresh_segment(db, sid, now=now).size or 0

        full_seconds, size = timed(refresh)
        no_change_seconds = min(timed(refresh)[0], timed(refresh)[0])
        with session_scope(url) as db:
            stmt = select(SegmentMember.contact_id).where(SegmentMember.segment_id == segment.id)
            members = set(db.scalars(stmt))
        same = members == set(expected) and size == len(expected)
        full_ratio = full_seconds / hand_seconds
        no_change_ratio = no_change_seconds / hand_seconds
        ok = ok and same and full_ratio <= FULL_TARGET and no_change_ratio <= NO_CHANGE_TARGET
        rows.append(
            {
                "name": case.name,
                "size": size,
                "same": same,
                "hand": hand_seconds,
                "full": full_seconds,
                "no_change": no_change_seconds,
                "full_ratio": full_ratio,
                "no_change_ratio": no_change_ratio,
            }
        )
        print(
            f"{case.name:16} size={size:>8} same_ids={same} hand={hand_seconds * 1000:8.1f} ms "
            f"full={full_seconds * 1000:8.1f} ms ({full_ratio:.2f}x) "
            f"no_change={no_change_seconds * 1000:8.1f} ms ({no_change_ratio:.2f}x)",
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
