"""The results of an experiment: one grouped count over its exposures, analysed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session


def compute(session: Session, experiment_id: int, *, now: datetime) -> dict[str, Any]:
    """The results document (stored in `Experiment.results` and answered): records a
    formal look at most once a day, applies guardrail stops when the experiment asks,
    and moves a bandit's allocation at most every 5 minutes. The caller commits."""
    raise NotImplementedError
