"""The click redirector under load, against our bare 302 endpoint and a minimal Litestar app.

Starts PostgreSQL and Redis, seeds sent messages with tracked links, and serves the
app (`nurture serve`, one web process, Redis as the broker) with the benchmark-only
bare endpoint enabled (NURTURE_BENCH_ENDPOINTS=1), and beside it
benchmarks/minimal_app.py: a Litestar app with nothing but a handler answering the
same 302, on Granian with the same settings. wrk drives each with 64 connections on
loopback for 20 s, cycling through tokens of many messages and links: the minimal
app, our bare endpoint (verifies nothing, records nothing), then the redirector
(checks the signature, finds the target, records the click). Two rounds in turn;
each endpoint's best round counts, so a busy neighbour on the machine does not
decide a ratio.

Afterwards it counts the `email.clicked` events stored for the measured runs (waiting
for the recorder's batches) and compares them with the 302 answers the server gave
(its own request counter): they must be equal, none lost. wrk's count can be a few
lower than the server's: requests still in flight when wrk stops were answered (and
recorded) after wrk stopped listening.

    .venv/bin/python benchmarks/tracking.py [--seconds 20] [--connections 64] [--rounds 2]

Targets: redirector / bare >= 0.7 with a p99 under 25 ms, bare / minimal >= 0.5,
stored clicks == 302 answers. The last line is `RESULT click_rps=... bare_rps=...
minimal_rps=... ratio=... bare_ratio=... click_p99_ms=... none_lost=1|0`.
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

from benchmarks._harness import fresh_database, minimal_server, server, services
from nurture.db import session_scope
from nurture.migrate import upgrade
from nurture.models import Contact, EmailMessage, Event, utcnow
from templates.tokens import TokenSigner

TARGET_RATIO = 0.7
TARGET_BARE_RATIO = 0.5
TARGET_P99_MS = 25.0
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
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    signer = TokenSigner(SECRET)
    runs: dict[str, list[dict[str, float]]] = {"minimal": [], "bare": [], "click": []}
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
        with server(env, workers=1) as base, minimal_server() as minimal:
            load = (args.connections, args.threads)
            # Warm up every endpoint (connections, the message cache), outside the timing.
            run_wrk(minimal, bare_paths, 3, *load)
            run_wrk(base, bare_paths, 3, *load)
            run_wrk(base, click_paths, 3, *load)
            warm_server = server_redirects(base)
            warm_stored = wait_for_clicks(database_url, warm_server)

            for _ in range(args.rounds):
                runs["minimal"].append(run_wrk(minimal, bare_paths, args.seconds, *load))
                runs["bare"].append(run_wrk(base, bare_paths, args.seconds, *load))
                runs["click"].append(run_wrk(base, click_paths, args.seconds, *load))
            answered = server_redirects(base) - warm_server
            stored = wait_for_clicks(database_url, warm_stored + answered) - warm_stored

    best = {name: max(found, key=lambda r: r["rps"]) for name, found in runs.items()}
    minimal_run, bare, click = best["minimal"], best["bare"], best["click"]
    ratio = click["rps"] / bare["rps"]
    bare_ratio = bare["rps"] / minimal_run["rps"]
    click_p99 = click["p99_us"] / 1000
    wrk_redirects = sum(int(r["redirects"]) for r in runs["click"])
    others = sum(int(r["others"]) for r in runs["click"])
    none_lost = stored == answered and others == 0
    print(f"messages seeded        {MESSAGES:>10,} x {LINKS} links, {PATHS:,} distinct tokens")
    print(
        f"load                   {args.connections} connections, {args.seconds} s, loopback,"
        f" {args.rounds} rounds"
    )
    for name, found in runs.items():
        rounds = ", ".join(f"{r['rps']:,.0f} req/s p99 {r['p99_us'] / 1000:.2f} ms" for r in found)
        print(f"{name:<22} {rounds}")
    print(f"ratio click / bare     {ratio:>10.3f}   (target >= {TARGET_RATIO})")
    print(f"ratio bare / minimal   {bare_ratio:>10.3f}   (target >= {TARGET_BARE_RATIO})")
    print(f"click p99              {click_p99:>10.2f} ms (target < {TARGET_P99_MS})")
    print(
        f"302 answers            wrk {wrk_redirects:,}   server {answered:,}"
        f"   (in flight at wrk's stops: {answered - wrk_redirects})   non-302: {others}"
    )
    print(f"clicks stored          {stored:>10,}   {'none lost' if none_lost else 'MISMATCH'}")
    print(
        f"RESULT click_rps={click['rps']:.0f} bare_rps={bare['rps']:.0f}"
        f" minimal_rps={minimal_run['rps']:.0f} ratio={ratio:.3f} bare_ratio={bare_ratio:.3f}"
        f" click_p99_ms={click_p99:.2f} none_lost={int(none_lost)}"
    )
    missed = []
    if not none_lost:
        missed.append("stored clicks differ from the 302 answers")
    if ratio < TARGET_RATIO:
        missed.append(f"click / bare {ratio:.3f} below {TARGET_RATIO}")
    if click_p99 >= TARGET_P99_MS:
        missed.append(f"click p99 {click_p99:.2f} ms not under {TARGET_P99_MS} ms")
    if bare_ratio < TARGET_BARE_RATIO:
        missed.append(f"bare / minimal {bare_ratio:.3f} below {TARGET_BARE_RATIO}")
    for reason in missed:
        print(f"FAIL: {reason}", file=sys.stderr)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
