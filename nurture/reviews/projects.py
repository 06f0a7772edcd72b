"""Projects reported by the firm's project tool, and `project.completed` (issue 15)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.orm import Session

from nurture.models import Project


@dataclass(frozen=True, slots=True)
class ClientRef:
    """A client contact named by e-mail (created when unknown) or by contact id."""

    email: str | None = None
    contact_id: int | None = None
    first_name: str | None = None
    last_name: str | None = None


@dataclass(frozen=True, slots=True)
class ProjectInput:
    """A checked project report."""

    external_id: str
    name: str
    status: str
    clients: tuple[ClientRef, ...] = ()
    company: str | None = None
    service: str | None = None
    account_manager: str | None = None
    team: tuple[str, ...] = ()
    started_on: date | None = None
    ends_on: date | None = None


@dataclass(slots=True)
class ProjectOutcome:
    project: Project
    created: bool
    # True when this report is the one that completed the project.
    completed_now: bool
    # `project.completed` events stored by this report (hand them over after commit).
    event_ids: list[int] = field(default_factory=list)


def check_project(raw: Mapping[str, object]) -> ProjectInput:
    """Check a decoded JSON report; InvalidInput names each bad field."""
    raise NotImplementedError


def upsert_project(
    session: Session, data: ProjectInput, *, actor: str, now: datetime
) -> ProjectOutcome:
    """Create or update the project with this external id; the caller commits."""
    raise NotImplementedError
