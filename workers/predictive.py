"""Predictive-score actors: fit (and publish or refuse) a requested model; the weekly refit."""

from __future__ import annotations

import logging

import dramatiq

from nurture.models import utcnow
from nurture.scoring import predictive
from workers import context

log = logging.getLogger(__name__)
# A fit reads the whole history and rewrites every contact's probability.
FIT_TIME_LIMIT_MS = 2 * 60 * 60 * 1000


@dramatiq.actor(queue_name="predictive", max_retries=0, time_limit=FIT_TIME_LIMIT_MS)
def fit_predictive_model(fit_id: int) -> None:
    """Run a requested fit; a second delivery finds it taken and does nothing.

    A fit that raises is recorded as failed with the error rather than retried:
    the same data would fail the same way, and the page shows the reason.
    """
    try:
        with context.session() as db:
            predictive.run_fit(db, fit_id)
    except Exception as exc:
        log.exception("predictive fit %s failed", fit_id)
        with context.session() as db:
            predictive.mark_failed(db, fit_id, reason=f"The fit failed: {exc}"[:2000])


def enqueue_weekly_refit() -> None:
    """From the tick: request and send a refit when the last one is a week old."""
    with context.session() as db:
        fit_id = predictive.claim_weekly_refit(db, now=utcnow())
    if fit_id is not None:
        fit_predictive_model.send(fit_id)
