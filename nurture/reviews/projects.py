"""Projects reported by the firm's project tool, and `project.completed` (issue 15).

A report is idempotent by the tool's external id: the same report twice changes
nothing, a later one updates the project. When a report says `completed`, the project
is stamped completed once and every client contact gets one `project.completed`
event, its key naming project and contact, so a repeated report writes none and a
client added to an already completed project gets theirs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture import audit, event_writes, events
from nurture.contacts.addresses import normalise_email
from nurture.contacts.store import upsert_company
from nurture.errors import InvalidInput, Problem
from nurture.models import (
    Company,
    Contact,
    Project,
    ProjectContact,
    ProjectMember,
    ProjectStatus,
    Service,
    User,
)
from nurture.validation import holds_nul, is_id

MAX_CLIENTS = 50
MAX_TEAM = 50
_FIELDS = frozenset(
    {
        "external_id",
        "name",
        "status",
        "clients",
        "company",
        "service",
        "account_manager",
        "team",
        "started_on",
        "ends_on",
    }
)
_CLIENT_FIELDS = frozenset({"email", "contact_id", "first_name", "last_name"})
_STATUSES = tuple(s.value for s in ProjectStatus)


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
    if not isinstance(raw, Mapping):
        raise InvalidInput.single("", "must be an object")
    problems: list[Problem] = [
        Problem(str(k), "is not a known field") for k in sorted(map(str, raw)) if k not in _FIELDS
    ]
    external_id = _text(raw.get("external_id"), "external_id", 200, problems, required=True)
    name = _text(raw.get("name"), "name", 300, problems, required=True)
    status = raw.get("status", ProjectStatus.ACTIVE.value)
    if status not in _STATUSES:
        problems.append(Problem("status", f"must be one of {', '.join(_STATUSES)}"))
    company = _text(raw.get("company"), "company", 200, problems)
    service = _text(raw.get("service"), "service", 80, problems)
    account_manager = _email(raw.get("account_manager"), "account_manager", problems)
    clients = _clients(raw.get("clients", []), problems)
    team: list[str] = []
    raw_team = raw.get("team", [])
    if raw_team is None:
        raw_team = []
    if not isinstance(raw_team, list) or len(raw_team) > MAX_TEAM:
        problems.append(Problem("team", f"must be a list of up to {MAX_TEAM} e-mail addresses"))
    else:
        for index, member in enumerate(raw_team):
            address = _email(member, f"team[{index}]", problems, required=True)
            if address is not None and address not in team:
                team.append(address)
    started_on = _day(raw.get("started_on"), "started_on", problems)
    ends_on = _day(raw.get("ends_on"), "ends_on", problems)
    if started_on and ends_on and ends_on < started_on:
        problems.append(Problem("ends_on", "must not be before started_on"))
    if problems:
        raise InvalidInput(problems)
    return ProjectInput(
        external_id=external_id or "",
        name=name or "",
        status=str(status),
        clients=tuple(clients),
        company=company,
        service=service,
        account_manager=account_manager,
        team=tuple(team),
        started_on=started_on,
        ends_on=ends_on,
    )


def upsert_project(
    session: Session, data: ProjectInput, *, actor: str, now: datetime
) -> ProjectOutcome:
    """Create or update the project with this external id; the caller commits.

    Unknown service slugs and user addresses are InvalidInput naming the field;
    unknown client addresses become contacts.
    """
    service_id, manager_id, member_ids = _people_and_service(session, data)
    project = session.scalar(
        select(Project).where(Project.external_id == data.external_id).with_for_update()
    )
    created = project is None
    if project is None:
        project = Project(external_id=data.external_id, name=data.name)
        session.add(project)
    company_id = project.company_id
    if data.company is not None:
        company_id = _company_id(session, data.company)
    values: dict[str, Any] = {
        "name": data.name,
        "status": data.status,
        "company_id": company_id,
        "service_id": service_id if data.service is not None else project.service_id,
        "account_manager_id": manager_id
        if data.account_manager is not None
        else project.account_manager_id,
        "started_on": data.started_on or project.started_on,
        "ends_on": data.ends_on or project.ends_on,
    }
    changes = {k: v for k, v in values.items() if getattr(project, k) != v}
    for key, value in changes.items():
        setattr(project, key, value)
    completed_now = data.status == ProjectStatus.COMPLETED.value and project.completed_at is None
    if completed_now:
        project.completed_at = now
        changes["completed_at"] = now.isoformat()
    session.flush()

    client_ids = _client_ids(session, data.clients, company_id)
    _link(session, ProjectContact, "contact_id", project.id, client_ids)
    _link(session, ProjectMember, "user_id", project.id, member_ids)

    event_ids: list[int] = []
    if project.completed_at is not None:
        event_ids = _completed_events(session, project, now)
    if created or changes or event_ids:
        audit.record(
            session,
            actor=actor,
            action="project.created" if created else "project.updated",
            entity_type="project",
            entity_id=project.id,
            changes={k: _plain(v) for k, v in changes.items()},
        )
    return ProjectOutcome(project, created, completed_now, event_ids)


def client_ids(session: Session, project_id: int) -> list[int]:
    """The client contacts of a project."""
    return list(
        session.scalars(
            select(ProjectContact.contact_id)
            .where(ProjectContact.project_id == project_id)
            .order_by(ProjectContact.contact_id)
        )
    )


def _completed_events(session: Session, project: Project, now: datetime) -> list[int]:
    service = session.get(Service, project.service_id) if project.service_id else None
    properties = {
        "project_id": project.id,
        "external_id": project.external_id,
        "name": project.name,
        "service": service.slug if service else None,
    }
    items = [
        events.EventInput(
            "project.completed",
            project.completed_at or now,
            dict(properties),
            f"project.completed:{project.id}:{contact_id}",
            contact_id=contact_id,
        )
        for contact_id in client_ids(session, project.id)
    ]
    return events.store_known(session, items, source="projects")


def _people_and_service(
    session: Session, data: ProjectInput
) -> tuple[int | None, int | None, list[int]]:
    problems: list[Problem] = []
    service_id = None
    if data.service is not None:
        service_id = session.scalar(select(Service.id).where(Service.slug == data.service))
        if service_id is None:
            problems.append(Problem("service", f"no service with slug {data.service!r}"))
    wanted = [a for a in [data.account_manager, *data.team] if a is not None]
    users: dict[str, int] = {}
    if wanted:
        rows = session.execute(
            select(func.lower(User.email), User.id).where(
                func.lower(User.email).in_(wanted), User.is_active.is_(True)
            )
        )
        users = {email: user_id for email, user_id in rows}
    manager_id = None
    if data.account_manager is not None:
        manager_id = users.get(data.account_manager)
        if manager_id is None:
            problems.append(Problem("account_manager", "no active user with this e-mail"))
    member_ids: list[int] = []
    for index, address in enumerate(data.team):
        user_id = users.get(address)
        if user_id is None:
            problems.append(Problem(f"team[{index}]", "no active user with this e-mail"))
        else:
            member_ids.append(user_id)
    if problems:
        raise InvalidInput(problems)
    return service_id, manager_id, member_ids


def _company_id(session: Session, name: str) -> int:
    found = session.scalar(
        select(Company.id).where(func.lower(Company.name) == name.lower()).limit(1)
    )
    return found if found is not None else upsert_company(session, {"name": name}).id


def _client_ids(
    session: Session, clients: tuple[ClientRef, ...], company_id: int | None
) -> list[int]:
    problems: list[Problem] = []
    ids: list[int] = []
    by_id = [c.contact_id for c in clients if c.contact_id is not None]
    live = event_writes.live_contact_ids(session, by_id) if by_id else set()
    emails = sorted({c.email for c in clients if c.email is not None})
    found: dict[str, int] = {}
    new: dict[str, int] = {}
    if emails:
        found, new = event_writes.find_or_create_contacts(session, emails)
        missing = [e for e in emails if e not in found and e not in new]
        if missing:
            found.update(event_writes.find_contacts_by_email(session, missing))
    for index, client in enumerate(clients):
        if client.contact_id is not None:
            if client.contact_id not in live:
                problems.append(
                    Problem(
                        f"clients[{index}].contact_id", f"no contact with id {client.contact_id}"
                    )
                )
                continue
            contact_id = client.contact_id
        else:
            address = client.email or ""
            contact_id = found.get(address) or new[address]
        if contact_id not in ids:
            ids.append(contact_id)
        if client.email in new:
            contact = session.get(Contact, contact_id)
            if contact is not None:
                contact.first_name = client.first_name
                contact.last_name = client.last_name
                contact.company_id = company_id
    if problems:
        raise InvalidInput(problems)
    session.flush()
    return ids


def _link(
    session: Session,
    table: type[ProjectContact] | type[ProjectMember],
    column: str,
    project_id: int,
    ids: list[int],
) -> None:
    """Add the missing rows; reports add people, they never drop them (history stays)."""
    have = set(
        session.scalars(select(getattr(table, column)).where(table.project_id == project_id))
    )
    for item_id in ids:
        if item_id not in have:
            session.add(table(project_id=project_id, **{column: item_id}))
    session.flush()


def _clients(raw: object, problems: list[Problem]) -> list[ClientRef]:
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > MAX_CLIENTS:
        problems.append(Problem("clients", f"must be a list of up to {MAX_CLIENTS} clients"))
        return []
    clients: list[ClientRef] = []
    for index, item in enumerate(raw):
        where = f"clients[{index}]"
        if isinstance(item, str):
            item = {"email": item}
        if not isinstance(item, Mapping):
            problems.append(Problem(where, "must be an e-mail address or an object"))
            continue
        unknown = sorted(str(k) for k in item if k not in _CLIENT_FIELDS)
        if unknown:
            problems.append(Problem(f"{where}.{unknown[0]}", "is not a known field"))
            continue
        contact_id = item.get("contact_id")
        if contact_id is not None:
            if not is_id(contact_id):
                problems.append(Problem(f"{where}.contact_id", "must be a positive integer"))
                continue
            if item.get("email") is not None:
                problems.append(Problem(f"{where}.email", "give email or contact_id, not both"))
                continue
            clients.append(ClientRef(contact_id=int(str(contact_id))))
            continue
        email = _email(item.get("email"), f"{where}.email", problems, required=True)
        first = _text(item.get("first_name"), f"{where}.first_name", 100, problems)
        last = _text(item.get("last_name"), f"{where}.last_name", 100, problems)
        if email is not None:
            clients.append(ClientRef(email=email, first_name=first, last_name=last))
    return clients


def _text(
    value: object, name: str, limit: int, problems: list[Problem], *, required: bool = False
) -> str | None:
    if value is None:
        if required:
            problems.append(Problem(name, "is required"))
        return None
    if not isinstance(value, str) or holds_nul(value):
        problems.append(Problem(name, "must be a string without NUL characters"))
        return None
    value = value.strip()
    if not value:
        if required:
            problems.append(Problem(name, "must not be empty"))
        return None
    if len(value) > limit:
        problems.append(Problem(name, f"must be at most {limit} characters"))
        return None
    return value


def _email(
    value: object, name: str, problems: list[Problem], *, required: bool = False
) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str):
        problems.append(Problem(name, "must be an e-mail address"))
        return None
    try:
        return normalise_email(value)
    except ValueError as exc:
        problems.append(Problem(name, str(exc)))
        return None


def _day(value: object, name: str, problems: list[Problem]) -> date | None:
    if value is None:
        return None
    if not isinstance(value, str):
        problems.append(Problem(name, "must be a date like 2026-05-31"))
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        problems.append(Problem(name, f"{value[:40]!r} is not a date like 2026-05-31"))
        return None


def _plain(value: object) -> object:
    return value.isoformat() if isinstance(value, date) else value
