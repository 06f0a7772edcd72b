"""Event ingest through the API against PostgreSQL's COPY, and the CSV contact import rate.

Posts 100,000 events in batches of 500 (a tenth of them repeating an earlier
idempotency key, spread over 10,000 contacts named by e-mail) to a running
`nurture serve` on PostgreSQL with Redis as the broker (the production shape:
the web process stores and enqueues, workers process). In the same run it
loads the same rows into a scratch table with COPY and compares the rates.
Then it imports 100,000 contact rows from a CSV file.

    .venv/bin/python benchmarks/ingest.py [--events N] [--clients C] [--web-workers W]

Target: API / COPY >= 0.2, every event stored exactly once.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import random
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._harness import fresh_database, server, services
from nurture import accounts
from nurture.db import session_scope
from nurture.imports.importer import import_contacts
from nurture.migrate import upgrade
from nurture.models import Contact, Event

TARGET_RATIO = 0.2
BATCH = 500
CONTACTS = 10_000
TYPES = ["email.opened", "email.clicked", "page.visited", "form.submitted", "webinar.registered"]


def make_events(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """`count` events; every tenth repeats the idempotency key of an earlier one."""
    rng = random.Random(seed)
    start = datetime(2026, 5, 1, tzinfo=UTC)
    events: list[dict[str, Any]] = []
    for n in range(count):
        if n % 10 == 9:
            events.append(dict(events[rng.randrange(len(events))]))
            continue
        contact = rng.randrange(CONTACTS)
        events.append(
            {
                "type": rng.choice(TYPES),
                "email": f"lead{contact}@bench{contact % 97}.example",
                "occurred_at": (start + timedelta(seconds=n * 13)).isoformat(),
                "properties": {"url": f"/insights/article-{n % 300}", "campaign": "q3-legal"},
                "idempotency_key": f"bench-{n}",
            }
        )
    return events


def post_all(base_url: str, key: str, bodies: list[bytes], clients: int) -> float:
    """Send every body once over `clients` persistent connections; returns seconds."""
    host, port = base_url.removeprefix("http://").split(":")
    queue = list(reversed(bodies))
    lock = threading.Lock()
    failures: list[str] = []

    def run() -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=120)
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        while True:
            with lock:
                if not queue:
                    break
                body = queue.pop()
            conn.request("POST", "/api/v1/events", body=body, headers=headers)
            answer = conn.getresponse()
            payload = answer.read()
            if answer.status >= 300:
                failures.append(f"{answer.status}: {payload[:300]!r}")
        conn.close()

    threads = [threading.Thread(target=run) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise SystemExit(f"{len(failures)} batches failed, first: {failures[0]}")
    return elapsed


def copy_rate(database_url: str, events: list[dict[str, Any]]) -> float:
    """Rows per second for COPY of the same rows into a scratch table."""
    url = make_url(database_url)
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    rows = [
        (e["email"], e["type"], e["occurred_at"], json.dumps(e["properties"]), e["idempotency_key"])
        for e in events
    ]
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "CREATE TABLE scratch_events (email text, type text, occurred_at timestamptz,"
            " properties jsonb, idempotency_key text)"
        )
        conn.commit()
        started = time.perf_counter()
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY scratch_events (email, type, occurred_at, properties, idempotency_key)"
                " FROM STDIN"
            ) as copy,
        ):
            for row in rows:
                copy.write_row(row)
        conn.commit()
        elapsed = time.perf_counter() - started
        conn.execute("DROP TABLE scratch_events")
    return len(rows) / elapsed


def import_rate(database_url: str, rows: int) -> tuple[float, int]:
    """Rows per second importing a CSV of `rows` contacts with `nurture import contacts`."""

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "contacts.csv"
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(
                ["email", "first_name", "last_name", "title", "company", "industry", "country"]
            )
            for n in range(rows):
                writer.writerow(
                    [
                        f"imported{n}@firm{n % 800}.example",
                        f"First{n}",
                        f"Last{n}",
                        "Partner",
                        f"Firm {n % 800}",
                        "legal",
                        "DE",
                    ]
                )
        with session_scope(database_url) as db:
            started = time.perf_counter()
            report = import_contacts(db, path, actor="benchmark")
            elapsed = time.perf_counter() - started
        return rows / elapsed, report.created + report.updated + report.unchanged


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--import-rows", type=int, default=100_000)
    args = parser.parse_args()

    events = make_events(args.events)
    expected = len({e["idempotency_key"] for e in events})
    bodies = [
        json.dumps({"events": events[i : i + BATCH]}).encode() for i in range(0, len(events), BATCH)
    ]
    with services() as svc:
        database_url = fresh_database(svc.pg_admin_url, "bench_ingest")
        upgrade(database_url)
        with session_scope(database_url) as db:
            # Admin: the mix holds email.* types, which only admin keys may post.
            _, key = accounts.create_api_key(db, name="benchmark", role="admin", actor="benchmark")
        env = {
            "NURTURE_DATABASE_URL": database_url,
            "NURTURE_REDIS_URL": svc.redis_url,
            "NURTURE_DATA_DIR": tempfile.mkdtemp(prefix="nurture-bench-"),
            "NURTURE_SECRET_KEY": "benchmark-secret-" + "x" * 40,
        }
        with server(env, workers=args.web_workers) as base_url:
            # Warm up connections and caches with one small batch outside the timing.
            post_all(
                base_url,
                key,
                [
                    json.dumps(
                        {"events": [{"type": "warm.up", "email": "warm@up.example"}]}
                    ).encode()
                ],
                1,
            )
            seconds = post_all(base_url, key, bodies, args.clients)
        api_rate = len(events) / seconds
        with session_scope(database_url) as db:
            stored = (
                db.scalar(select(func.count()).select_from(Event).where(Event.type != "warm.up"))
                or 0
            )
            distinct_keys = (
                db.scalar(
                    select(func.count(func.distinct(Event.idempotency_key))).where(
                        Event.type != "warm.up"
                    )
                )
                or 0
            )
            contacts = db.scalar(select(func.count()).select_from(Contact)) or 0
        copy = copy_rate(database_url, events)
        ratio = api_rate / copy

        import_database = fresh_database(svc.pg_admin_url, "bench_import")
        upgrade(import_database)
        csv_rate, imported = import_rate(import_database, args.import_rows)

    exactly_once = stored == expected == distinct_keys
    print(f"events posted          {len(events):>10,} in {len(bodies)} batches of {BATCH}")
    print(
        f"unique keys expected   {expected:>10,}   stored {stored:,}"
        f"   distinct keys {distinct_keys:,}"
    )
    print(f"contacts created       {contacts:>10,}")
    print(
        f"API ingest             {api_rate:>10,.0f} events/s  ({seconds:.2f} s,"
        f" {args.clients} clients,"
        f" {args.web_workers} web workers)"
    )
    print(f"PostgreSQL COPY        {copy:>10,.0f} rows/s")
    print(f"ratio API / COPY       {ratio:>10.3f}   (target >= {TARGET_RATIO})")
    print(f"CSV import             {csv_rate:>10,.0f} rows/s  ({imported:,} contacts)")
    print(
        f"RESULT api_events_per_s={api_rate:.0f} copy_rows_per_s={copy:.0f} ratio={ratio:.3f} "
        f"exactly_once={int(exactly_once)} csv_import_rows_per_s={csv_rate:.0f}"
    )
    if not exactly_once:
        print("FAIL: events were not stored exactly once", file=sys.stderr)
        return 1
    if ratio < TARGET_RATIO:
        print(f"FAIL: ratio {ratio:.3f} below target {TARGET_RATIO}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
