"""Bulk delivery through the real pipeline against Postfix's smtp-sink, and a bare client.

    .venv/bin/python benchmarks/delivery.py [--count 20000] [--connections 8] [--db pg|sqlite]

Sends `count` personalised messages (a ~20 KB MJML newsletter, each with its own
tracked links, open pixel and unsubscribe token) through `send_bulk`: messages
recorded in PostgreSQL before sending, suppression check, render, MIME bytes,
pooled SMTP connections. In the same run, a baseline: Python's smtplib over one
connection sending `count` pre-built messages of the same size to the same sink.
Prints messages/s of both, their ratio (target >= 1.0) and the peak memory of this
process (target < 300 MB); exits non-zero when a target is missed.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import shutil
import smtplib
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._harness import free_port, fresh_database, services
from benchmarks.render import BASE_URL, bulk_template
from campaigns.delivery.smtp import SmtpPool
from campaigns.delivery.smtp_url import parse_smtp_url
from campaigns.email.mailconfig import MailConfig, default_brand
from campaigns.email.pipeline import send_bulk
from campaigns.email.store import VariantInput, create_template
from nurture.contacts import suppress
from nurture.db import get_engine, session_scope
from nurture.migrate import upgrade
from nurture.models import (
    Company,
    Contact,
    EmailMessage,
    MessageStatus,
    SuppressionReason,
    utcnow,
)
from templates.message import Address

TARGET_RATIO = 1.0
MEMORY_LIMIT_MB = 300
SECRET = "benchmark-secret-" + "x" * 32
SINK = "/usr/sbin/smtp-sink"
SUPPRESSED_EVERY = 200  # one address in 200 is on the suppression list
CASE_STUDY = {
    "title": "A 30% shorter lead time",
    "summary": "How a manufacturer rebuilt its planning with us in twelve weeks.",
    "url": "https://example.net/cases/lead-time",
}


@contextmanager
def smtp_sink() -> Iterator[int]:
    """Postfix's smtp-sink on a free loopback port (backlog 1000), stopped afterwards."""
    if not Path(SINK).exists():
        sys.exit(f"{SINK} is missing: install the Debian package postfix")
    port = free_port()
    process = subprocess.Popen(
        [SINK, "-u", "nobody", f"127.0.0.1:{port}", "1000"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                smtplib.SMTP("127.0.0.1", port, timeout=2).quit()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("smtp-sink did not start") from None
                time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def make_contacts(url: str, count: int) -> list[int]:
    """`count` contacts over 97 companies, one in SUPPRESSED_EVERY suppressed."""
    with session_scope(url) as db:
        db.execute(
            insert(Company),
            [
                {"name": f"Client {n} Ltd", "industry": ("manufacturing", "finance")[n % 2]}
                for n in range(97)
            ],
        )
        company_ids = list(db.scalars(select(Company.id).order_by(Company.id)))
        now = utcnow()
        for start in range(0, count, 5000):
            db.execute(
                insert(Contact),
                [
                    {
                        "email": f"person{n}@client{n % 97}.example.com",
                        "first_name": ("Анна", "Ada", "Grace", "Борис")[n % 4] + str(n),
                        "last_name": "Example",
                        "title": "Head of Operations" if n % 3 else None,
                        "company_id": company_ids[n % 97],
                        "locale": "en",
                        "attributes": {},
                        "created_at": now,
                        "updated_at": now,
                    }
                    for n in range(start, min(count, start + 5000))
                ],
            )
        for n in range(0, count, SUPPRESSED_EVERY):
            suppress(
                db, f"person{n}@client{n % 97}.example.com", reason=SuppressionReason.UNSUBSCRIBED
            )
        return list(db.scalars(select(Contact.id).order_by(Contact.id)))


def _config() -> MailConfig:
    return MailConfig(
        base_url=BASE_URL,
        secret=SECRET,
        sender=Address("news@example.net", "Example Partners"),
        brand={**default_brand("Example Partners"), "address": "1 Example Street, London"},
        message_id_domain="example.net",
    )


def make_template(url: str) -> int:
    with session_scope(url) as db:
        template = create_template(
            db,
            name="Bulk newsletter",
            topic="newsletters",
            actor="benchmark",
            variants={
                "en": VariantInput(
                    "{{ contact.first_name | default('Hello') }}, four insights for "
                    "{{ contact.company.name | default('you') }}",
                    bulk_template(),
                    "Plus a case study from {{ contact.company.industry | default('your field') }}",
                )
            },
        )
        return template.id


def send_slice(
    url: str, port: int, template_id: int, contact_ids: list[int], connections: int
) -> tuple[dict[str, int], float]:
    """One worker process's share: `send_bulk` over its own connection pool. Answers the
    counts and this process's peak memory in MB."""
    transport = SmtpPool(parse_smtp_url(f"smtp://127.0.0.1:{port}"), size=connections)
    with session_scope(url) as db:
        result = send_bulk(
            db,
            template_id,
            contact_ids,
            key_prefix="bench",
            transport=transport,
            config=_config(),
            extra={"case_study": CASE_STUDY},
            threads=connections,
        )
    transport.close()
    get_engine(url).dispose()
    return result.counts, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_pipeline(
    url: str, port: int, contact_ids: list[int], connections: int, processes: int
) -> tuple[float, dict[str, int], int, float]:
    """Send to every contact from `processes` worker processes (as production runs several
    workers), each with `connections` pooled SMTP connections. Answers seconds, counts,
    rows recorded and the summed peak memory of the workers in MB."""
    template_id = make_template(url)
    get_engine(url).dispose()
    slices = [contact_ids[i::processes] for i in range(processes)]
    context = multiprocessing.get_context("spawn")
    with context.Pool(processes) as workers:
        # Warm the workers (imports, template compile) before the clock starts.
        workers.starmap(_warm, [(url, template_id)] * processes)
        started = time.perf_counter()
        results = workers.starmap(
            send_slice, [(url, port, template_id, ids, connections) for ids in slices]
        )
        elapsed = time.perf_counter() - started
    counts: dict[str, int] = {}
    for part, _ in results:
        for status, n in part.items():
            counts[status] = counts.get(status, 0) + n
    with session_scope(url) as db:
        recorded = db.scalar(select(func.count()).select_from(EmailMessage)) or 0
    return elapsed, counts, recorded, sum(peak for _, peak in results)


def _warm(url: str, template_id: int) -> None:
    from campaigns.email.compiled import compiled_variant
    from campaigns.email.store import get_version

    with session_scope(url) as db:
        version = get_version(db, template_id)
        compiled_variant(version.variants[0], tracking=version.tracking)


def sample_message(url: str) -> bytes:
    """One message as the pipeline built it (same size), rebuilt for the baseline."""
    with session_scope(url) as db:
        message = db.scalar(
            select(EmailMessage).where(EmailMessage.status == MessageStatus.SENT.value).limit(1)
        )
        if message is None:
            raise RuntimeError("message is None, but the benchmark sent at least one message")
    # The pipeline keeps no bytes of sent messages; rebuild one the same way.
    from benchmarks.render import compiled_bulk, render_one
    from templates.render import signer_for

    _, raw = render_one(compiled_bulk(), signer_for(SECRET), message.id)
    return raw


def run_baseline(port: int, raw: bytes, count: int) -> float:
    """smtplib over one connection: `count` pre-built messages, one recipient each."""
    client = smtplib.SMTP("127.0.0.1", port)
    client.ehlo()
    started = time.perf_counter()
    for n in range(count):
        client.sendmail("news@example.net", [f"person{n}@client{n % 97}.example.com"], raw)
    elapsed = time.perf_counter() - started
    client.quit()
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--connections", type=int, default=4, help="per worker process")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--db", choices=("pg", "sqlite"), default="pg")
    args = parser.parse_args()
    if shutil.which(SINK) is None and not Path(SINK).exists():
        print(f"{SINK} not found", file=sys.stderr)
        return 2
    with services() as servers, smtp_sink() as port:
        if args.db == "pg":
            url = fresh_database(servers.pg_admin_url, "bench_delivery")
        else:
            url = f"sqlite:////tmp/bench-delivery-{time.time_ns()}.db"
        upgrade(url)
        contact_ids = make_contacts(url, args.count)
        pipeline_s, counts, recorded, workers_mb = run_pipeline(
            url, port, contact_ids, args.connections, args.processes
        )
        raw = sample_message(url)
        baseline_s = run_baseline(port, raw, args.count)
        get_engine(url).dispose()
    sent = counts.get("sent", 0)
    handled = sum(counts.values())
    pipeline_rate = handled / pipeline_s
    baseline_rate = args.count / baseline_s
    ratio = pipeline_rate / baseline_rate
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 + workers_mb
    print(f"messages: {args.count}, ~{len(raw) / 1024:.1f} KiB each, database: {args.db}")
    print(f"pipeline: {handled} handled ({counts}), {recorded} recorded, in {pipeline_s:.1f} s")
    print(
        f"  = {pipeline_rate:,.0f} messages/s from {args.processes} worker processes"
        f" x {args.connections} pooled connections"
    )
    print(f"baseline: smtplib, one connection, pre-built messages: {baseline_rate:,.0f} messages/s")
    print(f"ratio pipeline/baseline: {ratio:.2f} (target >= {TARGET_RATIO})")
    print(f"peak memory, this process + workers: {peak_mb:.0f} MB (limit {MEMORY_LIMIT_MB} MB)")
    ok = ratio >= TARGET_RATIO and peak_mb < MEMORY_LIMIT_MB and handled == args.count
    print(
        f"RESULT pipeline_msgs_per_s={pipeline_rate:.0f} baseline_msgs_per_s={baseline_rate:.0f}"
        f" ratio={ratio:.2f} peak_mb={peak_mb:.0f} sent={sent} handled={handled}"
        f" ok={'yes' if ok else 'no'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
