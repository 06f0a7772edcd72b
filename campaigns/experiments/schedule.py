"""Which experiments are due a refresh of their metrics and results.

Running ones every EVERY, and ended ones for AFTER_END after the end (late opens and
conversions still fill in their numbers; the decision no longer moves). The claim
is one conditional UPDATE of `results_at`, so two tickers never send the same
experiment; a lost queue message is sent again once EVERY has passed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from nurture.models import Experiment, ExperimentStatus

EVERY = timedelta(minutes=2)
# Ended experiments keep refreshing this long at most (the longest window allowed).
AFTER_END = timedelta(days=90)
MAX_PER_TICK = 200


def claim_due(session: Session, *, now: datetime, every: timedelta = EVERY) -> list[int]:
    """Ids of the experiments due a refresh, claimed by this caller. The caller commits."""
    e = Experiment
    stale = or_(e.results_at.is_(None), e.results_at <= now - every)
    live = or_(
        e.status == ExperimentStatus.RUNNING.value,
        and_(
            e.status.in_((ExperimentStatus.DECIDED.value, ExperimentStatus.STOPPED.value)),
            e.started_at.is_not(None),
            e.decided_at >= now - AFTER_END,
        ),
    )
    candidates = list(
        session.scalars(
            select(e.id)
            .where(live, stale)
            .order_by(e.results_at.asc().nulls_first())
            .limit(MAX_PER_TICK)
        )
    )
    if not candidates:
        return []
    claimed = session.scalars(
        update(e)
        .where(e.id.in_(candidates), stale)
        .values(results_at=now)
        .returning(e.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(int(i) for i in claimed)
