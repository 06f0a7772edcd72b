"""The click redirector under load, against a bare 302 endpoint of the same server.

Starts PostgreSQL and Redis, seeds sent messages with tracked links, and serves the
app (`nurture serve`, one web process, Redis as the broker) with the benchmark-only
bare endpoint enabled (NURTURE_BENCH_ENDPOINTS=1). wrk then drives each endpoint with
64 connections on loopback for 20 s, cycling through tokens of many messages and
links. The bare endpoint verifies nothing and answers the same 302; the redirector
checks the signature, finds the target and records the click.

Afterwards it counts the `email.clicked` events stored for the measured run (waiting
for the recorder's batches) and compares them with the 302 answers the server gave
(its own request counter): they must be equal, none lost. wrk's count can be a few
lower than the server's: requests still in flight when wrk stops were answered (and
recorded) after wrk stopped listening.

    .venv/bin/python benchmarks/tracking.py [--seconds 20] [--connections 64]

Targets: redirector / bare >= 0.3 requests/s, stored clicks == 302 answers.
"""

from __future__ import annotations

import argparse
import random
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._harness import fresh_database, server, services
from nurture.db import session_scope
from nurture.migrate import upgrade
from nurture.models import Contact, EmailMessage, Event, utcnow
from templates.tokens import TokenSigner

TARGET_RATIO = 0.3
SECRET = "benchmark-secret-" + "x" * 40
MESSAGES = 5_000
LINKS = 6
PATHS = 20_000
CLICK_ROUTE = "/t/c/{token}"
WRK_SCRIPT = """
local paths = {}
for line in io.lines("%(paths)s") do paths[#paths + 1] = line end
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  counter = math.random(#paths)
  redirects = 0
  others = 0
end
function request()
  counter = counter %% #paths + 1
  return wrk.format("GET", paths[counter])
end
function response(status, headers, body)
  if status == 302 then redirects = redirects + 1 else others = others + 1 end
end
function done(summary, latency, requests)
  local r, o = 0, 0
  for _, t in ipairs(threads) do r = r + t:get("redirects"); o = o + t:get("others") end
  io.write(string.format("BENCH redirects=%%d others=%%d p99_us=%%d requests=%%d seconds=%%f\\n",
    r, o, latency:percentile(99), summary.requests, summary.duration / 1e6))
end
"""


def seed(database_url: str) -> list[tuple[int, int]]:
    """Contacts with one sent message each (LINKS tracked links); answers (message, link) pairs."""
    now = utcnow()
    with session_scope(database_url) as db:
        db.execute(
            insert(Contact),
            [
                {
                    "email": f"reader{n}@bench.example",
                    "lifecycle_stage": "lead",
                    "attributes": {},
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(MESSAGES)
            ],
        )
        ids = list(db.scalars(select(Contact.id).order_by(Contact.id)))
        db.execute(
            insert(EmailMessage),
            [
                {
                    "idempotency_key": f"bench:{cid}",
                    "status": "sent",
                    "kind": "marketing",
                    "contact_id": cid,
                    "to_email": f"reader{n}@bench.example",
                    "links": [
                        f"https://example.com/article/{n}/{i}?utm=bench" for i in range(LINKS)
                    ],
                    "attempts": 1,
                    "extra": {},
                    "created_at": now - timedelta(hours=2),
                    "sent_at": now - timedelta(hours=1),
                    "updated_at": now,
                }
                for n, cid in enumerate(ids)
            ],
        )
        messages = list(db.scalars(select(EmailMessage.id)))
    return [(m, i) for m in messages for i in range(LINKS)]


def run_wrk(
    base: str, paths: list[str], seconds: int, connections: int, threads: int
) -> dict[str, float]:
    folder = Path(tempfile.mkdtemp(prefix="nurture-wrk-"))
    (folder / "paths.txt").write_text("\n".join(paths) + "\n")
    script = folder / "paths.lua"
    script.write_text(WRK_SCRIPT % {"paths": folder / "paths.txt"})
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
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    found = re.search(r"BENCH (.*)", out.stdout)
    if found is None:
        raise RuntimeError(f"wrk said:\n{out.stdout}\n{out.stderr}")
    values = dict(item.split("=") for item in found.group(1).split())
    result = {k: float(v) for k, v in values.items()}
    result["rps"] = result["requests"] / result["seconds"]
    return result


def server_redirects(base: str) -> int:
    """The 302 answers this server gave on the click route, from its /metrics counter."""
    with urllib.request.urlopen(f"{base}/metrics", timeout=10) as answer:  # noqa: S310
        text = answer.read().decode()
    total = 0.0
    for line in text.splitlines():
        if (
            line.startswith("nurture_http_requests_total{")
            and f'route="{CLICK_ROUTE}"' in line
            and 'status="302"' in line
            and 'method="GET"' in line
        ):
            total += float(line.rsplit(" ", 1)[1])
    return int(total)


def stored_clicks(database_url: str) -> int:
    with session_scope(database_url) as db:
        return (
            db.scalar(select(func.count()).select_from(Event).where(Event.type == "email.clicked"))
            or 0
        )


def wait_for_clicks(database_url: str, expected: int, timeout: float = 60.0) -> int:
    """Poll until `expected` clicks are stored (the recorder writes in batches), or time out."""
    deadline = time.monotonic() + timeout
    count = stored_clicks(database_url)
    while count < expected and time.monotonic() < deadline:
        time.sleep(0.25)
        count = stored_clicks(database_url)
    return count


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    args = parser.parse_args()

    signer = TokenSigner(SECRET)
    with services() as svc:
        database_url = fresh_database(svc.pg_admin_url, "bench_tracking")
        upgrade(database_url)
        pairs = seed(database_url)
        rng = random.Random(11)
        chosen = [pairs[rng.randrange(len(pairs))] for _ in range(PATHS)]
        click_paths = [f"/t/c/{signer.click(m, i)}" for m, i in chosen]
        bare_paths = [f"/t/bench/{signer.click(m, i)}" for m, i in chosen]
        env = {
            "NURTURE_DATABASE_URL": database_url,
            "NURTURE_REDIS_URL": svc.redis_url,
            "NURTURE_DATA_DIR": tempfile.mkdtemp(prefix="nurture-bench-"),
            "NURTURE_SECRET_KEY": SECRET,
            "NURTURE_BENCH_ENDPOINTS": "1",
        }
        with server(env, workers=1) as base:
            # Warm up both endpoints (connections, the message cache), outside the timing.
            run_wrk(base, bare_paths, 3, args.connections, args.threads)
            run_wrk(base, click_paths, 3, args.connections, args.threads)
            warm_server = server_redirects(base)
            warm_stored = wait_for_clicks(database_url, warm_server)

            bare = run_wrk(base, bare_paths, args.seconds, args.connections, args.threads)
            click = run_wrk(base, click_paths, args.seconds, args.connections, args.threads)
            answered = server_redirects(base) - warm_server
            stored = wait_for_clicks(database_url, warm_stored + answered) - warm_stored

    ratio = click["rps"] / bare["rps"]
    in_flight = answered - int(click["redirects"])
    none_lost = stored == answered and int(click["others"]) == 0
    print(f"messages seeded        {MESSAGES:>10,} x {LINKS} links, {PATHS:,} distinct tokens")
    print(f"load                   {args.connections} connections, {args.seconds} s, loopback")
    print(
        f"bare 302 endpoint      {bare['rps']:>10,.0f} req/s   p99 {bare['p99_us'] / 1000:.2f} ms"
    )
    print(
        f"click redirector       {click['rps']:>10,.0f} req/s   p99 {click['p99_us'] / 1000:.2f} ms"
    )
    print(f"ratio                  {ratio:>10.3f}   (target >= {TARGET_RATIO})")
    print(
        f"302 answers            wrk {int(click['redirects']):,}   server {answered:,}"
        f"   (in flight at wrk's stop: {in_flight})   non-302: {int(click['others'])}"
    )
    print(f"clicks stored          {stored:>10,}   {'none lost' if none_lost else 'MISMATCH'}")
    print(
        f"RESULT bare_rps={bare['rps']:.0f} click_rps={click['rps']:.0f} ratio={ratio:.3f} "
        f"bare_p99_ms={bare['p99_us'] / 1000:.2f} click_p99_ms={click['p99_us'] / 1000:.2f} "
        f"answered={answered} stored={stored} none_lost={int(none_lost)}"
    )
    if not none_lost:
        print("FAIL: stored clicks differ from the 302 answers", file=sys.stderr)
        return 1
    if ratio < TARGET_RATIO:
        print(f"FAIL: ratio {ratio:.3f} below target {TARGET_RATIO}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
