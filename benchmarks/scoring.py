"""Lead scoring at scale: the full rescore against hand-written SQL, and the latency from
ingest to an updated score and to the hand-off notification.

On PostgreSQL with 1,000,000 contacts and 10,000,000 events (benchmarks/segments_data.py):

1. The full rescore with decay (`nurture.scoring.engine.rescore_all`) against one
   hand-written statement that computes the same scores and grades for the same rules
   and makes the same writes (contacts whose score or grade changed, and their
   score_history row for the day). Both start from the same state (scores and grades
   cleared, history empty) and must end in the same numbers; each runs twice,
   alternating, and the better time of each counts.
2. With `nurture serve` and `nurture worker` running on Redis, events posted one by
   one through the API: the time from the POST to the contact's new score (contacts
   at stage lead, +15 for a webinar attended), and to the hand-off e-mail's
   `notified_at` for leads the event takes over the MQL line (score 50-59, grade A or
   B, +20 for a form submitted). A poller reads both every 5 ms. The predictive model
   is fitted before (on this generated data it is refused: stages were drawn at random),
   so the weekly refit is not due while latency is measured.

    .venv/bin/python benchmarks/scoring.py [--contacts N] [--events N] [--samples N]

Targets: rescore / hand-written SQL <= 1.5, score p95 < 1000 ms, hand-off p95 < 2000 ms.
Last line: `RESULT rescore_ratio=... score_p95_ms=... handoff_p95_ms=... contacts=... events=...`
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import segments_data
from benchmarks._harness import Services, _serving, free_port, fresh_database, services
from nurture import accounts
from nurture.db import session_scope
from nurture.migrate import upgrade
from nurture.models import Role
from nurture.qualification import routing_rules, teams
from nurture.qualification import settings as qualification_settings
from nurture.scoring import predictive, store
from nurture.scoring.engine import rescore_all

TARGET_RATIO = 1.5
TARGET_SCORE_P95_MS = 1000.0
TARGET_HANDOFF_P95_MS = 2000.0
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
HALF_LIFE_DAYS = 45.0

BEHAVIOUR_RULES: list[dict[str, Any]] = [
    {"name": "Attended a webinar", "event_type": "webinar.attended", "points": 15},
    {"name": "Submitted a form", "event_type": "form.submitted", "points": 20},
    {"name": "Visited a page", "event_type": "page.visited", "points": 1},
    {"name": "Opened an e-mail", "event_type": "email.opened", "points": 1},
    {
        "name": "Clicked a pricing link",
        "event_type": "email.clicked",
        "where": [{"property": "url", "op": "contains", "value": "pricing"}],
        "points": 10,
        "cap_points": 30,
        "cap_days": 30,
    },
    {
        "name": "Read three case studies in a week",
        "event_type": "page.visited",
        "where": [{"property": "url", "op": "contains", "value": "case-study"}],
        "points": 8,
        "threshold_count": 3,
        "threshold_days": 7,
    },
    {
        "name": "Unhappy NPS answer",
        "event_type": "nps.answered",
        "where": [{"property": "score", "op": "lt", "value": 7}],
        "points": -5,
    },
]


def _has(field: str, op: str, value: object) -> dict[str, object]:
    return {"field": field, "op": op, "value": value}


BIG = ["51-200", "201-1000", "1001-5000", "5001+"]
FIT_RULES: list[dict[str, Any]] = [
    {"name": "Partner", "points": 20, "condition": _has("title", "contains", "partner")},
    {"name": "Director", "points": 15, "condition": _has("title", "contains", "director")},
    {
        "name": "50+ people",
        "points": 10,
        "condition": _has("company.size_band", "in", BIG),
    },
    {
        "name": "Target industry",
        "points": 10,
        "condition": _has("company.industry", "in", ["legal", "consulting"]),
    },
]  # fmt: skip

# The same scores and grades, written by hand: every award in one UNION ALL, the cap
# and the threshold over fixed windows counted from 1970, the decayed sum rounded half
# away from zero, the fit points summed in one CASE per rule, the same writes.
HAND_WRITTEN = """
WITH ev AS (
  SELECT id, contact_id, type, properties, extract(epoch FROM occurred_at) AS t
  FROM events
  WHERE type IN ('webinar.attended', 'form.submitted', 'page.visited', 'email.opened',
                 'email.clicked', 'nps.answered')
),
capped AS (
  SELECT contact_id, t,
         row_number() OVER (PARTITION BY contact_id, floor(t / (30 * 86400.0))
                            ORDER BY t, id) AS n
  FROM ev
  WHERE type = 'email.clicked' AND strpos(lower(properties->>'url'), 'pricing') > 0
),
windowed AS (
  SELECT contact_id, t,
         row_number() OVER (PARTITION BY contact_id, floor(t / (7 * 86400.0))
                            ORDER BY t, id) AS n
  FROM ev
  WHERE type = 'page.visited' AND strpos(lower(properties->>'url'), 'case-study') > 0
),
awards AS (
  SELECT contact_id, t,
         CASE type WHEN 'webinar.attended' THEN 15 WHEN 'form.submitted' THEN 20
                   WHEN 'nps.answered' THEN -5 ELSE 1 END AS points
  FROM ev
  WHERE type IN ('webinar.attended', 'form.submitted', 'page.visited', 'email.opened')
     OR (type = 'nps.answered' AND jsonb_typeof(properties->'score') = 'number'
         AND (properties->>'score')::float8 < 7)
  UNION ALL
  SELECT contact_id, t, least(10, greatest(0, 30 - 10 * (n - 1))) FROM capped WHERE n <= 3
  UNION ALL
  SELECT contact_id, t, 8 FROM windowed WHERE n = 3
),
totals AS (
  SELECT contact_id,
         sum(points * CASE WHEN t >= :now_epoch THEN 1.0
                           ELSE exp((t - :now_epoch) * :rate) END) AS total
  FROM awards GROUP BY contact_id
),
target AS (
  SELECT c.id,
         CAST(round(CAST(coalesce(s.total, 0.0) AS numeric)) AS integer) AS score,
         CASE WHEN f.points >= 40 THEN 'A' WHEN f.points >= 25 THEN 'B'
              WHEN f.points >= 10 THEN 'C' ELSE 'D' END AS grade
  FROM contacts AS c
  LEFT JOIN totals AS s ON s.contact_id = c.id
  LEFT JOIN companies AS co ON co.id = c.company_id
  CROSS JOIN LATERAL (
    SELECT CASE WHEN strpos(lower(c.title), 'partner') > 0 THEN 20 ELSE 0 END
         + CASE WHEN strpos(lower(c.title), 'director') > 0 THEN 15 ELSE 0 END
         + CASE WHEN co.size_band IN ('51-200', '201-1000', '1001-5000', '5001+')
                THEN 10 ELSE 0 END
         + CASE WHEN co.industry IN ('legal', 'consulting') THEN 10 ELSE 0 END AS points
  ) AS f
  WHERE c.erased_at IS NULL
),
changed AS (
  UPDATE contacts AS c SET score = target.score, fit_grade = target.grade
  FROM target
  WHERE c.id = target.id
    AND (c.score <> target.score OR c.fit_grade IS DISTINCT FROM target.grade)
  RETURNING c.id, c.score
)
INSERT INTO score_history (contact_id, day, score)
SELECT id, CAST(:day AS date), score FROM changed
ON CONFLICT (contact_id, day) DO UPDATE SET score = excluded.score
"""

RESET = [
    "UPDATE contacts SET score = 0, fit_grade = NULL WHERE score <> 0 OR fit_grade IS NOT NULL",
    "DELETE FROM score_history",
]


def timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def reset(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        for statement in RESET:
            conn.execute(text(statement))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE contacts"))
        conn.execute(text("VACUUM ANALYZE score_history"))
    engine.dispose()


def fingerprint(url: str) -> tuple[int, int, int, int]:
    """(Σ id·score, Σ id per grade letter, contacts with a score, history rows): two runs
    that agree on these wrote the same scores and grades to the same contacts."""
    engine = create_engine(url)
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT coalesce(sum(id * score), 0),"
                " coalesce(sum(id * (ascii(coalesce(fit_grade, '-')) - 64)), 0),"
                " count(*) FILTER (WHERE score <> 0),"
                " (SELECT count(*) FROM score_history) FROM contacts"
            )
        ).one()
    engine.dispose()
    return int(row[0]), int(row[1]), int(row[2]), int(row[3])


def ours(url: str) -> None:
    with session_scope(url) as db:
        rescore_all(db, now=NOW)


def hand_written(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(HAND_WRITTEN),
            {
                "now_epoch": NOW.timestamp(),
                "rate": math.log(2) / (HALF_LIFE_DAYS * 86400.0),
                "day": NOW.date(),
            },
        )
    engine.dispose()


def set_up_scoring(url: str) -> None:
    """The benchmark's rules and settings."""
    with session_scope(url) as db:
        store.update_settings(
            db,
            {"half_life_days": HALF_LIFE_DAYS, "grade_a": 40, "grade_b": 25, "grade_c": 10},
            actor="benchmark",
        )
        for rule in BEHAVIOUR_RULES:
            store.create_behaviour_rule(db, rule, actor="benchmark")
        for fit in FIT_RULES:
            store.create_fit_rule(db, fit, actor="benchmark")


# Score 60 or more, grade B or better, at stage lead, active in the last two days. The
# generated history ends days before the run, so the periodic sweep finds no backlog of
# matching leads (the one-off flood of switching qualification on for a full database)
# while the latency is measured; every lead the benchmark posts to is active.
MQL_RULE = {
    "version": 1,
    "rule": {
        "all": [
            _has("score", "gte", 60),
            _has("fit_grade", "at_least", "B"),
            _has("lifecycle_stage", "equals", "lead"),
            _has("last_activity_at", "within_last_days", 2),
        ]
    },
}


def set_up_qualification(url: str) -> None:
    """Three reps in one team, everyone routed to it, qualification on (MQL_RULE)."""
    with session_scope(url) as db:
        reps = [
            accounts.create_user(
                db,
                email=f"rep{n}@bench.example",
                name=f"Rep {n}",
                role=Role.SALES.value,
                password="benchmark-password-1",
                actor="benchmark",
            ).id
            for n in range(3)
        ]
        team = teams.create_team(db, {"name": "Bench team", "member_ids": reps}, actor="benchmark")
        routing_rules.create_rule(
            db, {"name": "Everyone", "match": {}, "team_id": team.id}, actor="benchmark"
        )
        qualification_settings.update(
            db, {"enabled": True, "sla_hours": 8, "mql_rule": MQL_RULE}, actor="benchmark"
        )


def rescore_ratio(url: str) -> tuple[float, float, bool]:
    """(our best seconds, hand-written best seconds, same results)."""
    ours_times: list[float] = []
    base_times: list[float] = []
    prints: dict[str, tuple[int, int, int, int]] = {}
    # Alternating, ours last: the latency phase starts from our own rescore.
    for name, action, times in (
        ("hand-written", hand_written, base_times),
        ("ours", ours, ours_times),
        ("hand-written", hand_written, base_times),
        ("ours", ours, ours_times),
    ):
        reset(url)
        seconds = timed(lambda action=action: action(url))  # type: ignore[misc]
        times.append(seconds)
        prints[name] = fingerprint(url)
        print(f"  {name:<13} {seconds:8.2f} s  fingerprint {prints[name]}")
    return min(ours_times), min(base_times), prints["ours"] == prints["hand-written"]


def pick(url: str, query: str, count: int) -> list[int]:
    engine = create_engine(url)
    with engine.connect() as conn:
        ids = [int(i) for i in conn.execute(text(query), {"count": count}).scalars()]
    engine.dispose()
    return ids


# Leads that are not suppressed (segments_data suppresses every 33rd contact).
PLAIN = """
SELECT id FROM contacts
WHERE lifecycle_stage = 'lead' AND id % 33 <> 0 AND erased_at IS NULL AND score < 40
ORDER BY id % 7919, id LIMIT :count
"""
NEAR_THE_LINE = """
SELECT id FROM contacts
WHERE lifecycle_stage = 'lead' AND id % 33 <> 0 AND erased_at IS NULL
  AND score BETWEEN 45 AND 59 AND fit_grade IN ('A', 'B')
  AND NOT EXISTS (SELECT 1 FROM handoffs h WHERE h.contact_id = contacts.id)
ORDER BY id % 7919, id LIMIT :count
"""


class Watcher:
    """Polls the database every 5 ms for the contacts posted to: when each one's score
    changed and when its hand-off e-mail was sent."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)
        self.lock = threading.Lock()
        self.scores: dict[int, tuple[int, float]] = {}  # id -> (score before, posted at)
        self.handoffs: dict[int, float] = {}  # id -> posted at
        self.score_ms: list[float] = []
        self.handoff_ms: list[float] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        with self.engine.connect() as conn:
            while not self.stopping.wait(0.005):
                with self.lock:
                    scores = dict(self.scores)
                    handoffs = dict(self.handoffs)
                if scores:
                    rows = conn.execute(
                        text("SELECT id, score FROM contacts WHERE id = ANY(:ids)"),
                        {"ids": list(scores)},
                    ).all()
                    seen = time.perf_counter()
                    with self.lock:
                        for contact_id, score in rows:
                            before, posted = scores[contact_id]
                            if score != before and contact_id in self.scores:
                                del self.scores[contact_id]
                                self.score_ms.append((seen - posted) * 1000)
                if handoffs:
                    rows = conn.execute(
                        text(
                            "SELECT contact_id FROM handoffs WHERE contact_id = ANY(:ids)"
                            " AND notified_at IS NOT NULL"
                        ),
                        {"ids": list(handoffs)},
                    ).all()
                    seen = time.perf_counter()
                    with self.lock:
                        for (contact_id,) in rows:
                            if contact_id in self.handoffs:
                                posted = self.handoffs.pop(contact_id)
                                self.handoff_ms.append((seen - posted) * 1000)
                conn.rollback()

    def pending(self) -> int:
        with self.lock:
            return len(self.scores) + len(self.handoffs)


def post_event(conn: http.client.HTTPConnection, key: str, event: dict[str, Any]) -> None:
    body = json.dumps({"events": [event]})
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    conn.request("POST", "/api/v1/events", body=body, headers=headers)
    answer = conn.getresponse()
    answer.read()
    if answer.status >= 300:
        raise RuntimeError(f"events API answered {answer.status}")


def latency(svc: Services, url: str, samples: int) -> tuple[list[float], list[float]]:
    """Events posted one at a time to a running server and worker; the milliseconds to
    the new score and to the hand-off e-mail."""
    plain = pick(url, PLAIN, samples)
    crossing = pick(url, NEAR_THE_LINE, samples)
    with session_scope(url) as db:
        _, key = accounts.create_api_key(db, name="benchmark", role="admin", actor="benchmark")
        rows = db.execute(
            text("SELECT id, score FROM contacts WHERE id = ANY(:ids)"), {"ids": plain + crossing}
        )
        before: dict[int, int] = {int(c): int(s) for c, s in rows}
    env = {
        "NURTURE_DATABASE_URL": url,
        "NURTURE_REDIS_URL": svc.redis_url,
        "NURTURE_DATA_DIR": tempfile.mkdtemp(prefix="nurture-bench-"),
        "NURTURE_SECRET_KEY": "benchmark-secret-" + "x" * 40,
    }
    watcher = Watcher(url)
    port = free_port()
    serve = ["-m", "nurture.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    work = ["-m", "nurture.cli", "worker", "--processes", "1", "--threads", "4"]
    with _serving(serve, env, port, "/healthz", 200) as base, _background(work, env):
        time.sleep(3)  # the worker connects to Redis and declares its queues
        host, port_text = base.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port_text), timeout=30)
        watcher.thread.start()
        now = datetime.now(UTC)
        jobs = [("webinar.attended", c, False) for c in plain] + [
            ("form.submitted", c, True) for c in crossing
        ]
        jobs.sort(key=lambda job: job[1] % 101)
        for n, (kind, contact_id, crosses) in enumerate(jobs):
            event = {
                "type": kind,
                "contact_id": contact_id,
                "occurred_at": (now + timedelta(milliseconds=n)).isoformat(),
                "properties": {"bench": n},
            }
            posted = time.perf_counter()
            with watcher.lock:
                if crosses:
                    watcher.handoffs[contact_id] = posted
                else:
                    watcher.scores[contact_id] = (before[contact_id], posted)
            post_event(conn, key, event)
            time.sleep(0.1)
        deadline = time.monotonic() + 30
        while watcher.pending() and time.monotonic() < deadline:
            time.sleep(0.05)
        watcher.stopping.set()
        watcher.thread.join(5)
        conn.close()
    missed = watcher.pending()
    if missed:
        print(f"  {missed} contacts saw no change within 30 s")
    return watcher.score_ms, watcher.handoff_ms


@contextmanager
def _background(argv: list[str], env: dict[str, str]) -> Iterator[None]:
    """A `nurture worker` for the duration; stopped with SIGTERM (bounded shutdown)."""
    process = subprocess.Popen(
        [sys.executable, *argv],
        env={**os.environ, **env},
        cwd=Path(__file__).resolve().parent.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()


def p95(values: list[float]) -> float:
    if not values:
        return float("inf")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    with services() as svc:
        url = fresh_database(svc.pg_admin_url, "bench_scoring")
        upgrade(url)
        engine = create_engine(url)
        print(f"generating {args.contacts:,} contacts and {args.events:,} events ...")
        segments_data.generate(
            engine,
            contacts=args.contacts,
            companies=max(1, args.contacts // 10),
            events=args.events,
            now=NOW,
        )
        engine.dispose()
        set_up_scoring(url)
        print("full rescore with decay (best of two each):")
        mine, baseline, same = rescore_ratio(url)
        ratio = mine / baseline
        print(
            f"  ratio ours / hand-written = {ratio:.3f}  (target <= {TARGET_RATIO});"
            f" same results: {same}"
        )
        set_up_qualification(url)
        # The worker's tick asks for the weekly refit when no fit exists; fitted here, it
        # is not due while latency is measured (as in any week but the first).
        started = time.perf_counter()
        with session_scope(url) as db:
            fit = predictive.fit_model(db, requested_by="benchmark")
            outcome = fit.reason or f"published, AUC {fit.metrics.get('auc')}"
        print(f"predictive fit in {time.perf_counter() - started:.1f} s: {outcome}")
        print(f"latency: {args.samples} score changes, {args.samples} hand-offs through the API")
        score_ms, handoff_ms = latency(svc, url, args.samples)
    score_p95 = p95(score_ms)
    handoff_p95 = p95(handoff_ms)
    for name, values in (("score", score_ms), ("hand-off", handoff_ms)):
        if values:
            print(
                f"  {name:<9} n={len(values)} median {statistics.median(values):7.1f} ms"
                f"  p95 {p95(values):7.1f} ms  max {max(values):7.1f} ms"
            )
    met = (
        same
        and ratio <= TARGET_RATIO
        and score_p95 < TARGET_SCORE_P95_MS
        and handoff_p95 < TARGET_HANDOFF_P95_MS
        and len(score_ms) == args.samples
        and len(handoff_ms) > 0
    )
    print(
        f"RESULT rescore_ratio={ratio:.3f} score_p95_ms={score_p95:.1f}"
        f" handoff_p95_ms={handoff_p95:.1f} contacts={args.contacts} events={args.events}"
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
