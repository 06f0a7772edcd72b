"""The incremental metrics refresh: stamps what each exposure led to from new events.

An exposure knows the idempotency key of the e-mail it sent (`message_key`); the
refresh first finds that message's id, then reads the events stored since the
experiment's watermark in grouped statements (never a loop over contacts):

- by message (`properties.message_id`): delivered (sent, or a relay's delivery
  notice), bounced, and a person's open, click and reply (events flagged `machine`
  do not count);
- by contact, within `window_days` after the exposure: unsubscribed, complained, and
  the experiment's conversion event;
- for the goal metric, the exposure's enrolment completing at a goal.

Each stamp keeps the earliest time it happened, so reading an event twice changes
nothing. That is what makes the watermark safe: it only moves past events stored at
least SETTLE ago, and newer ones are read again next time, so an event whose
transaction committed after a later one (ids are handed out before commit) is still
read.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select, update
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal

from nurture.models import (
    EmailMessage,
    Enrolment,
    EnrolmentState,
    Event,
    Experiment,
    Exposure,
    Metric,
)
from nurture.models.base import UTCDateTime

SETTLE = timedelta(minutes=2)
# Event ids read per statement: a backlog is caught up in bounded steps.
CHUNK = 200_000
DELIVERED = ("email.sent", "email.delivered")
BOUNCED = "email.bounced"
OPENED = "email.opened"
CLICKED = "email.clicked"
REPLIED = "email.replied"
UNSUBSCRIBED = "email.unsubscribed"
COMPLAINED = "email.complained"
_BY_MESSAGE = (*DELIVERED, BOUNCED, OPENED, CLICKED, REPLIED)
GOAL_PREFIX = "goal:"


class DaysAfter(ColumnElement[datetime]):
    """`moment + N days` on either database (SQLite has no interval arithmetic)."""

    inherit_cache = True
    type = UTCDateTime()
    _traverse_internals = [
        ("moment", InternalTraversal.dp_clauseelement),
        ("days", InternalTraversal.dp_plain_obj),
    ]

    def __init__(self, moment: Any, days: int) -> None:
        self.moment = moment
        self.days = int(days)


@compiles(DaysAfter, "postgresql")
def _days_after_pg(element: DaysAfter, compiler: SQLCompiler, **kw: Any) -> str:
    return f"({compiler.process(element.moment, **kw)} + make_interval(days => {element.days}))"


@compiles(DaysAfter, "sqlite")
def _days_after_sqlite(element: DaysAfter, compiler: SQLCompiler, **kw: Any) -> str:
    # Naive 'YYYY-MM-DD HH:MM:SS.ffffff' text, which datetime() reads; what it answers
    # compares as text with the stored values.
    return f"datetime({compiler.process(element.moment, **kw)}, '+{element.days} days')"


def refresh(session: Session, experiment_id: int, *, now: datetime) -> int:
    """Stamp exposure outcomes from the events after the experiment's watermark and move
    the watermark; answers how many exposure stamps changed. The caller commits."""
    experiment = session.get(Experiment, experiment_id)
    if experiment is None or experiment.started_at is None:
        return 0
    changed = _resolve_messages(session, experiment_id)
    top = int(session.scalar(select(func.max(Event.id))) or 0)
    low = experiment.event_watermark
    while low < top:
        high = min(low + CHUNK, top)
        changed += _stamp_by_message(session, experiment_id, low, high)
        changed += _stamp_by_contact(session, experiment, low, high)
        low = high
    if experiment.metric == Metric.GOAL.value:
        changed += _stamp_goals(session, experiment)
    settled = session.scalar(
        select(func.max(Event.id)).where(
            Event.id > experiment.event_watermark,
            Event.id <= top,
            Event.received_at <= now - SETTLE,
        )
    )
    if settled is not None:
        experiment.event_watermark = int(settled)
    experiment.refreshed_at = now
    return changed


def _resolve_messages(session: Session, experiment_id: int) -> int:
    """Exposures learn their message's id once the pipeline has stored it."""
    result = session.execute(
        update(Exposure)
        .where(
            Exposure.experiment_id == experiment_id,
            Exposure.message_id.is_(None),
            Exposure.message_key.is_not(None),
            EmailMessage.idempotency_key == Exposure.message_key,
        )
        .values(message_id=EmailMessage.id)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def _stamp_by_message(session: Session, experiment_id: int, low: int, high: int) -> int:
    message_id = Event.properties["message_id"].as_integer()
    person = Event.properties["machine"].as_string().is_(None)

    def first(types: tuple[str, ...], *, human: bool = False) -> Any:
        wanted = Event.type.in_(types)
        return func.min(case((and_(wanted, person) if human else wanted, Event.occurred_at)))

    seen = (
        select(
            message_id.label("message_id"),
            first(DELIVERED).label("delivered"),
            first((BOUNCED,)).label("bounced"),
            first((OPENED,), human=True).label("opened"),
            first((CLICKED,), human=True).label("clicked"),
            first((REPLIED,), human=True).label("replied"),
        )
        .where(Event.id > low, Event.id <= high, Event.type.in_(_BY_MESSAGE))
        .group_by(message_id)
        .subquery()
    )
    x = Exposure
    result = session.execute(
        update(x)
        .where(x.experiment_id == experiment_id, x.message_id == seen.c.message_id)
        .where(
            _later(x.delivered_at, seen.c.delivered)
            | _later(x.bounced_at, seen.c.bounced)
            | _later(x.opened_at, seen.c.opened)
            | _later(x.clicked_at, seen.c.clicked)
            | _later(x.replied_at, seen.c.replied)
        )
        .values(
            delivered_at=_earliest(x.delivered_at, seen.c.delivered),
            bounced_at=_earliest(x.bounced_at, seen.c.bounced),
            opened_at=_earliest(x.opened_at, seen.c.opened),
            clicked_at=_earliest(x.clicked_at, seen.c.clicked),
            replied_at=_earliest(x.replied_at, seen.c.replied),
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def _stamp_by_contact(session: Session, experiment: Experiment, low: int, high: int) -> int:
    conversion = (
        experiment.conversion_event if experiment.metric == Metric.CONVERSION.value else None
    )
    types = [UNSUBSCRIBED, COMPLAINED, *([conversion] if conversion else [])]
    x = Exposure

    def first(kind: str) -> Any:
        return func.min(case((Event.type == kind, Event.occurred_at)))

    columns = [
        x.id.label("exposure_id"),
        first(UNSUBSCRIBED).label("unsubscribed"),
        first(COMPLAINED).label("complained"),
        *([first(conversion).label("converted")] if conversion else []),
    ]
    seen = (
        select(*columns)
        .join(Event, Event.contact_id == x.contact_id)
        .where(
            x.experiment_id == experiment.id,
            Event.id > low,
            Event.id <= high,
            Event.type.in_(types),
            Event.occurred_at >= x.exposed_at,
            Event.occurred_at <= DaysAfter(x.exposed_at, experiment.window_days),
        )
        .group_by(x.id)
        .subquery()
    )
    values: dict[str, Any] = {
        "unsubscribed_at": _earliest(x.unsubscribed_at, seen.c.unsubscribed),
        "complained_at": _earliest(x.complained_at, seen.c.complained),
    }
    changes = _later(x.unsubscribed_at, seen.c.unsubscribed) | _later(
        x.complained_at, seen.c.complained
    )
    if conversion:
        values["converted_at"] = _earliest(x.converted_at, seen.c.converted)
        changes = changes | _later(x.converted_at, seen.c.converted)
    result = session.execute(
        update(x)
        .where(x.id == seen.c.exposure_id, changes)
        .values(values)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def _stamp_goals(session: Session, experiment: Experiment) -> int:
    """Exposures whose enrolment completed at a goal since the last refresh (with the
    same margin as events: an enrolment finished in a transaction still open then)."""
    last = experiment.refreshed_at or experiment.started_at
    since = last - SETTLE if last is not None else None
    x = Exposure
    reached = (
        select(
            Enrolment.id.label("enrolment_id"),
            Enrolment.contact_id.label("contact_id"),
            Enrolment.finished_at.label("finished_at"),
        )
        .where(
            Enrolment.sequence_id == experiment.sequence_id,
            Enrolment.state == EnrolmentState.COMPLETED.value,
            Enrolment.exit_reason.startswith(GOAL_PREFIX, autoescape=True),
            *([Enrolment.finished_at >= since] if since is not None else []),
        )
        .subquery()
    )
    result = session.execute(
        update(x)
        .where(
            x.experiment_id == experiment.id,
            x.contact_id == reached.c.contact_id,
            x.enrolment_id == reached.c.enrolment_id,
            x.converted_at.is_(None),
            reached.c.finished_at >= x.exposed_at,
        )
        .values(converted_at=reached.c.finished_at)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def _later(stamp: Any, seen: Any) -> ColumnElement[bool]:
    """The events saw it, and earlier than the stamp says (or the stamp is empty)."""
    return and_(seen.is_not(None), (stamp.is_(None)) | (seen < stamp))


def _earliest(stamp: Any, seen: Any) -> Any:
    return case((_later(stamp, seen), seen), else_=stamp)
