"""Sequence actors: claim due enrolments, run one step per message, enrol on trigger events."""

from __future__ import annotations

from datetime import timedelta

import dramatiq

from campaigns.delivery.factory import transport_for
from campaigns.sequences.caps import FrequencyCap
from campaigns.sequences.engine import Limits, Mailer, Verdict, run_step
from campaigns.sequences.scheduler import DEFAULT_BATCH, claim_due, claim_one, release
from nurture.models import utcnow
from workers import context

# Batches claimed per tick at most; what is left waits for the next tick.
MAX_BATCHES_PER_TICK = 20


# Safe to retry: the engine's compare-and-set and effect keys make a re-run a no-op.
@dramatiq.actor(queue_name="sequences", max_retries=10)
def run_enrolment_step(enrolment_id: int, expected_step_key: str) -> None:
    """Run one step; when the next one is due at once, claim it and send it on."""
    settings = context.settings()
    mailer = Mailer(transport_for(settings), context.mail_config())
    limits = Limits(cap=FrequencyCap.from_settings(settings))
    with context.session() as db:
        now = utcnow()
        result = run_step(
            db, enrolment_id, expected_step_key, now=now, mailer=mailer, limits=limits
        )
    if result.verdict is not Verdict.ADVANCED or result.next_run_at is None:
        return
    with context.session() as db:
        step_key = claim_one(db, enrolment_id, now=utcnow(), lease=_lease())
    if step_key is not None:
        _send_or_release([(enrolment_id, step_key)])


def enqueue_due_steps() -> int:
    """Claim due enrolments batch by batch and enqueue one message (ids only) for each.

    Called from the scheduler tick itself; answers how many steps were enqueued.
    """
    total = 0
    for _ in range(MAX_BATCHES_PER_TICK):
        with context.session() as db:
            claimed = claim_due(db, now=utcnow(), limit=DEFAULT_BATCH, lease=_lease())
        _send_or_release(claimed)
        total += len(claimed)
        if len(claimed) < DEFAULT_BATCH:
            break
    return total


def _lease() -> timedelta:
    return timedelta(seconds=context.settings().step_lease_seconds)


def _send_or_release(claimed: list[tuple[int, str]]) -> None:
    """Enqueue one message per claimed step; if the broker fails, drop the claims not sent,
    or those steps would wait out their lease before the tick found them."""
    for sent, (enrolment_id, step_key) in enumerate(claimed):
        try:
            run_enrolment_step.send(enrolment_id, step_key)
        except Exception:
            with context.session() as db:
                release(db, [i for i, _ in claimed[sent:]])
            raise


@dramatiq.actor(queue_name="ticks", max_retries=0)
def sequence_tick() -> None:
    """Enqueue the due sequence steps now (the periodic tick does the same)."""
    enqueue_due_steps()
