"""Event ingest through the API against COPY into a copy of `events`, and the CSV import rate.

Posts 100,000 events in batches of 500 (a tenth of them repeating an earlier
idempotency key, spread over 10,000 contacts named by e-mail) to a running
`nurture serve` on PostgreSQL with Redis as the broker (the production shape:
the web process stores and enqueues, workers process). In the same run it
COPYs the rows the API stored into a table built from `events`' own definition
(same primary key, unique idempotency index, behaviour index, every other
index) with the same foreign key to contacts, and compares the rates of stored
rows per second. Then it imports 100,000 contact rows from a CSV file.

    .venv/bin/python benchmarks/ingest.py [--events N] [--clients C] [--web-workers W]

Target: API / COPY >= 0.5, every event stored exactly once. The last line is
`RESULT api_events_per_s=... copy_indexed_rows_per_s=... ratio=... exactly_once=1|0`.
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
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._harness import Services, fresh_database, server, services
from nurture import accounts
from nurture.db import session_scope
from nurture.imports.importer import import_contacts
from nurture.migrate import upgrade
from nurture.models import Contact, Event

TARGET_RATIO = 0.5
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


def copy_rate(database_url: str, events: list[dict[str, Any]]) -> tuple[float, int]:
    """Rows per second for COPY of the rows the API stored into a copy of `events`.

    The copy is made from the live table's own definition (columns, defaults,
    primary key, unique idempotency index, behaviour index and every other
    index) plus the same foreign key to contacts, so COPY pays for the same
    index and constraint work as the API. COPY cannot skip a repeated key, so
    it loads each idempotency key's first row: exactly the rows the API
    stored. Contacts are the ones the API created, named by id.
    """
    url = make_url(database_url)
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as conn:
        ids: dict[str, int] = dict(conn.execute("SELECT email, id FROM contacts").fetchall())
        received = datetime.now(UTC)
        seen: set[str] = set()
        rows = []
        for n, e in enumerate(events):
            if e["idempotency_key"] in seen:
                continue
            seen.add(e["idempotency_key"])
            rows.append(
                (
                    n + 1,
                    ids[e["email"]],
                    e["type"],
                    e["occurred_at"],
                    received,
                    json.dumps(e["properties"]),
                    "api",
                    e["idempotency_key"],
                )
            )
        conn.execute("CREATE TABLE copy_events (LIKE events INCLUDING ALL)")
        conn.execute(
            "ALTER TABLE copy_events ADD FOREIGN KEY (contact_id)"
            " REFERENCES contacts (id) ON DELETE CASCADE"
        )
        conn.commit()
        started = time.perf_counter()
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY copy_events (id, contact_id, type, occurred_at, received_at, properties,"
                " source, idempotency_key) FROM STDIN"
            ) as copy,
        ):
            for row in rows:
                copy.write_row(row)
        conn.commit()
        elapsed = time.perf_counter() - started
        conn.execute("DROP TABLE copy_events")
        conn.commit()
    return len(rows) / elapsed, len(rows)


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


@dataclass(frozen=True)
class Round:
    seconds: float
    stored: int
    distinct_keys: int
    contacts: int
    copy_rate: float
    copied: int

    @property
    def api_rate(self) -> float:
        # Both sides in rows stored per second: the API also reads and drops the
        # repeated keys, COPY is handed only the first row of each.
        return self.stored / self.seconds


def ingest_round(
    svc: Services, events: list[dict[str, Any]], bodies: list[bytes], clients: int, web: int
) -> Round:
    """One fresh database: the API run, then COPY of the same rows beside it."""
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
    with server(env, workers=web) as base_url:
        # Warm up connections and caches with one small batch outside the timing.
        warm = {"events": [{"type": "warm.up", "email": "warm@up.example"}]}
        post_all(base_url, key, [json.dumps(warm).encode()], 1)
        seconds = post_all(base_url, key, bodies, clients)
    with session_scope(database_url) as db:
        real = Event.type != "warm.up"
        stored = db.scalar(select(func.count()).select_from(Event).where(real)) or 0
        distinct = select(func.count(func.distinct(Event.idempotency_key))).where(real)
        distinct_keys = db.scalar(distinct) or 0
        contacts = db.scalar(select(func.count()).select_from(Contact)) or 0
    copy, copied = copy_rate(database_url, events)
    return Round(seconds, stored, distinct_keys, contacts, copy, copied)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="API and COPY runs, alternating; the best of each side counts (others share the CPU)",
    )
    args = parser.parse_args()

    events = make_events(args.events)
    expected = len({e["idempotency_key"] for e in events})
    bodies = [
        json.dumps({"events": events[i : i + BATCH]}).encode() for i in range(0, len(events), BATCH)
    ]
    with services() as svc:
        rounds = [
            ingest_round(svc, events, bodies, args.clients, args.web_workers)
            for _ in range(args.rounds)
        ]
        import_database = fresh_database(svc.pg_admin_url, "bench_import")
        upgrade(import_database)
        csv_rate, imported = import_rate(import_database, args.import_rows)

    best = min(rounds, key=lambda r: r.seconds)
    api_rate = best.api_rate
    copy = max(r.copy_rate for r in rounds)
    ratio = api_rate / copy
    exactly_once = all(r.stored == expected == r.distinct_keys == r.copied for r in rounds)
    stored, distinct_keys, contacts, seconds = (
        best.stored,
        best.distinct_keys,
        best.contacts,
        best.seconds,
    )
    for n, r in enumerate(rounds, 1):
        print(f"round {n}: API {r.api_rate:,.0f} events stored/s, COPY {r.copy_rate:,.0f} rows/s")
    print(f"events posted          {len(events):>10,} in {len(bodies)} batches of {BATCH}")
    print(
        f"unique keys expected   {expected:>10,}   stored {stored:,}"
        f"   distinct keys {distinct_keys:,}"
    )
    print(f"contacts created       {contacts:>10,}")
    print(
        f"API ingest             {api_rate:>10,.0f} events stored/s  ({seconds:.2f} s,"
        f" {args.clients} clients, {args.web_workers} web workers)"
    )
    print(f"COPY into indexed copy {copy:>10,.0f} rows/s  ({best.copied:,} rows)")
    print(f"ratio API / COPY       {ratio:>10.3f}   (target >= {TARGET_RATIO})")
    print(f"CSV import             {csv_rate:>10,.0f} rows/s  ({imported:,} contacts)")
    print(
        f"RESULT api_events_per_s={api_rate:.0f} copy_indexed_rows_per_s={copy:.0f}"
        f" ratio={ratio:.3f} exactly_once={int(exactly_once)}"
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
