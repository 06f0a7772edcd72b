"""The end of a broadcast's test phase: the experiment's results pick what the rest get.

At `decide_at` the experiment's metrics are refreshed and the test concluded by its
rule at its final look (`experiments.store.conclude`, the same results document the
results page shows): a winner the rule supports goes to the rest, otherwise the
marketer's default does. The experiment ends either way: decided, or stopped.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.broadcasts.sending import start_rest
from campaigns.broadcasts.store import experiment_of
from campaigns.experiments import metrics
from campaigns.experiments import store as experiment_store
from nurture.models import Broadcast, BroadcastStatus, Experiment

DECIDER = "broadcast test phase"


def due_to_decide(session: Session, *, now: datetime) -> list[int]:
    """Broadcasts whose test group is out and whose test time is over."""
    return list(
        session.scalars(
            select(Broadcast.id)
            .where(
                Broadcast.status == BroadcastStatus.TESTING.value,
                Broadcast.decide_at <= now,
            )
            .order_by(Broadcast.decide_at, Broadcast.id)
        )
    )


def decide(session: Session, broadcast_id: int, *, now: datetime) -> str | None:
    """Pick the rest's variant and set them going; answers it (None when the broadcast
    is not waiting for a decision, say a second worker decided it). The caller commits."""
    broadcast = session.get(Broadcast, broadcast_id, with_for_update=True)
    if (
        broadcast is None
        or broadcast.status != BroadcastStatus.TESTING.value
        or broadcast.decide_at is None
        or broadcast.decide_at > now
    ):
        return None
    experiment = experiment_of(session, broadcast_id)
    key = "a" if experiment is None else _conclude(session, experiment, now=now)
    start_rest(session, broadcast, key, now=now)
    return key


def _conclude(session: Session, experiment: Experiment, *, now: datetime) -> str:
    # The outcomes up to now first: the final look must count the opens so far.
    metrics.refresh(session, experiment.id, now=now)
    return experiment_store.conclude(session, experiment.id, actor=DECIDER, now=now)
