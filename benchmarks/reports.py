"""The four reports over a synthetic history, on PostgreSQL and SQLite.

    .venv/bin/python benchmarks/reports.py [--contacts 100000]

Builds `contacts` contacts over a year (about 1.6 lifecycle changes, 2 content
clicks and half an enrolment with an e-mail and its opens each), then times
each report for the whole year and for one month, best of three, on both
databases. Prints one line per report and database; the last line is
`RESULT contacts=... <report>_<db>_ms=...`.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._harness import fresh_database, services
from nurture.db import get_engine, session_scope
from nurture.migrate import upgrade
from nurture.models import (
    CaseStudy,
    Contact,
    EmailMessage,
    Enrolment,
    Event,
    LifecycleChange,
    Sequence,
    SequenceVersion,
    StepRun,
)
from nurture.reports.content import content_read
from nurture.reports.filters import ReportFilter
from nurture.reports.funnel import funnel
from nurture.reports.movement import Interval, movement
from nurture.reports.sequences import sequence_performance

START = datetime(2025, 1, 1, tzinfo=UTC)
STAGES = ("lead", "mql", "sql", "opportunity", "customer")
CHUNK = 20_000
LINKS = [f"https://example.com/cases/{n}" for n in range(40)]


def populate(url: str, contacts: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    engine = get_engine(url)
    with session_scope(url) as db:
        for n, link in enumerate(LINKS):
            db.add(CaseStudy(title=f"Story {n}", industry="legal", problem="p", link=link))
        sequences = []
        for n in range(8):
            sequence = Sequence(name=f"Sequence {n}", status="active")
            db.add(sequence)
            db.flush()
            version = SequenceVersion(sequence_id=sequence.id, number=1, definition={})
            db.add(version)
            db.flush()
            sequences.append((sequence.id, version.id))
        db.commit()
    people: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    enrolments: list[dict[str, Any]] = []
    for n in range(1, contacts + 1):
        created = START + timedelta(minutes=rng.randrange(365 * 24 * 60))
        at, stage = created, "lead"
        while stage != "customer" and rng.random() < 0.45:
            following = STAGES[STAGES.index(stage) + 1]
            at += timedelta(hours=rng.randrange(1, 24 * 40))
            changes.append(
                {"contact_id": n, "from_stage": stage, "to_stage": following, "occurred_at": at}
            )
            stage = following
        people.append(
            {
                "id": n,
                "email": f"p{n}@example.com",
                "lifecycle_stage": stage,
                "attributes": {"source": rng.choice(("website", "referral", "event"))},
                "created_at": created,
            }
        )
        for _ in range(rng.randrange(5)):
            events.append(
                {
                    "contact_id": n,
                    "type": "email.clicked",
                    "occurred_at": created + timedelta(hours=rng.randrange(24 * 60)),
                    "properties": {"url": rng.choice(LINKS)},
                }
            )
        if rng.random() < 0.5:
            sequence_id, version_id = rng.choice(sequences)
            enrolments.append(
                {
                    "id": len(enrolments) + 1,
                    "sequence_id": sequence_id,
                    "version_id": version_id,
                    "contact_id": n,
                    "state": "completed",
                    "enrolled_at": created + timedelta(hours=1),
                }
            )
    messages = [
        {
            "id": e["id"],
            "idempotency_key": f"seq:{e['id']}:a",
            "status": "sent" if e["id"] % 20 else "bounced",
            "kind": "sequence",
            "contact_id": e["contact_id"],
        }
        for e in enrolments
    ]
    runs = [
        {"enrolment_id": e["id"], "step_key": "a", "detail": {"message_id": e["id"]}}
        for e in enrolments
    ]
    for e in enrolments:
        if rng.random() < 0.4:
            events.append(
                {
                    "contact_id": e["contact_id"],
                    "type": "email.opened",
                    "occurred_at": e["enrolled_at"] + timedelta(hours=2),
                    "properties": {"message_id": e["id"]},
                }
            )
    for number, row in enumerate(events, start=1):
        row["idempotency_key"] = f"bench:{number}"
    with engine.begin() as conn:
        for table, rows in (
            (Contact, people),
            (LifecycleChange, changes),
            (Event, events),
            (Enrolment, enrolments),
            (EmailMessage, messages),
            (StepRun, runs),
        ):
            for first in range(0, len(rows), CHUNK):
                conn.execute(insert(table), rows[first : first + CHUNK])
        # As autovacuum would after a load: the planner needs to know the tables' sizes.
        conn.execute(text("ANALYZE"))
    print(
        f"  {contacts} contacts, {len(changes)} changes, {len(events)} events, "
        f"{len(enrolments)} enrolments",
        flush=True,
    )


def best_ms(url: str, run: Callable[[Any], object]) -> float:
    times = []
    for _ in range(3):
        with session_scope(url) as db:
            began = time.perf_counter()
            run(db)
            times.append((time.perf_counter() - began) * 1000)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=100_000)
    args = parser.parse_args()
    year = ReportFilter(date(2025, 1, 1), date(2025, 12, 31))
    month = ReportFilter(date(2025, 6, 1), date(2025, 6, 30))
    reports: dict[str, Callable[[Any], object]] = {
        "funnel": lambda db: funnel(db, year),
        "funnel_month": lambda db: funnel(db, month),
        "lifecycle": lambda db: movement(db, year, Interval.WEEK),
        "sequences": lambda db: sequence_performance(db, year),
        "content": lambda db: content_read(db, year),
    }
    results: dict[str, float] = {}
    with services() as found, tempfile.TemporaryDirectory() as folder:
        urls = {
            "pg": fresh_database(found.pg_admin_url, "nurture_bench_reports"),
            "sqlite": f"sqlite:///{folder}/reports.db",
        }
        for name, url in urls.items():
            upgrade(url)
            print(f"{name}: populating", flush=True)
            populate(url, args.contacts)
            for report, run in reports.items():
                results[f"{report}_{name}_ms"] = best_ms(url, run)
                print(f"  {report:<13} {results[f'{report}_{name}_ms']:8.1f} ms", flush=True)
            get_engine(url).dispose()
    figures = " ".join(f"{key}={value:.0f}" for key, value in results.items())
    print(f"RESULT contacts={args.contacts} {figures}")


if __name__ == "__main__":
    main()
