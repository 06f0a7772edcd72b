"""`nurture demo`: a plausible consultancy, loaded once however often it runs."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture import accounts
from nurture.config import Settings
from nurture.demo.data import INDUSTRIES
from nurture.demo.loader import USERS, load_demo
from nurture.models import Company, Contact, Event, User
from tests.cli_helpers import cli_env, run_cli  # noqa: F401  (cli_env is a fixture)

SMALL = 0.04  # 32 companies, 200 contacts: quick, yet every industry and stage appears


def counts(db: Session) -> tuple[int, ...]:
    db.expire_all()
    return tuple(
        db.scalar(select(func.count()).select_from(model)) or 0
        for model in (User, Company, Contact, Event)
    )


def test_second_run_adds_nothing_and_changes_no_counts(db: Session) -> None:
    first = load_demo(db, scale=SMALL)
    after_first = counts(db)
    second = load_demo(db, scale=SMALL)
    assert first.changed
    assert not second.changed
    assert counts(db) == after_first
    assert (first.companies, first.contacts) == (32, 200)
    assert second.events == first.events_created > 2000


def test_demo_has_every_industry_the_users_and_event_patterns(db: Session) -> None:
    load_demo(db, scale=SMALL)
    industries = set(db.scalars(select(Company.industry).distinct()))
    assert industries == set(INDUSTRIES)
    roles = {u.role for u in db.scalars(select(User))}
    assert roles == {"admin", "marketer", "sales"}
    admin = accounts.authenticate(db, email=USERS[0].email, password=USERS[0].password)
    assert admin is not None
    assert admin.role == "admin"

    by_type: dict[str, int] = {
        kind: n for kind, n in db.execute(select(Event.type, func.count()).group_by(Event.type))
    }
    # The funnel narrows: sent > opened > clicked; attendance follows registration.
    assert by_type["email.sent"] > by_type["email.opened"] > by_type["email.clicked"] > 0
    assert by_type["webinar.registered"] == (
        by_type.get("webinar.attended", 0) + by_type.get("webinar.no_show", 0)
    )
    assert by_type["page.visited"] > 0
    keys = db.scalars(select(Event.idempotency_key).limit(50)).all()
    assert all(key is not None and key.startswith("demo:") for key in keys)
    # Demo addresses can never reach a real mailbox.
    emails = db.scalars(select(Contact.email)).all()
    assert all(email is not None and email.endswith(".example") for email in emails)
    # Contacts further down the funnel belong to a sales rep.
    owned = db.scalars(select(Contact.owner_id).where(Contact.lifecycle_stage == "customer"))
    assert all(owner is not None for owner in owned)


def test_existing_users_are_kept_as_they_are(db: Session) -> None:
    accounts.create_user(
        db, email=USERS[0].email, password="someone-elses-password", role="admin", actor="test"
    )
    db.commit()
    result = load_demo(db, scale=0.01)
    assert result.users_created == len(USERS) - 1
    assert accounts.authenticate(db, email=USERS[0].email, password=USERS[0].password) is None


@pytest.mark.usefixtures("cli_env")
def test_demo_command_prints_the_logins_and_reruns_quietly() -> None:
    first = run_cli("demo", "--scale", "0.01")
    assert first.exit_code == 0, first.output
    assert "demo loaded" in first.output
    for user in USERS:
        assert user.email in first.output
        assert user.password in first.output
    second = run_cli("demo", "--scale", "0.01")
    assert second.exit_code == 0, second.output
    assert "nothing to add" in second.output


def test_demo_content_loads_templates_and_segments_once(db: Session) -> None:
    from nurture.demo.content import SEGMENTS, seed_demo_content
    from nurture.models import EmailTemplate, Segment, SegmentMember
    from templates.library import starter_templates

    load_demo(db, scale=SMALL)
    first = seed_demo_content(db)
    second = seed_demo_content(db)
    starters = len(starter_templates())
    assert starters == 12
    assert first == (starters, len(SEGMENTS))
    assert second == (0, 0)
    assert db.scalar(select(func.count()).select_from(EmailTemplate)) == starters
    names = set(db.scalars(select(Segment.name)))
    assert names == {name for name, _, _ in SEGMENTS}
    # The no-show segment is refreshed at once, so the demo shows members straight away.
    assert (db.scalar(select(func.count()).select_from(SegmentMember)) or 0) > 0


def test_demo_sequences_run_with_open_tasks_for_the_sales_reps_and_load_once(
    db: Session, settings: Settings
) -> None:
    from nurture.demo.content import seed_demo_content
    from nurture.demo.sequences import LEGAL, NO_SHOWS, demo_mailer, seed_demo_sequences
    from nurture.models import CapturedEmail, Enrolment, Sequence, Task

    def totals() -> tuple[int, ...]:
        db.expire_all()
        return tuple(
            db.scalar(select(func.count()).select_from(model)) or 0
            for model in (Sequence, Enrolment, Task, Event, CapturedEmail)
        )

    load_demo(db, scale=SMALL)
    seed_demo_content(db)
    assert seed_demo_sequences(db, mailer=demo_mailer(settings)) == 2
    after_first = totals()
    assert seed_demo_sequences(db, mailer=demo_mailer(settings)) == 0
    assert totals() == after_first

    sequences = {s.name: s for s in db.scalars(select(Sequence))}
    assert set(sequences) == {LEGAL, NO_SHOWS}
    assert all(s.status == "active" for s in sequences.values())
    legal = sequences[LEGAL].id
    waiting = db.scalars(
        select(Enrolment).where(Enrolment.sequence_id == legal, Enrolment.state == "active")
    ).all()
    assert "answer" in {e.step_key for e in waiting}  # waiting for the rep's outcome
    sam = db.scalars(select(User).where(User.email == "sales1@demo.nurture")).one()
    open_for_sam = db.scalars(
        select(Task).where(Task.assignee_id == sam.id, Task.outcome.is_(None))
    ).all()
    assert len(open_for_sam) >= 2
    assert {t.kind for t in db.scalars(select(Task))} == {"linkedin_message", "call"}
    # The rep already booked one meeting, and that contact reached the sequence's goal.
    booked = select(func.count()).select_from(Task).where(Task.outcome == "meeting_booked")
    assert db.scalar(booked) == 1
    reached = db.scalars(select(Enrolment.exit_reason).where(Enrolment.sequence_id == legal))
    assert "goal:meeting" in set(reached)
    assert (db.scalar(select(func.count()).select_from(CapturedEmail)) or 0) > 0
