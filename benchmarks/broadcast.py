"""A 100,000-recipient broadcast with two variants on PostgreSQL and Redis, and the results
of an experiment with 1,000,000 exposures.

    .venv/bin/python benchmarks/broadcast.py [--recipients 100000] [--processes CPUS]
        [--threads 1] [--exposures 1000000]

The broadcast goes to a static segment of `recipients` contacts (out of `exposures`
contacts in the database) with a 10 % test phase of two subject lines, decided one
second after the test group is out; the rest get the decision. Real `dramatiq` worker
processes (the set-up `nurture worker` uses, plus the broadcast actors) send through
the pipeline to Postfix's smtp-sink; this process plays the scheduler tick. Timed from
scheduling until the broadcast is sent and no message is unfinished.

Baseline, as benchmarks/delivery.py: smtplib over one connection sending pre-built
messages of the same size to the same sink (20,000 of them; a rate). Prints the ratio
(target >= 1.0), the peak memory of the largest worker process (target < 300 MB), and
the time of `results.compute` over `exposures` exposures filled with one INSERT ...
SELECT (target < 1 s; the slowest of three calls). Exits non-zero on a miss.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._harness import REPO, fresh_database, services
from benchmarks.delivery import CASE_STUDY, run_baseline, sample_message, smtp_sink
from benchmarks.render import bulk_template
from campaigns.broadcasts.definition import BroadcastInput, VariantInput
from campaigns.broadcasts.progress import progress
from campaigns.broadcasts.store import create_broadcast, schedule_broadcast
from campaigns.email.store import VariantInput as TemplateVariant
from campaigns.email.store import create_template
from campaigns.experiments import results
from nurture.config import Settings
from nurture.db import get_engine, session_scope
from nurture.migrate import upgrade
from nurture.models import (
    Broadcast,
    BroadcastStatus,
    EmailMessage,
    Experiment,
    ExperimentKind,
    ExperimentStatus,
    ExperimentVariant,
    Segment,
    SegmentKind,
    utcnow,
)
from workers import broker, context
from workers.broadcasts import enqueue_due_broadcasts

TARGET_RATIO = 1.0
MEMORY_LIMIT_MB = 300
RESULTS_LIMIT_S = 1.0
BASELINE_COUNT = 20_000
SECRET = "benchmark-secret-" + "x" * 32
TICK_S = 0.2


def make_contacts(url: str, count: int) -> None:
    """`count` contacts in one INSERT ... SELECT."""
    with session_scope(url) as db:
        db.execute(
            text(
                "INSERT INTO contacts (email, first_name, last_name, locale, lifecycle_stage,"
                " attributes, score, created_at, updated_at)"
                " SELECT 'reader' || g || '@client' || (g % 97) || '.example.com',"
                " 'Reader' || g, 'Example', 'en', 'lead', '{}', 0, now(), now()"
                " FROM generate_series(1, :n) AS g"
            ),
            {"n": count},
        )


def make_template(url: str) -> int:
    """delivery.py's newsletter with its case study written in (a broadcast passes no
    extra context): the same size of message."""
    body = bulk_template()
    for name, value in CASE_STUDY.items():
        body = body.replace("{{ case_study." + name + " }}", value)
    with session_scope(url) as db:
        template = create_template(
            db,
            name="Broadcast newsletter",
            topic="newsletters",
            actor="benchmark",
            variants={
                "en": TemplateVariant(
                    "{{ contact.first_name | default('Hello') }}, four insights for you",
                    body,
                    "Plus a case study from manufacturing",
                )
            },
        )
        return template.id


def make_broadcast(url: str, template_id: int, recipients: int) -> int:
    with session_scope(url) as db:
        segment = Segment(name="Benchmark readers", kind=SegmentKind.STATIC.value)
        db.add(segment)
        db.flush()
        db.execute(
            text(
                "INSERT INTO segment_members (segment_id, contact_id, since)"
                " SELECT :s, id, now() FROM contacts ORDER BY id LIMIT :n"
            ),
            {"s": segment.id, "n": recipients},
        )
        now = utcnow()
        data = BroadcastInput(
            name="Benchmark newsletter",
            template_id=template_id,
            segment_id=segment.id,
            test_percent=10,
            test_hours=1 / 3600,
            metric="opens",
            accept_small_test=True,
            variants=(
                VariantInput("a", "Control"),
                VariantInput("b", "Question", subject="{{ contact.first_name }}, a question"),
            ),
        )
        broadcast = create_broadcast(db, data, actor="benchmark", now=now)
        return broadcast.id


def start_workers(
    env: dict[str, str], processes: int, threads: int, log: Path
) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "dramatiq",
                "workers.runtime:install_for_worker",
                "workers.broadcasts",
                "--processes",
                str(processes),
                "--threads",
                str(threads),
            ],
            env={**os.environ, **env, "PYTHONPATH": str(REPO)},
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 60
    while log.read_text().count("Worker process is ready for action") < processes:
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the workers did not start; see {log}")
        time.sleep(0.1)
    return process


def peak_mb(pid: int) -> float:
    """The largest high-water resident set among the worker's processes, in MB."""
    peaks = [0.0]
    for child in _group(pid):
        try:
            for line in Path(f"/proc/{child}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        except OSError:
            continue
    return max(peaks)


def _group(pgid: int) -> list[int]:
    """The processes of a process group (the workers run in a session of their own)."""
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid:
                members.append(int(entry.name))
    return members


def stop_workers(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def send(url: str, broadcast_id: int) -> float:
    """Schedule the broadcast and tick until it is sent; answers seconds."""
    started = time.perf_counter()
    with session_scope(url) as db:
        schedule_broadcast(db, broadcast_id, actor="benchmark", now=utcnow())
    seen = ""
    while True:
        enqueue_due_broadcasts()
        with session_scope(url) as db:
            status = db.scalar(select(Broadcast.status).where(Broadcast.id == broadcast_id))
            if status != seen:
                print(f"  {time.perf_counter() - started:6.1f} s: {status}", flush=True)
                seen = status or ""
            # Counted only at the end: a count over every message each tick would load
            # the database the workers write to.
            busy = status == BroadcastStatus.SENT.value and db.scalar(
                select(func.count())
                .select_from(EmailMessage)
                .where(EmailMessage.status.in_(("queued", "sending")))
            )
        if status == BroadcastStatus.SENT.value and not busy:
            return time.perf_counter() - started
        if status == BroadcastStatus.CANCELLED.value:
            raise RuntimeError("the broadcast was cancelled")
        time.sleep(TICK_S)


def time_results(url: str, exposures: int) -> float:
    """The slowest of three `results.compute` calls over `exposures` exposures."""
    with session_scope(url) as db:
        experiment = Experiment(
            name="Results benchmark",
            kind=ExperimentKind.BROADCAST.value,
            status=ExperimentStatus.RUNNING.value,
            salt="benchmark",
            metric="opens",
            baseline_rate=0.25,
            planned_per_variant=500_000,
            started_at=utcnow(),
        )
        db.add(experiment)
        db.flush()
        for position, key in enumerate(("a", "b")):
            db.add(
                ExperimentVariant(
                    experiment_id=experiment.id, key=key, position=position, weight=0.5
                )
            )
        db.execute(
            text(
                "INSERT INTO experiment_exposures (experiment_id, variant_key, contact_id,"
                " exposed_at, delivered_at, opened_at, clicked_at)"
                " SELECT :e, CASE WHEN id % 2 = 0 THEN 'a' ELSE 'b' END, id, now(), now(),"
                " CASE WHEN random() < 0.25 + 0.01 * (id % 2) THEN now() END,"
                " CASE WHEN random() < 0.03 THEN now() END"
                " FROM contacts ORDER BY id LIMIT :n"
            ),
            {"e": experiment.id, "n": exposures},
        )
        experiment_id = experiment.id
    with session_scope(url) as db:
        db.execute(text("ANALYZE experiment_exposures"))
    times = []
    for _ in range(3):
        with session_scope(url) as db:
            started = time.perf_counter()
            document = results.compute(db, experiment_id, now=utcnow())
            times.append(time.perf_counter() - started)
    arms = {arm["key"]: arm["exposed"] for arm in document["arms"]}
    print(
        f"results over {sum(arms.values()):,} exposures {arms}: "
        + ", ".join(f"{t:.3f} s" for t in times)
    )
    return max(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--exposures", type=int, default=1_000_000)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    log = Path(tempfile.mkdtemp(prefix="nurture-bench-broadcast-")) / "workers.log"
    with services() as servers, smtp_sink() as port:
        url = fresh_database(servers.pg_admin_url, "bench_broadcast")
        upgrade(url)
        make_contacts(url, max(args.recipients, args.exposures))
        template_id = make_template(url)
        broadcast_id = make_broadcast(url, template_id, args.recipients)
        env = {
            "NURTURE_DATABASE_URL": url,
            "NURTURE_REDIS_URL": servers.redis_url,
            "NURTURE_SMTP_URL": f"smtp://127.0.0.1:{port}",
            "NURTURE_SECRET_KEY": SECRET,
            "NURTURE_DATA_DIR": str(log.parent / "data"),
        }
        settings = Settings(
            data_dir=log.parent / "tick",
            database_url=url,
            redis_url=servers.redis_url,
            smtp_url=env["NURTURE_SMTP_URL"],
            secret_key=SECRET,
        )
        context.configure(settings)
        installed = broker.install(broker.build_broker(settings))
        workers = start_workers(env, args.processes, args.threads, log)
        try:
            elapsed = send(url, broadcast_id)
            worker_mb = peak_mb(workers.pid)
        finally:
            stop_workers(workers)
            installed.close()
        with session_scope(url) as db:
            done = progress(db, broadcast_id)
            rest = db.scalar(select(Broadcast.rest_variant).where(Broadcast.id == broadcast_id))
        raw = sample_message(url)
        baseline_s = run_baseline(port, raw, BASELINE_COUNT)
        results_s = time_results(url, args.exposures)
        get_engine(url).dispose()
    rate = done.all.done / elapsed
    baseline_rate = BASELINE_COUNT / baseline_s
    ratio = rate / baseline_rate
    print(f"recipients: {done.all.total:,} (test {done.phases['test'].total:,}, rest got {rest!r})")
    print(
        f"sent {done.all.sent:,}, skipped {done.all.skipped:,}, in {elapsed:.1f} s = {rate:,.0f}/s"
    )
    print(f"  from {args.processes} worker processes x {args.threads} threads; log {log}")
    print(
        f"baseline: smtplib, one connection, pre-built ~{len(raw) / 1024:.1f} KiB messages: "
        f"{baseline_rate:,.0f}/s"
    )
    print(f"ratio broadcast/baseline: {ratio:.2f} (target >= {TARGET_RATIO})")
    print(f"worker peak memory (largest process): {worker_mb:.0f} MB (limit {MEMORY_LIMIT_MB} MB)")
    print(f"results.compute: {results_s:.3f} s (limit {RESULTS_LIMIT_S} s)")
    ok = (
        ratio >= TARGET_RATIO
        and worker_mb < MEMORY_LIMIT_MB
        and results_s < RESULTS_LIMIT_S
        and done.all.done == args.recipients
    )
    print(
        f"RESULT ratio={ratio:.2f} peak_mb={worker_mb:.0f} results_s={results_s:.3f}"
        f" sent={done.all.sent} recipients={done.all.total}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
