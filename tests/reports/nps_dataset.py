"""A small set of projects and NPS surveys whose every figure was worked out on paper.

Services Audit and Advisory; managers Ann and Bob; Cat is on two teams. Scores, with
the month (2026, UTC) each was given; every survey listed was sent in the month of
its project:

- P1 "Ledger review" (Acme, legal; Audit; manager Ann; team Ann, Cat), sent in
  January to five clients: 10 (Jan), 9 (Jan), 7 (Feb), 3 (Feb, Dora), one unanswered.
  NPS (2 - 1) / 4 = 25.
- P2 "Store rollout" (Beta, retail; Advisory; manager Bob; team Cat), sent in March:
  10 (Mar), 5 (Mar, Dora again), 6 (Apr). NPS (1 - 2) / 3 = -33.3.
- P3 "Quick fix" (no company, service, manager or team), sent in April: 8 (Apr).
- One survey of P3 made but never sent nor answered: counted nowhere.

All: 8 answers, 3 promoters, 2 passives, 3 detractors: NPS 0; 9 sent, 8 answered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from nurture.models import (
    Company,
    NpsAnswer,
    NpsSurvey,
    Project,
    ProjectContact,
    ProjectMember,
    Service,
)
from tests.factories import make_contact, make_user


def at(month: int, day: int = 10) -> datetime:
    return datetime(2026, month, day, 12, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class NpsData:
    services: dict[str, int]
    users: dict[str, int]
    companies: dict[str, int]
    projects: dict[str, int]
    dora: int
    quiet_contact: int


def build(db: Session) -> NpsData:
    audit = Service(slug="audit", name="Audit")
    advisory = Service(slug="advisory", name="Advisory")
    acme = Company(name="Acme", industry="legal")
    beta = Company(name="Beta", industry="retail")
    db.add_all([audit, advisory, acme, beta])
    ann = make_user(db, role="marketer", email="ann@firm.test")
    ann.name = "Ann Manager"
    bob = make_user(db, role="sales", email="bob@firm.test")
    bob.name = "Bob Manager"
    cat = make_user(db, role="marketer", email="cat@firm.test")
    cat.name = "Cat Member"
    db.flush()
    p1 = _project(db, "P1", "Ledger review", acme, audit, ann, [ann.id, cat.id])
    p2 = _project(db, "P2", "Store rollout", beta, advisory, bob, [cat.id])
    p3 = _project(db, "P3", "Quick fix", None, None, None, [])
    dora = make_contact(db, first_name="Dora", last_name="Client", company_id=acme.id)
    quiet = make_contact(db, first_name="Quinn")
    _survey(db, p1, None, at(1), 10, at(1, 12), comment="Great audit team")
    _survey(db, p1, None, at(1), 9, at(1, 14))
    _survey(db, p1, None, at(1), 7, at(2, 3))
    _survey(db, p1, dora.id, at(1), 3, at(2, 20), follow_up="=SUM(A1) was slow to arrive")
    _survey(db, p1, None, at(1), None, None)
    _survey(db, p2, None, at(3), 10, at(3, 15))
    _survey(db, p2, dora.id, at(3), 5, at(3, 18), follow_up="Invoices were LATE")
    _survey(db, p2, None, at(3), 6, at(4, 2))
    _survey(db, p3, None, at(4), 8, at(4, 5), comment="Fine")
    _survey(db, p3, quiet.id, None, None, None)
    db.commit()
    return NpsData(
        {"audit": audit.id, "advisory": advisory.id},
        {"ann": ann.id, "bob": bob.id, "cat": cat.id},
        {"acme": acme.id, "beta": beta.id},
        {"P1": p1.id, "P2": p2.id, "P3": p3.id},
        dora.id,
        quiet.id,
    )


def _project(
    db: Session,
    external_id: str,
    name: str,
    company: Company | None,
    service: Service | None,
    manager: object,
    team: list[int],
) -> Project:
    project = Project(
        external_id=external_id,
        name=name,
        company_id=company.id if company else None,
        service_id=service.id if service else None,
        account_manager_id=getattr(manager, "id", None),
        status="completed",
        completed_at=at(1, 1),
    )
    db.add(project)
    db.flush()
    db.add_all(ProjectMember(project_id=project.id, user_id=user_id) for user_id in team)
    return project


def _survey(
    db: Session,
    project: Project,
    contact_id: int | None,
    sent_at: datetime | None,
    score: int | None,
    answered_at: datetime | None,
    *,
    follow_up: str | None = None,
    comment: str | None = None,
) -> NpsSurvey:
    if contact_id is None:
        contact_id = make_contact(db).id
    db.add(ProjectContact(project_id=project.id, contact_id=contact_id))
    survey = NpsSurvey(
        project_id=project.id,
        contact_id=contact_id,
        service_id=project.service_id,
        account_manager_id=project.account_manager_id,
        created_at=sent_at or at(4),
        expires_at=(sent_at or at(4)) + timedelta(days=60),
        sent_at=sent_at,
        score=score,
        category=None
        if score is None
        else ("promoter" if score >= 9 else "passive" if score >= 7 else "detractor"),
        answered_at=answered_at,
        follow_up=follow_up,
        comment=comment,
        commented_at=answered_at if (follow_up or comment) else None,
    )
    db.add(survey)
    db.flush()
    if score is not None and answered_at is not None:
        db.add(NpsAnswer(survey_id=survey.id, number=1, score=score, answered_at=answered_at))
    return survey
