"""The editable default survey sequence: completion, survey, reminder, routing by category."""

from __future__ import annotations

from sqlalchemy.orm import Session

from nurture.models import Sequence

SURVEY_SEQUENCE_NAME = "After the project: NPS survey"


def install_survey_sequence(session: Session, *, actor: str, delay_days: int = 3) -> Sequence:
    """The survey sequence, created active the first time; the caller commits."""
    raise NotImplementedError


def active_survey_sequence(session: Session) -> Sequence | None:
    """An active sequence triggered by `project.completed`, if any."""
    raise NotImplementedError
