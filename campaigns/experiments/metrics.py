"""The incremental metrics refresh: stamps what each exposure led to from new events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session


def refresh(session: Session, experiment_id: int, *, now: datetime) -> int:
    """Stamp exposure outcomes from the events after the experiment's watermark and move
    the watermark; answers how many events were read. The caller commits."""
    raise NotImplementedError
