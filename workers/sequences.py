"""Sequence actors: claim due steps in batches, run each batch from one message."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import dramatiq

from campaigns.delivery.factory import transport_for
from campaigns.sequences.batch import run_steps
from campaigns.sequences.caps import FrequencyCap
from campaigns.sequences.engine import Limits, Mailer, Verdict
from campaigns.sequences.scheduler import DEFAULT_BATCH, claim_due, claim_ids, release
from nurture.models import utcnow
from workers import broker, context

# Batches claimed per tick at most; what is left waits for the next tick.
MAX_BATCHES_PER_TICK = 20
# The tick claims nothing while the queue holds this many batches not yet taken: a
# claim held in the queue longer than its lease would be claimed (and run) twice.
MAX_QUEUED_BATCHES = 8


# Safe to retry: the engine's compare-and-set and effect keys make a re-run a no-op.
@dramatiq.actor(queue_name="sequences", max_retries=10)
def run_enrolment_steps(claimed: Sequence[Sequence[int | str]]) -> None:
    """Run a claimed batch of (enrolment id, step key); the steps due at once after it
    are claimed and sent on as the next batch."""
    _run([(int(enrolment_id), str(step_key)) for enrolment_id, step_key in claimed])


@dramatiq.actor(queue_name="sequences", max_retries=10)
def run_enrolment_step(enrolment_id: int, expected_step_key: str) -> None:
    """Run one step (a batch of one)."""
    _run([(enrolment_id, expected_step_key)])


def _run(claimed: list[tuple[int, str]]) -> None:
    settings = context.settings()
    mailer = Mailer(transport_for(settings), context.mail_config())
    limits = Limits(cap=FrequencyCap.from_settings(settings))
    with context.session() as db:
        now = utcnow()
        results = run_steps(db, claimed, now=now, mailer=mailer, limits=limits)
    going_on = [
        enrolment_id
        for enrolment_id, result in results.items()
        if result.verdict is Verdict.ADVANCED
        and result.next_run_at is not None
        and result.next_run_at <= now
    ]
    if going_on:
        with context.session() as db:
            next_batch = claim_ids(db, going_on, now=utcnow(), lease=_lease())
        _send_or_release(next_batch)
    if results.errors:
        # Retried with Dramatiq's backoff: the steps that ran are no-ops the second time.
        failed = sorted(results.errors)
        raise StepsFailed(f"{len(failed)} of {len(claimed)} steps failed: {failed[:10]}") from (
            results.errors[failed[0]]
        )


class StepsFailed(Exception):
    """Some steps of a batch raised; the rest ran."""


def enqueue_due_steps() -> int:
    """Claim due steps batch by batch and enqueue one message (ids only) per batch.

    Called from the scheduler tick itself; answers how many steps were enqueued.
    """
    total = 0
    for _ in range(MAX_BATCHES_PER_TICK):
        if _queued_batches() >= MAX_QUEUED_BATCHES:
            break
        with context.session() as db:
            claimed = claim_due(db, now=utcnow(), limit=DEFAULT_BATCH, lease=_lease())
        _send_or_release(claimed)
        total += len(claimed)
        if len(claimed) < DEFAULT_BATCH:
            break
    return total


def _queued_batches() -> int:
    depth = broker.queue_depths(broker.current()).get("sequences")
    return depth.ready if depth is not None else 0


def _lease() -> timedelta:
    return timedelta(seconds=context.settings().step_lease_seconds)


def _send_or_release(claimed: list[tuple[int, str]]) -> None:
    """Enqueue the claimed steps as one message; if the broker fails, drop the claims,
    or those steps would wait out their lease before the tick found them."""
    if not claimed:
        return
    try:
        run_enrolment_steps.send([[enrolment_id, step_key] for enrolment_id, step_key in claimed])
    except Exception:
        with context.session() as db:
            release(db, [enrolment_id for enrolment_id, _ in claimed])
        raise


@dramatiq.actor(queue_name="ticks", max_retries=0)
def sequence_tick() -> None:
    """Enqueue the due sequence steps now (the periodic tick does the same)."""
    enqueue_due_steps()
