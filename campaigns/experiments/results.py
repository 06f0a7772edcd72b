"""The results of an experiment: one grouped count over its exposures, analysed.

`compute` counts each variant's exposures and stamped outcomes in one statement,
hands the counts to `decision.analyse` and stores the document it builds in
`Experiment.results` (the page and the API read it there). While the experiment
runs it also acts on what the analysis says: it keeps the formal look (the analysis
takes one at most once a day), stops the variants a guardrail flags when the
experiment asks for that, and moves a bandit's shares at most every
ALLOCATE_EVERY, recording each move for the allocation chart.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from campaigns.experiments import decision
from nurture import audit
from nurture.errors import NotFound
from nurture.models import (
    AllocationMode,
    Experiment,
    ExperimentAllocation,
    ExperimentKind,
    ExperimentStatus,
    ExperimentVariant,
    Exposure,
)

ALLOCATE_EVERY = timedelta(minutes=5)
# Points of the allocation chart kept in the document (the table keeps them all).
MAX_ALLOCATION_POINTS = 500
GUARDRAIL_ACTOR = "guardrail"


def compute(
    session: Session, experiment_id: int, *, now: datetime, final: bool = False
) -> dict[str, Any]:
    """The results document (stored in `Experiment.results` and answered): records a
    formal look at most once a day, applies guardrail stops when the experiment asks,
    and moves a bandit's allocation at most every 5 minutes. `final` takes the last
    look (a broadcast's test phase ends). The caller commits."""
    # Locked (PostgreSQL) so a declaration and the worker's refresh, or two refreshes,
    # do not both take today's formal look or both move the bandit.
    experiment = session.scalars(
        select(Experiment).where(Experiment.id == experiment_id).with_for_update()
    ).one_or_none()
    if experiment is None:
        raise NotFound("experiment", experiment_id)
    variants = list(
        session.scalars(
            select(ExperimentVariant)
            .where(ExperimentVariant.experiment_id == experiment_id)
            .order_by(ExperimentVariant.position, ExperimentVariant.key)
        )
    )
    arms = arms_of(session, experiment_id, variants)
    plan = decision.Plan(
        metric=experiment.metric,
        baseline=experiment.baseline_rate,
        min_effect=experiment.min_effect,
        alpha=experiment.alpha,
        power=experiment.power,
        per_variant=experiment.planned_per_variant,
        control="0" if experiment.kind == ExperimentKind.SPLIT.value else "a",
        guardrail_stop=experiment.guardrail_stop,
    )
    analysis = decision.analyse(
        arms,
        plan,
        decision.Looks.from_json(experiment.looks),
        now=now,
        mode=experiment.mode,
        seed=_seed(experiment.salt, now),
        status=experiment.status,
        declared=experiment.winner_variant,
        final=final,
        floor=experiment.bandit_floor,
    )
    if experiment.status == ExperimentStatus.RUNNING.value:
        if analysis.looked:
            experiment.looks = analysis.looks.as_json()
        if experiment.guardrail_stop and analysis.stop:
            _stop_flagged(session, experiment, variants, analysis, now)
        if experiment.mode == AllocationMode.BANDIT.value and analysis.allocation:
            _allocate(session, experiment, variants, analysis.allocation, now)
    document = analysis.as_dict()
    document["computed_at"] = now.isoformat()
    document["allocation"] = _allocation_history(session, experiment_id)
    experiment.results = document
    experiment.results_at = now
    return document


def arms_of(
    session: Session, experiment_id: int, variants: list[ExperimentVariant]
) -> list[decision.Arm]:
    """Each variant's counts, from one grouped statement over the exposures. Mail
    outcomes count among delivered messages (a bounce is not a delivery), so every
    per-delivered rate has the same denominator."""
    x = Exposure
    delivered = and_(x.delivered_at.is_not(None), x.bounced_at.is_(None))

    def among_delivered(stamp: Any) -> Any:
        return func.count(case((and_(delivered, stamp.is_not(None)), 1)))

    rows = session.execute(
        select(
            x.variant_key,
            func.count().label("exposed"),
            func.count(case((delivered, 1))).label("delivered"),
            among_delivered(x.opened_at).label("opened"),
            among_delivered(x.clicked_at).label("clicked"),
            among_delivered(x.replied_at).label("replied"),
            among_delivered(x.unsubscribed_at).label("unsubscribed"),
            among_delivered(x.complained_at).label("complained"),
            func.count(x.converted_at).label("converted"),
        )
        .where(x.experiment_id == experiment_id)
        .group_by(x.variant_key)
    ).all()
    counts = {str(row.variant_key): row for row in rows}
    arms = []
    for variant in variants:
        row = counts.get(variant.key)
        arms.append(
            decision.Arm(
                key=variant.key,
                name=variant.name,
                exposed=int(row.exposed) if row else 0,
                delivered=int(row.delivered) if row else 0,
                opened=int(row.opened) if row else 0,
                clicked=int(row.clicked) if row else 0,
                replied=int(row.replied) if row else 0,
                unsubscribed=int(row.unsubscribed) if row else 0,
                complained=int(row.complained) if row else 0,
                converted=int(row.converted) if row else 0,
                stopped=variant.stopped_at is not None,
            )
        )
    return arms


def _stop_flagged(
    session: Session,
    experiment: Experiment,
    variants: list[ExperimentVariant],
    analysis: decision.Analysis,
    now: datetime,
) -> None:
    reasons = {r.arm.key: r.guardrail for r in analysis.arms}
    for variant in variants:
        live = [v for v in variants if v.stopped_at is None]
        # The last arm standing keeps running: stopping it is the marketer's call.
        if variant.key not in analysis.stop or variant.stopped_at is not None or len(live) <= 1:
            continue
        variant.stopped_at = now
        variant.stopped_reason = (reasons.get(variant.key) or "a guardrail was crossed")[:500]
        audit.record(
            session,
            actor=GUARDRAIL_ACTOR,
            action="experiment.variant_stopped",
            entity_type="experiment",
            entity_id=experiment.id,
            changes={"variant": variant.key, "reason": variant.stopped_reason},
        )


def _allocate(
    session: Session,
    experiment: Experiment,
    variants: list[ExperimentVariant],
    shares: dict[str, float],
    now: datetime,
) -> None:
    if experiment.allocated_at is not None and now - experiment.allocated_at < ALLOCATE_EVERY:
        return
    live = {v.key for v in variants if v.stopped_at is None}
    kept = {k: float(s) for k, s in shares.items() if k in live and s > 0}
    total = sum(kept.values())
    if total <= 0:
        return
    kept = {k: s / total for k, s in kept.items()}
    for variant in variants:
        variant.allocation = kept.get(variant.key, 0.0)
    session.add(ExperimentAllocation(experiment_id=experiment.id, at=now, shares=kept))
    experiment.allocated_at = now


def _allocation_history(session: Session, experiment_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(ExperimentAllocation.at, ExperimentAllocation.shares)
        .where(ExperimentAllocation.experiment_id == experiment_id)
        .order_by(ExperimentAllocation.at.desc(), ExperimentAllocation.id.desc())
        .limit(MAX_ALLOCATION_POINTS)
    ).all()
    return [{"at": at.isoformat(), "shares": dict(shares)} for at, shares in reversed(rows)]


def _seed(salt: str, now: datetime) -> int:
    # Thompson draws differ between allocation rounds but repeat within one, so a
    # recomputation at the same moment answers the same shares.
    digest = hashlib.sha256(f"{salt}:{int(now.timestamp()) // 300}".encode()).digest()
    return int.from_bytes(digest[:4], "big")
