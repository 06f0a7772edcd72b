"""Project reports: checked field by field, idempotent by external id, and
`project.completed` once per client contact."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture.errors import InvalidInput
from nurture.models import AuditEntry, Contact, Event, Project, ProjectMember
from nurture.reviews import projects
from tests.factories import make_contact, make_user
from tests.reviews.helpers import NOW, report, service


def completed_events(db: Session) -> list[Event]:
    return list(
        db.scalars(select(Event).where(Event.type == "project.completed").order_by(Event.id))
    )


def test_the_same_completed_report_twice_makes_one_project_and_one_event_per_client(
    db: Session,
) -> None:
    service(db, "data-platform")
    manager = make_user(db, email="am@firm.test")
    first = report(
        db,
        service="data-platform",
        account_manager="AM@firm.test",
        clients=["emma@client.example", {"email": "tom@client.example", "first_name": "Tom"}],
    )
    db.commit()
    again = report(
        db,
        NOW + timedelta(hours=1),
        service="data-platform",
        account_manager="am@firm.test",
        clients=["emma@client.example", {"email": "tom@client.example", "first_name": "Tom"}],
    )
    db.commit()

    assert first.created
    assert first.completed_now
    assert len(first.event_ids) == 2
    assert not again.created
    assert not again.completed_now
    assert again.event_ids == []
    assert db.scalar(select(func.count()).select_from(Project)) == 1
    project = db.scalars(select(Project)).one()
    assert project.completed_at == NOW
    assert project.account_manager_id == manager.id
    found = completed_events(db)
    assert len(found) == 2
    assert {e.idempotency_key for e in found} == {
        f"project.completed:{project.id}:{e.contact_id}" for e in found
    }
    assert found[0].properties == {
        "project_id": project.id,
        "external_id": "PRJ-1",
        "name": "Warehouse integration",
        "service": "data-platform",
    }
    tom = db.scalars(select(Contact).where(Contact.email == "tom@client.example")).one()
    assert tom.first_name == "Tom"
    assert tom.company is not None
    assert tom.company.name == "Harbor Freight"


def test_a_client_added_to_a_completed_project_gets_their_event(db: Session) -> None:
    report(db)
    known = make_contact(db, email="lee@client.example")
    later = report(db, clients=["emma@client.example", {"contact_id": known.id}])
    db.commit()
    assert len(later.event_ids) == 1
    assert [e.contact_id for e in completed_events(db)][-1] == known.id
    assert len(completed_events(db)) == 2


def test_a_report_that_is_not_completed_writes_no_event_until_it_is(db: Session) -> None:
    started = report(db, status="active")
    assert started.event_ids == []
    assert started.project.completed_at is None
    assert completed_events(db) == []
    done = report(db, NOW + timedelta(days=30))
    assert done.completed_now
    assert len(done.event_ids) == 1
    assert done.project.completed_at == NOW + timedelta(days=30)


def test_a_report_records_its_team_and_an_audit_entry(db: Session) -> None:
    a = make_user(db, email="a@firm.test")
    b = make_user(db, email="b@firm.test")
    outcome = report(db, team=["a@firm.test", "B@firm.test", "a@firm.test"])
    members = set(db.scalars(select(ProjectMember.user_id)))
    assert members == {a.id, b.id}
    actions = list(db.scalars(select(AuditEntry.action).where(AuditEntry.entity_type == "project")))
    assert actions == ["project.created"]
    assert outcome.project.status == "completed"


def test_validation_names_each_bad_field() -> None:
    with pytest.raises(InvalidInput) as caught:
        projects.check_project(
            {
                "external_id": "",
                "status": "finished",
                "clients": [{"email": "not an address"}, 7],
                "team": ["ok@firm.test", "nope"],
                "started_on": "2026-13-01",
                "ends_on": 20260101,
                "colour": "red",
            }
        )
    fields = {p.field for p in caught.value.problems}
    assert fields == {
        "colour",
        "external_id",
        "name",
        "status",
        "clients[0].email",
        "clients[1]",
        "team[1]",
        "started_on",
        "ends_on",
    }


def test_unknown_service_account_manager_and_team_member_are_named(db: Session) -> None:
    with pytest.raises(InvalidInput) as caught:
        report(db, service="nope", account_manager="ghost@firm.test", team=["ghost2@firm.test"])
    assert {p.field for p in caught.value.problems} == {"service", "account_manager", "team[0]"}


def test_an_unknown_contact_id_is_named(db: Session) -> None:
    with pytest.raises(InvalidInput) as caught:
        report(db, clients=[{"contact_id": 999999}])
    assert [p.field for p in caught.value.problems] == ["clients[0].contact_id"]
