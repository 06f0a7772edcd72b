"""The NPS score endpoint under load, beside a bare POST endpoint of the same server.

Starts PostgreSQL and Redis, seeds one completed project whose client contacts each
have a sent survey (SURVEYS of them, inserted in bulk), and serves the app the way
`nurture serve` does (Granian, one web process, Redis as the broker and the rate
limiter's counters) through benchmarks/survey_server.py, whose one change is the
per-address answer limit raised out of reach (every request still counts against
it; wrk's clients all share 127.0.0.1), with the benchmark-only endpoints enabled
(NURTURE_BENCH_ENDPOINTS=1). wrk drives both with the same client, the same
connections (200) and the same duration (20 s) on loopback: first the bare POST
twin (`POST /t/bench/{token}`: reads the same form body, verifies nothing, records
nothing, gives the same redirect), then the score endpoint (`POST /nps/{token}`,
the form a person submits from the confirm page: `score=N`, no `auto`, a browser's
user agent). Rounds alternate; each endpoint's best round counts, so a busy
neighbour on the machine does not decide the ratio.

Every wrk thread walks its own plan: its share of the surveys in order, each
answered once with a score of its own, and every REPEAT_EVERY-th request a
deliberate repeat (the same token, the same score) of a survey answered REPEAT_LAG
requests earlier on that thread, long finished, which must store nothing. A run
goes on where the thread's previous run stopped; a plan that runs out wraps round,
and everything after the wrap is a repeat.

The endpoint takes a score into the server's answer recorder, which writes batches in
the background; so the counting waits for the server's graceful stop, which writes
what the recorder still holds. Then it checks that every answer is stored exactly
once: one `nps_answers` row and one `nps.answered` event per answered survey, no
survey answered that no request named, every request the server answered 303 for a
new survey stored, and no survey lost except ones whose request the server never
answered (in flight when wrk stopped and dropped with the connection).

    .venv/bin/python benchmarks/survey.py [--seconds 20] [--connections 200] [--rounds 1]

Targets: score / bare >= 0.5, every answer stored once. The last line is `RESULT
ratio=... survey_rps=... bare_rps=... survey_p99_ms=... exactly_once=1|0`.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._harness import REPO, _serving, free_port, fresh_database, services
from nurture.db import session_scope
from nurture.migrate import upgrade
from nurture.models import Contact, Event, NpsAnswer, NpsSurvey, Project, utcnow
from templates.tokens import TokenSigner

TARGET_RATIO = 0.5
SECRET = "benchmark-secret-" + "x" * 40
SURVEYS = 100_000
REPEAT_EVERY = 10
REPEAT_LAG = 1_000
SCORE_ROUTE = "/nps/"
BROWSER = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
# Each thread reads plan-<id>.txt ("<token> <score>" a line) and starts at the line
# given for it in args; request() takes the next line, `prefix` decides the endpoint.
WRK_SCRIPT = """
local next_id = 0
local threads = {}
function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end
function init(args)
  local plan = {}
  for line in io.lines("%(folder)s/plan-" .. id .. ".txt") do plan[#plan + 1] = line end
  lines = plan
  prefix = args[1]
  position = tonumber(args[2 + id])
  issued = 0
  ok = 0
  bad = 0
  headers = {}
  headers["Content-Type"] = "application/x-www-form-urlencoded"
  headers["User-Agent"] = "%(agent)s"
end
function request()
  local line = lines[position %% #lines + 1]
  position = position + 1
  issued = issued + 1
  local token, score = line:match("(%%S+) (%%S+)")
  return wrk.format("POST", prefix .. token, headers, "score=" .. score)
end
function response(status, headers, body)
  if status == 303 then ok = ok + 1 else bad = bad + 1 end
end
function done(summary, latency, requests)
  local parts = {}
  local o, b = 0, 0
  for _, t in ipairs(threads) do
    parts[#parts + 1] = tostring(t:get("issued"))
    o = o + t:get("ok")
    b = b + t:get("bad")
  end
  io.write(string.format(
    "BENCH ok=%%d bad=%%d p99_us=%%d requests=%%d seconds=%%f errors=%%d issued=%%s\\n",
    o, b, latency:percentile(99), summary.requests, summary.duration / 1e6,
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout,
    table.concat(parts, ",")))
end
"""


@dataclass(frozen=True, slots=True)
class Step:
    """One line of a thread's plan: which survey, and whether it is its first answer."""

    survey_id: int
    token: str
    score: int
    first: bool


@dataclass(slots=True)
class Plans:
    """Each wrk thread's plan and how far its runs have gone into it."""

    folder: Path
    steps: list[list[Step]]
    positions: list[int] = field(default_factory=list)

    def issued(self) -> tuple[int, int, set[int]]:
        """(first answers sent, repeats sent, ids of the surveys first answered)."""
        firsts = repeats = 0
        named: set[int] = set()
        for plan, position in zip(self.steps, self.positions, strict=True):
            done = plan[: min(position, len(plan))]
            new = [s.survey_id for s in done if s.first]
            firsts += len(new)
            named.update(new)
            repeats += position - len(new)
        return firsts, repeats, named


def seed(database_url: str, count: int) -> list[tuple[int, int]]:
    """A completed project with `count` client contacts, each with a sent survey;
    answers (survey id, contact id) pairs."""
    now = utcnow()
    with session_scope(database_url) as db:
        project = Project(
            external_id="bench-project",
            name="Benchmark project",
            status="completed",
            completed_at=now - timedelta(days=4),
        )
        db.add(project)
        db.flush()
        db.execute(
            insert(Contact),
            [
                {
                    "email": f"client{n}@bench.example",
                    "lifecycle_stage": "customer",
                    "attributes": {},
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(count)
            ],
        )
        contacts = list(db.scalars(select(Contact.id).order_by(Contact.id)))
        db.execute(
            insert(NpsSurvey),
            [
                {
                    "project_id": project.id,
                    "contact_id": contact_id,
                    "created_at": now - timedelta(days=1),
                    "expires_at": now + timedelta(days=59),
                    "sent_at": now - timedelta(days=1),
                }
                for contact_id in contacts
            ],
        )
        return list(
            (survey_id, contact_id)
            for survey_id, contact_id in db.execute(
                select(NpsSurvey.id, NpsSurvey.contact_id).order_by(NpsSurvey.id)
            )
        )


def make_plans(
    signer: TokenSigner, surveys: list[tuple[int, int]], threads: int, expires_on: date
) -> Plans:
    folder = Path(tempfile.mkdtemp(prefix="nurture-wrk-survey-"))
    steps: list[list[Step]] = []
    for thread in range(threads):
        plan: list[Step] = []
        for survey_id, contact_id in surveys[thread::threads]:
            if len(plan) % REPEAT_EVERY == REPEAT_EVERY - 1 and len(plan) >= REPEAT_LAG:
                earlier = plan[len(plan) - REPEAT_LAG]
                plan.append(Step(earlier.survey_id, earlier.token, earlier.score, first=False))
            token = signer.survey(survey_id, contact_id, expires_on)
            plan.append(Step(survey_id, token, survey_id % 11, first=True))
        steps.append(plan)
        (folder / f"plan-{thread}.txt").write_text("".join(f"{s.token} {s.score}\n" for s in plan))
    return Plans(folder, steps, [0] * threads)


@contextmanager
def survey_server(env: dict[str, str]) -> Iterator[str]:
    """benchmarks/survey_server.py (the app as `nurture serve` runs it, one web process,
    the per-address answer limit out of reach); yields its base URL once it answers."""
    port = free_port()
    argv = ["-m", "benchmarks.survey_server", "--port", str(port)]
    with _serving(argv, {**env, "PYTHONPATH": str(REPO)}, port, "/healthz", 200) as base:
        yield base


def run_wrk(
    base: str, prefix: str, plans: Plans, seconds: int, connections: int
) -> dict[str, float]:
    threads = len(plans.steps)
    script = plans.folder / "post.lua"
    script.write_text(WRK_SCRIPT % {"folder": plans.folder, "agent": BROWSER})
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            base,
            "--",
            prefix,
            *(str(p) for p in plans.positions),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    found = re.search(r"BENCH (.*)", out.stdout)
    if found is None:
        raise RuntimeError(f"wrk said:\n{out.stdout}\n{out.stderr}")
    values = dict(item.split("=") for item in found.group(1).split())
    issued = [int(n) for n in values.pop("issued").split(",")]
    if prefix.startswith(SCORE_ROUTE):
        # The bare endpoint stores nothing: only the score runs move the plans on.
        plans.positions = [p + n for p, n in zip(plans.positions, issued, strict=True)]
    result = {k: float(v) for k, v in values.items()}
    result["rps"] = result["requests"] / result["seconds"]
    return result


def server_answers(base: str) -> tuple[int, int]:
    """(303 answers, other answers) this server gave to POSTs on the score route."""
    with urllib.request.urlopen(f"{base}/metrics", timeout=10) as answer:  # noqa: S310
        text = answer.read().decode()
    redirects = others = 0.0
    for line in text.splitlines():
        if not line.startswith("nurture_http_requests_total{"):
            continue
        labels = line[: line.rindex("}")]
        # A POST the app could not route ("unmatched") would be a score request too:
        # nothing else is posted during the run.
        score = f'route="{SCORE_ROUTE}' in labels or 'route="unmatched"' in labels
        if 'method="POST"' not in labels or not score:
            continue
        if "follow-up" in labels:
            continue
        value = float(line.rsplit(" ", 1)[1])
        if 'status="303"' in labels:
            redirects += value
        else:
            others += value
    return int(redirects), int(others)


@dataclass(frozen=True, slots=True)
class Stored:
    answers: int  # nps_answers rows
    surveys_in_answers: int  # distinct surveys among them
    answered: int  # surveys with an answer
    events: int  # nps.answered events
    surveys_in_events: int  # distinct surveys named by them
    answered_ids: frozenset[int]


def stored(database_url: str) -> Stored:
    with session_scope(database_url) as db:
        answers, distinct = db.execute(
            select(func.count(), func.count(func.distinct(NpsAnswer.survey_id)))
        ).one()
        answered = set(db.scalars(select(NpsSurvey.id).where(NpsSurvey.answered_at.is_not(None))))
        named = [
            props.get("survey_id")
            for props in db.scalars(select(Event.properties).where(Event.type == "nps.answered"))
        ]
    return Stored(
        answers, distinct, len(answered), len(named), len(set(named)), frozenset(answered)
    )


def wait_until_settled(database_url: str, timeout: float = 60.0) -> Stored:
    """Read the stored answers until two readings agree (writes may still be landing)."""
    deadline = time.monotonic() + timeout
    last = stored(database_url)
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = stored(database_url)
        if now == last and now.answers == now.events:
            return now
        last = now
    return last


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--surveys", type=int, default=SURVEYS)
    args = parser.parse_args()

    signer = TokenSigner(SECRET)
    # Other work on the machine shares its cores with the server and wrk: say how much.
    load_before = os.getloadavg()[0]
    runs: dict[str, list[dict[str, float]]] = {"bare": [], "score": []}
    with services() as svc:
        database_url = fresh_database(svc.pg_admin_url, "bench_survey")
        upgrade(database_url)
        started = time.monotonic()
        surveys = seed(database_url, args.surveys)
        expires_on = (utcnow() + timedelta(days=59)).date()
        plans = make_plans(signer, surveys, args.threads, expires_on)
        prepared = time.monotonic() - started
        env = {
            "NURTURE_DATABASE_URL": database_url,
            "NURTURE_REDIS_URL": svc.redis_url,
            "NURTURE_DATA_DIR": tempfile.mkdtemp(prefix="nurture-bench-"),
            "NURTURE_SECRET_KEY": SECRET,
            "NURTURE_BENCH_ENDPOINTS": "1",
        }
        with survey_server(env) as base:
            load = (args.connections,)
            # Warm up both (connections, pools, caches) outside the timing; the score
            # warm-up answers surveys too, and counts in the exactly-once check.
            run_wrk(base, "/t/bench/", plans, 3, *load)
            run_wrk(base, SCORE_ROUTE, plans, 3, *load)
            for _ in range(args.rounds):
                runs["bare"].append(run_wrk(base, "/t/bench/", plans, args.seconds, *load))
                runs["score"].append(run_wrk(base, SCORE_ROUTE, plans, args.seconds, *load))
            redirects, others = server_answers(base)
        # Counted once the server has stopped: its graceful stop writes the scores
        # its answer recorder still holds (a spool left behind would show as lost).
        found = wait_until_settled(database_url)

    best = {name: max(found_runs, key=lambda r: r["rps"]) for name, found_runs in runs.items()}
    bare, score = best["bare"], best["score"]
    ratio = score["rps"] / bare["rps"]
    score_p99 = score["p99_us"] / 1000
    firsts, repeats, named = plans.issued()
    # Requests sent that the server never answered (dropped with wrk's connections at
    # its stops): only these may leave a first answer unstored.
    unanswered = max(0, firsts + repeats - redirects - others)
    wrk_bad = sum(int(r["bad"]) for r in runs["score"])
    checks = {
        "one row per answered survey": found.answers == found.surveys_in_answers == found.answered,
        "one nps.answered event per row": found.events == found.surveys_in_events == found.answers,
        "only surveys a request named": found.answered_ids <= named,
        "no first answer lost": firsts - unanswered <= found.answered <= firsts,
        "repeats stored nothing": found.answers <= firsts,
        "every answer a 303": others == 0 and wrk_bad == 0,
    }
    exactly_once = all(checks.values())
    print(f"surveys seeded         {len(surveys):>10,}   (prepared in {prepared:.1f} s)")
    print(
        f"machine load           {load_before:.2f} before, {os.getloadavg()[0]:.2f} after"
        f" (1-minute average, {os.cpu_count()} cores)"
    )
    print(
        f"load                   {args.connections} connections, {args.threads} wrk threads,"
        f" {args.seconds} s, loopback, {args.rounds} round(s)"
    )
    for name, found_runs in runs.items():
        rounds = ", ".join(
            f"{r['rps']:,.0f} req/s p99 {r['p99_us'] / 1000:.2f} ms"
            f" ({int(r['errors'])} socket errors)"
            for r in found_runs
        )
        print(f"{name:<22} {rounds}")
    print(f"ratio score / bare     {ratio:>10.3f}   (target >= {TARGET_RATIO})")
    print(f"score p99              {score_p99:>10.2f} ms")
    print(
        f"requests sent          {firsts:,} first answers + {repeats:,} repeats"
        f" (1 in {REPEAT_EVERY}, {REPEAT_LAG} requests after the first)"
    )
    print(f"server answers         {redirects:,} x 303, {others} other; wrk saw {wrk_bad} non-303")
    print(
        f"stored                 {found.answers:,} answers of {found.surveys_in_answers:,} surveys,"
        f" {found.answered:,} surveys answered, {found.events:,} nps.answered events"
    )
    for name, passed in checks.items():
        print(f"  {'ok  ' if passed else 'FAIL'} {name}")
    print(
        f"RESULT ratio={ratio:.3f} survey_rps={score['rps']:.0f} bare_rps={bare['rps']:.0f}"
        f" survey_p99_ms={score_p99:.2f} exactly_once={int(exactly_once)}"
    )
    missed = []
    if not exactly_once:
        missed.append("answers were not stored exactly once")
    if ratio < TARGET_RATIO:
        missed.append(f"score / bare {ratio:.3f} below {TARGET_RATIO}")
    for reason in missed:
        print(f"FAIL: {reason}", file=sys.stderr)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
