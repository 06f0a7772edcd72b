"""The demo's lead funnel at work: scoring rules, a fitted predictive model, sales teams
and routing, automatic qualification, and hand-offs waiting in each rep's inbox (one
already accepted, one rejected and recycled into nurture).

Runs after the contacts, events, sequences and history exist. Each part is skipped when
it is already there, so `nurture demo` stays safe to run again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.sequences.engine import Mailer
from nurture.demo.data import TARGET_INDUSTRIES
from nurture.demo.loader import USERS
from nurture.demo.sequences import LEGAL
from nurture.models import (
    BehaviourRule,
    FitStatus,
    Handoff,
    HandoffState,
    QualificationSettings,
    Role,
    Sequence,
    User,
    utcnow,
)
from nurture.qualification import inbox, notify, qualify, routing_rules, teams
from nurture.qualification import settings as qualification_settings
from nurture.scoring import predictive, store
from nurture.scoring.engine import rescore_all

ACTOR = "demo"


def _has(field: str, op: str, value: object) -> dict[str, object]:
    return {"field": field, "op": op, "value": value}


def _where(prop: str, op: str, value: object) -> list[dict[str, object]]:
    return [{"property": prop, "op": op, "value": value}]


BEHAVIOUR_RULES: tuple[dict[str, Any], ...] = (
    {"name": "Attended a webinar", "event_type": "webinar.attended", "points": 15},
    {"name": "Registered for a webinar", "event_type": "webinar.registered", "points": 5},
    {"name": "Submitted a form", "event_type": "form.submitted", "points": 20},
    {
        "name": "Asked for an assessment",
        "event_type": "form.submitted",
        "where": _where("form", "equals", "assessment-request"),
        "points": 15,
    },
    {
        "name": "Looked at pricing",
        "event_type": "page.visited",
        "where": _where("path", "equals", "/pricing"),
        "points": 10,
        "cap_points": 30,
        "cap_days": 30,
    },
    {
        "name": "Read three client stories in a week",
        "event_type": "email.clicked",
        "where": _where("url", "contains", "/case-studies/"),
        "points": 8,
        "threshold_count": 3,
        "threshold_days": 7,
    },
    {"name": "Clicked an e-mail", "event_type": "email.clicked", "points": 3},
    {
        "name": "Opened an e-mail",
        "event_type": "email.opened",
        "points": 1,
        "cap_points": 10,
        "cap_days": 30,
    },
    {"name": "Replied to an e-mail", "event_type": "email.replied", "points": 10},
    {"name": "Unsubscribed", "event_type": "email.unsubscribed", "points": -50},
)
FIT_RULES: tuple[dict[str, Any], ...] = (
    {
        "name": "Partner or director",
        "points": 20,
        "condition": {
            "any": [
                _has("title", "contains", "partner"),
                _has("title", "contains", "director"),
                _has("title", "contains", "head of"),
                _has("title", "contains", "chief"),
            ]
        },
    },
    {
        "name": "50+ people",
        "points": 10,
        "condition": _has("company.size_band", "at_least", "51-200"),
    },
    {
        "name": "Target industry",
        "points": 10,
        "condition": _has("company.industry", "in", list(TARGET_INDUSTRIES)),
    },
    {"name": "DACH", "points": 5, "condition": _has("company.country", "in", ["DE", "AT", "CH"])},
)
MQL_RULE = {
    "version": 1,
    "rule": {
        "all": [
            _has("score", "gte", 55),
            _has("fit_grade", "at_least", "B"),
            _has("lifecycle_stage", "not_in", ["customer", "former_customer"]),
        ]
    },
}
TEAM = "Sales"
REJECT_REASON = "Budget frozen until next year; keep them warm"


@dataclass(slots=True)
class FunnelResult:
    rules: int = 0
    rescored: int = 0
    model: str = ""
    handoffs: int = 0
    accepted: int | None = None
    rejected: int | None = None


def seed_demo_funnel(
    session: Session, *, mailer: Mailer, now: datetime | None = None
) -> FunnelResult:
    """Scoring, the predictive model, routing, qualification and two decided hand-offs.

    Commits after each part (the qualification sweep and the hand-off e-mails commit as
    they go).
    """
    now = now or utcnow()
    result = FunnelResult()
    if session.scalar(select(func.count()).select_from(BehaviourRule)) == 0:
        result.rules = _scoring_rules(session)
        result.rescored = rescore_all(session, now=now)
        session.commit()
    if predictive.current_model(session) is None:
        fit = predictive.fit_model(session, now=now, trigger="manual", requested_by=ACTOR)
        auc = fit.metrics.get("auc")
        result.model = (
            f"published (held-out ROC AUC {auc:.2f})"
            if fit.status == FitStatus.PUBLISHED.value and isinstance(auc, float)
            else f"not published: {fit.reason}"
        )
        session.commit()
    if session.get(QualificationSettings, 1) is None:
        _routing(session)
        session.commit()
    if session.scalar(select(func.count()).select_from(Handoff)) == 0:
        qualified = qualify.sweep(session, now=now)
        session.commit()
        result.handoffs = len(qualified.handoff_ids)
        notify.notify_handoffs(
            session,
            qualified.handoff_ids,
            now=now,
            transport=mailer.transport,
            config=mailer.config,
        )
        result.accepted, result.rejected = _decide_two(session, now)
        session.commit()
    return result


def _scoring_rules(session: Session) -> int:
    store.update_settings(
        session, {"half_life_days": 45, "grade_a": 40, "grade_b": 25, "grade_c": 10}, actor=ACTOR
    )
    for rule in BEHAVIOUR_RULES:
        store.create_behaviour_rule(session, rule, actor=ACTOR)
    for fit in FIT_RULES:
        store.create_fit_rule(session, fit, actor=ACTOR)
    return len(BEHAVIOUR_RULES) + len(FIT_RULES)


def _routing(session: Session) -> None:
    """Both reps in one team led by the first; DACH leads go to the first rep."""
    reps = {
        email: user_id
        for email, user_id in session.execute(
            select(User.email, User.id).where(User.role == Role.SALES.value)
        )
    }
    sales = [reps[u.email] for u in USERS if u.role is Role.SALES and u.email in reps]
    for user_id in sales:
        teams.update_rep(
            session, user_id, {"time_zone": "Europe/Berlin", "capacity": 40}, actor=ACTOR
        )
    team = teams.create_team(
        session, {"name": TEAM, "lead_id": sales[0], "member_ids": sales}, actor=ACTOR
    )
    routing_rules.create_rule(
        session,
        {"name": "DACH accounts", "match": {"country": ["DE", "AT", "CH"]}, "owner_id": sales[0]},
        actor=ACTOR,
    )
    routing_rules.create_rule(
        session, {"name": "Everyone else", "match": {}, "team_id": team.id}, actor=ACTOR
    )
    legal = session.scalar(select(Sequence.id).where(Sequence.name == LEGAL))
    qualification_settings.update(
        session,
        {
            "enabled": True,
            "mql_rule": MQL_RULE,
            "sla_hours": 8,
            "default_time_zone": "Europe/Berlin",
            "fallback_owner_id": sales[0],
            "recycle_sequence_id": legal,
            "recycle_score_to": 20,
        },
        actor=ACTOR,
    )


def _decide_two(session: Session, now: datetime) -> tuple[int | None, int | None]:
    """The first rep accepts their oldest hand-off; the second rejects theirs."""
    owners = [
        owner
        for owner in session.scalars(
            select(Handoff.owner_id)
            .where(Handoff.state == HandoffState.PENDING.value, Handoff.owner_id.is_not(None))
            .group_by(Handoff.owner_id)
            .order_by(Handoff.owner_id)
        )
        if owner is not None
    ]
    decided: list[int | None] = [None, None]
    for n, owner in enumerate(owners[:2]):
        handoff_id = session.scalar(
            select(Handoff.id)
            .where(Handoff.owner_id == owner, Handoff.state == HandoffState.PENDING.value)
            .order_by(Handoff.id)
            .limit(1)
        )
        if handoff_id is None:
            continue
        caller = inbox.Caller(user_id=owner, is_admin=False, actor=f"user:{owner}")
        if n == 0:
            inbox.accept(session, handoff_id, user=caller, now=now)
        else:
            inbox.reject(session, handoff_id, user=caller, reason=REJECT_REASON, now=now)
        decided[n] = handoff_id
    return decided[0], decided[1]
