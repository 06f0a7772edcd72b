"""Broadcasts as the marketer writes them: create, edit, schedule, cancel (audited).

A broadcast with a test phase owns one experiment (kind `broadcast`) whose variants are
the test's arms; it stays a draft until the audience is frozen, when it starts.
Nothing here sends: scheduling hands the broadcast to the workers' tick
(`sending.start_due`), which freezes the audience at `send_at`.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from campaigns.broadcasts.definition import (
    ALPHA,
    POWER,
    BroadcastInput,
    check,
    check_test_size,
    plan_baseline,
    planned_per_variant,
)
from campaigns.email.needs import shortfall, templates_needs
from campaigns.email.overrides import Overrides
from campaigns.email.overrides import problems as override_problems
from nurture import audit
from nurture.errors import Conflict, InvalidInput, NotFound, Problem
from nurture.models import (
    Broadcast,
    BroadcastRecipient,
    BroadcastStatus,
    Contact,
    EmailTemplate,
    Experiment,
    ExperimentKind,
    ExperimentStatus,
    ExperimentVariant,
    RecipientState,
    Segment,
    SegmentMember,
)
from nurture.sqlsets import among
from templates.requirements import register_sender

EDITABLE = (BroadcastStatus.DRAFT.value, BroadcastStatus.SCHEDULED.value)
LIVE = (BroadcastStatus.SENDING.value, BroadcastStatus.TESTING.value)

BROADCAST_LABEL = "a broadcast"
_BROADCAST_ADVICE = "Choose a template that needs only the contact, the rep and the brand."
register_sender("broadcast", BROADCAST_LABEL)


def create_broadcast(
    session: Session, data: BroadcastInput, *, actor: str, now: datetime
) -> Broadcast:
    """A new draft (and its test's experiment). InvalidInput naming the fields at fault;
    `SmallTest` (an InvalidInput) when the test group is too small and not accepted.
    The caller commits."""
    _validate(session, data, now=now)
    broadcast = Broadcast(created_by=actor, status=BroadcastStatus.DRAFT.value)
    _apply(broadcast, data)
    session.add(broadcast)
    session.flush()
    _write_experiment(session, broadcast, data, actor=actor)
    audit.record(
        session,
        actor=actor,
        action="broadcast.created",
        entity_type="broadcast",
        entity_id=broadcast.id,
        changes={"name": broadcast.name},
    )
    return broadcast


def update_broadcast(
    session: Session, broadcast_id: int, data: BroadcastInput, *, actor: str, now: datetime
) -> Broadcast:
    """Rewrite a draft or scheduled broadcast (a scheduled one keeps its schedule);
    Conflict once it has started."""
    broadcast = get_broadcast(session, broadcast_id, lock=True)
    if broadcast.status not in EDITABLE:
        raise Conflict(f"a broadcast can be edited only before it starts ({broadcast.status})")
    _validate(session, data, now=now)
    _apply(broadcast, data)
    _write_experiment(session, broadcast, data, actor=actor)
    audit.record(
        session,
        actor=actor,
        action="broadcast.updated",
        entity_type="broadcast",
        entity_id=broadcast.id,
        changes={"name": broadcast.name},
    )
    return broadcast


def get_broadcast(session: Session, broadcast_id: int, *, lock: bool = False) -> Broadcast:
    broadcast = session.get(Broadcast, broadcast_id, with_for_update=lock)
    if broadcast is None:
        raise NotFound("broadcast", broadcast_id)
    return broadcast


def list_broadcasts(
    session: Session, *, status: str | None = None, limit: int = 100, offset: int = 0
) -> list[Broadcast]:
    """Newest first."""
    stmt = select(Broadcast).order_by(Broadcast.id.desc()).limit(limit).offset(offset)
    if status is not None:
        stmt = stmt.where(Broadcast.status == status)
    return list(session.scalars(stmt))


def experiment_of(session: Session, broadcast_id: int) -> Experiment | None:
    """The experiment of the broadcast's test phase (None without one)."""
    return session.scalar(
        select(Experiment)
        .where(Experiment.broadcast_id == broadcast_id)
        .order_by(Experiment.id)
        .limit(1)
    )


def variants_of(session: Session, broadcast_id: int) -> list[ExperimentVariant]:
    """The test phase's variants in order (none without a test phase)."""
    experiment = experiment_of(session, broadcast_id)
    if experiment is None:
        return []
    return list(
        session.scalars(
            select(ExperimentVariant)
            .where(ExperimentVariant.experiment_id == experiment.id)
            .order_by(ExperimentVariant.position, ExperimentVariant.key)
        )
    )


def schedule_broadcast(
    session: Session, broadcast_id: int, *, actor: str, now: datetime
) -> Broadcast:
    """Hand a draft to the workers: it starts at `send_at` (now when it has none).
    InvalidInput for a past schedule or an empty audience. The caller commits."""
    broadcast = get_broadcast(session, broadcast_id, lock=True)
    if broadcast.status != BroadcastStatus.DRAFT.value:
        raise Conflict(f"only a draft can be scheduled (it is {broadcast.status})")
    if broadcast.send_at is None:
        broadcast.send_at = now
    elif broadcast.local_time is None and broadcast.send_at < now:
        raise InvalidInput.single("send_at", "is in the past")
    if audience_size(session, broadcast.segment_id, _list_of(broadcast)) == 0:
        raise InvalidInput.single(_audience_field(broadcast), "the audience is empty")
    broadcast.status = BroadcastStatus.SCHEDULED.value
    audit.record(
        session,
        actor=actor,
        action="broadcast.scheduled",
        entity_type="broadcast",
        entity_id=broadcast.id,
        changes={"send_at": broadcast.send_at.isoformat()},
    )
    return broadcast


def cancel_broadcast(
    session: Session, broadcast_id: int, *, actor: str, now: datetime
) -> Broadcast:
    """Stop a broadcast: recipients not sent yet never will be (a batch being sent stops
    before its next chunk). Conflict once it has finished. The caller commits."""
    broadcast = get_broadcast(session, broadcast_id, lock=True)
    if broadcast.status in (BroadcastStatus.SENT.value, BroadcastStatus.CANCELLED.value):
        raise Conflict(f"the broadcast has ended ({broadcast.status})")
    broadcast.status = BroadcastStatus.CANCELLED.value
    broadcast.cancelled_at = now
    broadcast.finished_at = now
    cancelled = session.execute(
        update(BroadcastRecipient)
        .where(
            BroadcastRecipient.broadcast_id == broadcast_id,
            BroadcastRecipient.state == RecipientState.PENDING.value,
        )
        .values(state=RecipientState.CANCELLED.value)
        .execution_options(synchronize_session=False)
    )
    experiment = experiment_of(session, broadcast_id)
    if experiment is not None and experiment.status in (
        ExperimentStatus.DRAFT.value,
        ExperimentStatus.RUNNING.value,
    ):
        experiment.status = ExperimentStatus.STOPPED.value
        experiment.decided_at = now
        experiment.decision_reason = "the broadcast was cancelled"
    audit.record(
        session,
        actor=actor,
        action="broadcast.cancelled",
        entity_type="broadcast",
        entity_id=broadcast.id,
        changes={"not_sent": int(getattr(cancelled, "rowcount", 0) or 0)},
    )
    return broadcast


def audience_size(session: Session, segment_id: int | None, contact_ids: Sequence[int]) -> int:
    """How many contacts the audience holds today (erased contacts left out)."""
    if segment_id is not None:
        return int(
            session.scalar(
                select(func.count())
                .select_from(SegmentMember)
                .join(Contact, Contact.id == SegmentMember.contact_id)
                .where(SegmentMember.segment_id == segment_id, Contact.email.is_not(None))
            )
            or 0
        )
    ids = sorted(set(contact_ids))
    # In chunks: SQLite takes only so many parameters in one statement.
    return sum(
        int(
            session.scalar(
                select(func.count()).where(
                    among(session, Contact.id, ids[start : start + 5000], integers=True),
                    Contact.email.is_not(None),
                )
            )
            or 0
        )
        for start in range(0, len(ids), 5000)
    )


def _validate(session: Session, data: BroadcastInput, *, now: datetime) -> None:
    def exists(template_id: int | None) -> bool:
        return template_id is not None and session.get(EmailTemplate, template_id) is not None

    problems = check(data, now=now, known_template=exists(data.template_id))
    for index, variant in enumerate(data.variants):
        if variant.template_id is not None and not exists(variant.template_id):
            problems.append(Problem(f"variants[{index}].template_id", "no such template"))
            continue
        texts = Overrides(variant.subject, variant.preheader, variant.from_name)
        template_id = variant.template_id or data.template_id
        problems += override_problems(session, template_id, texts, f"variants[{index}]")
    problems += _context_problems(session, data)
    if data.segment_id is not None and session.get(Segment, data.segment_id) is None:
        problems.append(Problem("segment_id", "no such segment"))
    if problems:
        raise InvalidInput(problems)
    audience = audience_size(session, data.segment_id, list(data.contact_ids or ()))
    if audience == 0:
        where = "segment_id" if data.segment_id is not None else "contact_ids"
        raise InvalidInput.single(where, "the audience is empty")
    small = check_test_size(data, audience)
    if small is not None:
        raise small


def _context_problems(session: Session, data: BroadcastInput) -> list[Problem]:
    """Templates needing more than a broadcast gives (the contact, rep, brand and links):
    a broadcast has no project, webinar or case study to fill them with."""
    used = {"template_id": data.template_id} | {
        f"variants[{i}].template_id": v.template_id for i, v in enumerate(data.variants)
    }
    needs = templates_needs(session, [t for t in used.values() if t is not None])
    problems = []
    for where, template_id in used.items():
        template = needs.get(template_id) if template_id is not None else None
        short = (
            shortfall(template, (), BROADCAST_LABEL, alternatives=_BROADCAST_ADVICE)
            if template is not None
            else None
        )
        if short is not None:
            problems.append(Problem(where, short))
    return problems


def _apply(broadcast: Broadcast, data: BroadcastInput) -> None:
    broadcast.name = data.name.strip()
    broadcast.template_id = data.template_id
    broadcast.segment_id = data.segment_id
    broadcast.contact_ids = (
        None if data.contact_ids is None else {"ids": sorted(set(data.contact_ids))}
    )
    broadcast.send_at = data.send_at
    broadcast.local_time = data.local_time
    broadcast.cap_policy = data.cap_policy
    broadcast.quiet_hours = None if data.quiet_hours is None else dict(data.quiet_hours)
    broadcast.test_percent = data.test_percent
    broadcast.test_hours = data.test_hours


def _write_experiment(
    session: Session, broadcast: Broadcast, data: BroadcastInput, *, actor: str
) -> None:
    experiment = experiment_of(session, broadcast.id)
    if not data.has_test:
        if experiment is not None:
            session.delete(experiment)
        return
    if experiment is None:
        experiment = Experiment(
            kind=ExperimentKind.BROADCAST.value,
            status=ExperimentStatus.DRAFT.value,
            salt=secrets.token_hex(16),
            broadcast_id=broadcast.id,
            created_by=actor,
        )
        session.add(experiment)
    baseline = plan_baseline(data)
    experiment.name = f"Broadcast: {broadcast.name}"[:200]
    experiment.metric = data.metric
    experiment.default_variant = data.default_variant
    experiment.baseline_rate = baseline
    experiment.min_effect = data.min_effect
    experiment.alpha, experiment.power = ALPHA, POWER
    experiment.planned_per_variant = planned_per_variant(data)
    session.flush()
    session.execute(
        delete(ExperimentVariant).where(ExperimentVariant.experiment_id == experiment.id)
    )
    share = 1 / len(data.variants)
    for position, variant in enumerate(data.variants):
        session.add(
            ExperimentVariant(
                experiment_id=experiment.id,
                key=variant.key,
                name=variant.name or f"Variant {variant.key.upper()}",
                position=position,
                weight=share,
                content=variant.content(),
            )
        )
    session.flush()


def _list_of(broadcast: Broadcast) -> list[int]:
    raw: Any = (broadcast.contact_ids or {}).get("ids", [])
    return [int(c) for c in raw]


def _audience_field(broadcast: Broadcast) -> str:
    return "segment_id" if broadcast.segment_id is not None else "contact_ids"
