"""Experiment actors: the metrics refresh and the results, on their own queue."""

from __future__ import annotations

import logging

import dramatiq

from campaigns.experiments.metrics import refresh
from campaigns.experiments.results import compute
from campaigns.experiments.schedule import claim_due
from nurture.models import utcnow
from workers import context

log = logging.getLogger(__name__)


@dramatiq.actor(queue_name="experiments", max_retries=5)
def refresh_experiments(experiment_ids: list[int]) -> None:
    """Stamp new outcomes on each experiment's exposures and compute its results, one
    transaction per experiment (a redelivered message stamps nothing twice)."""
    for experiment_id in experiment_ids:
        with context.session() as db:
            now = utcnow()
            refresh(db, experiment_id, now=now)
            compute(db, experiment_id, now=now)


def enqueue_due_refresh() -> list[int]:
    """Send `refresh_experiments` for the experiments this ticker claimed (the tick
    calls this); answers their ids."""
    with context.session() as db:
        due = claim_due(db, now=utcnow())
    if due:
        log.debug("refreshing experiments %s", due)
        refresh_experiments.send(due)
    return due
