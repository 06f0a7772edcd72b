"""When a hand-off given to a rep now is due: the SLA clock with the stored settings and
the rep's own time zone (for reassignments and anything else that restarts the clock)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.models import SalesRep
from nurture.qualification import settings as qualification_settings
from nurture.qualification.sla import due_at


def due_for_owner(
    session: Session,
    owner_id: int | None,
    start: datetime,
    *,
    config: qualification_settings.Settings | None = None,
) -> datetime:
    """`sla_hours` working hours after `start` in the zone of `owner_id` (their
    `sales_reps.time_zone`, else the default zone; None: the default zone)."""
    config = config or qualification_settings.get(session)
    zone: str | None = None
    if owner_id is not None:
        zone = session.scalar(select(SalesRep.time_zone).where(SalesRep.user_id == owner_id))
    return due_at(
        start,
        config.sla_hours,
        zone=zone or config.default_time_zone,
        work_start=config.work_start,
        work_end=config.work_end,
        work_days=config.work_days,
    )
