"""The whole loop from a finished project to the next lead, through the app's real pages
and API, a real SMTP server on loopback, and time moved by hand.

The app runs with Redis as its broker and no worker consumes it: this test is the
worker. It hands the stored events to `process_events` and runs the due sequence
steps with an explicit `now` days ahead, so waits, working days and overdue tasks are
decided by the clock it sets. The clients click in real time; their answers land
after their enrolment began, which is what the survey sequence's waits count.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.delivery.factory import close_all, transport_for
from campaigns.email.mailconfig import MailConfig
from campaigns.sequences.batch import run_steps
from campaigns.sequences.engine import Mailer
from campaigns.sequences.scheduler import claim_due
from campaigns.sequences.task_escalation import escalate_overdue
from nurture.config import Settings
from nurture.models import (
    Contact,
    Enrolment,
    Event,
    NpsAnswer,
    NpsSurvey,
    Referral,
    ReferralCode,
    Task,
    utcnow,
)
from nurture.models import (
    Testimonial as QuoteRow,
)
from nurture.qualification import teams
from nurture.reviews import steps
from nurture.reviews.default_sequence import install_survey_sequence
from nurture.web.app import create_app
from tests.email.smtpd import Behaviour, Received, smtp_server
from tests.factories import make_api_key, make_user
from tests.webinars.helpers import make_service
from workers.actors import process_events
from workers.broker import redis_target

CLIENTS = {
    "emma@harbor.example": ("Emma", 9),
    "liam@harbor.example": ("Liam", 7),
    "noah@harbor.example": ("Noah", 3),
}
PROMOTER, PASSIVE, DETRACTOR = CLIENTS
COLLEAGUE = "olivia@northwind.example"
QUOTE = "They rebuilt our data platform in eight weeks and our reports finally agree."
HREF = re.compile(r'href="([^"]+)"')


@pytest.fixture
def smtp() -> Iterator[tuple[int, Behaviour]]:
    with smtp_server() as server:
        yield server
    close_all()


@pytest.fixture
def settings(db_url: str, tmp_path: Path, smtp: tuple[int, Behaviour]) -> Iterator[Settings]:
    """Mail to the loopback server; Redis as the broker, in a namespace of this test's."""
    url = os.environ.get("NURTURE_TEST_REDIS_URL")
    if not url:
        pytest.fail("NURTURE_TEST_REDIS_URL is not set: run the suite with `make test`")
    namespace = f"nurture-test-{secrets.token_hex(6)}"
    separator = "&" if "?" in url else "?"
    yield Settings(
        data_dir=tmp_path,
        database_url=db_url,
        secret_key="test-secret-" + "x" * 40,
        smtp_url=f"smtp://127.0.0.1:{smtp[0]}",
        mail_from="clients@firm.example",
        mail_from_name="Firm",
        redis_url=f"{url}{separator}namespace={namespace}",
        tick_seconds=3600.0,
    )
    client = redis.Redis.from_url(redis_target(url)[0])
    for key in client.scan_iter(f"{namespace}:*"):
        client.delete(key)
    client.close()


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient[Litestar]]:
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as test_client:
        yield test_client


@pytest.fixture
def mailer(settings: Settings) -> Mailer:
    return Mailer(transport_for(settings), MailConfig.from_settings(settings))


def process_stored_events(db: Session) -> None:
    """What the event workers would do with everything stored and not yet processed."""
    db.expire_all()
    pending = list(db.scalars(select(Event.id).where(Event.processed_at.is_(None))))
    db.commit()
    if pending:
        process_events.fn(pending)


def run_due_steps(db: Session, now: datetime, mailer: Mailer) -> None:
    """Claim and run every step due at `now`, as the tick and sequence workers would."""
    for _ in range(20):
        claimed = claim_due(db, now=now)
        db.commit()
        if not claimed:
            return
        results = run_steps(db, claimed, now=now, mailer=mailer)
        assert not results.errors, results.errors
    raise AssertionError("steps kept coming due")


def mail_to(behaviour: Behaviour, address: str) -> list[Received]:
    with behaviour.lock:
        return [m for m in behaviour.received if address in m.rcpt_tos]


def links_in(received: Received) -> list[str]:
    body = received.parsed().get_body(("html",))
    assert body is not None
    return [link.replace("&amp;", "&") for link in HREF.findall(body.get_content())]


def page_link(client: TestClient[Litestar], link: str, prefix: str) -> str | None:
    """The path of our page a mail link leads to (through the click redirector when
    the link is tracked), or None when it leads elsewhere."""
    path = urlsplit(link).path
    if path.startswith("/t/c/"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 302
        path = urlsplit(answer.headers["location"]).path
    return path if path.startswith(prefix) else None


def links_to(client: TestClient[Litestar], received: Received, prefix: str) -> list[str]:
    paths = (page_link(client, link, prefix) for link in links_in(received))
    return [p for p in paths if p is not None]


def answer_count(db: Session) -> int:
    db.expire_all()
    return len(db.scalars(select(NpsAnswer.id)).all())


def enrolment_state(db: Session, email: str) -> str:
    db.expire_all()
    return db.scalars(
        select(Enrolment.state)
        .join(Contact, Contact.id == Enrolment.contact_id)
        .where(Contact.email == email)
    ).one()


def test_a_finished_project_turns_into_scores_a_task_a_testimonial_and_a_new_lead(
    db: Session,
    client: TestClient[Litestar],
    mailer: Mailer,
    smtp: tuple[int, Behaviour],
) -> None:
    _, behaviour = smtp
    steps.register()
    manager = make_user(db, role="sales", email="ava.manager@firm.example")
    lead = make_user(db, role="sales", email="ben.lead@firm.example")
    colleague = make_user(db, role="marketer", email="cara.analyst@firm.example")
    teams.create_team(
        db, {"name": "Delivery", "lead_id": lead.id, "member_ids": [manager.id]}, actor="test"
    )
    make_service(db, "data-platform")
    install_survey_sequence(db, actor="test", delay_days=3)
    _, key = make_api_key(db, role="marketer")
    db.commit()

    # The project tool reports the project completed, with three client contacts.
    reported = client.post(
        "/api/v1/projects",
        headers={"Authorization": f"Bearer {key}"},
        json={
            "external_id": "PRJ-2031",
            "name": "Harbor data platform",
            "status": "completed",
            "company": "Harbor Freight",
            "service": "data-platform",
            "account_manager": manager.email,
            "team": [colleague.email],
            "clients": [
                {"email": email, "first_name": name} for email, (name, _) in CLIENTS.items()
            ],
        },
    )
    assert reported.status_code == 201, reported.text
    process_stored_events(db)
    assert {email: enrolment_state(db, email) for email in CLIENTS} == dict.fromkeys(
        CLIENTS, "active"
    )

    # Nothing goes before the delay; three days on, each client gets the survey e-mail.
    started = utcnow()
    run_due_steps(db, started, mailer)
    assert behaviour.received == []
    surveyed = started + timedelta(days=3, hours=1)
    run_due_steps(db, surveyed, mailer)
    for email in CLIENTS:
        assert len(mail_to(behaviour, email)) == 1, email

    # Each client opens a score link (nothing recorded), then confirms it (recorded).
    for email, (_, score) in CLIENTS.items():
        links = links_to(client, mail_to(behaviour, email)[0], "/nps/")
        chosen = [link for link in links if link.endswith(f"/{score}")]
        assert len(links) == 11
        assert len(chosen) == 1
        token = chosen[0].split("/")[2]
        before = answer_count(db)
        assert client.get(chosen[0]).status_code == 200
        assert answer_count(db) == before
        answered = client.post(f"/nps/{token}", data={"score": str(score)}, follow_redirects=False)
        assert answered.status_code == 303
        assert answered.headers["location"] == f"/nps/{token}/follow-up"
        assert client.get(f"/nps/{token}/follow-up").status_code == 200
        followed = client.post(
            f"/nps/{token}/follow-up",
            data={"score": str(score), "follow_up": f"Answer of a {score}", "comment": "Thanks"},
            follow_redirects=False,
        )
        assert followed.status_code == 303
    db.expire_all()
    scores = {
        email: (score, category, follow_up)
        for email, score, category, follow_up in db.execute(
            select(Contact.email, NpsSurvey.score, NpsSurvey.category, NpsSurvey.follow_up).join(
                Contact, Contact.id == NpsSurvey.contact_id
            )
        )
    }
    assert scores == {
        PROMOTER: (9, "promoter", "Answer of a 9"),
        PASSIVE: (7, "passive", "Answer of a 7"),
        DETRACTOR: (3, "detractor", "Answer of a 3"),
    }
    assert answer_count(db) == 3

    # The answers reach the sequence: each client is routed by their category.
    process_stored_events(db)
    routed = surveyed + timedelta(hours=2)
    run_due_steps(db, routed, mailer)
    requests = mail_to(behaviour, PROMOTER)
    assert len(requests) == 2
    testimonial_pages = links_to(client, requests[1], "/testimonial/")
    assert testimonial_pages
    feedback = mail_to(behaviour, PASSIVE)
    assert len(feedback) == 2
    assert links_to(client, feedback[1], "/nps/")
    assert len(mail_to(behaviour, DETRACTOR)) == 1
    detractor = db.scalars(select(Contact).where(Contact.email == DETRACTOR)).one()
    task = db.scalars(select(Task).where(Task.contact_id == detractor.id)).one()
    assert task.assignee_id == manager.id
    assert task.escalate is True
    assert routed < task.due_at <= routed + timedelta(days=3)
    assert task.due_at.weekday() < 5
    assert enrolment_state(db, PASSIVE) == "completed"
    assert enrolment_state(db, DETRACTOR) == "completed"

    # Two days on, the promoter is invited to refer a colleague.
    invited = routed + timedelta(days=2, hours=1)
    run_due_steps(db, invited, mailer)
    invitations = mail_to(behaviour, PROMOTER)
    assert len(invitations) == 3
    referral_pages = links_to(client, invitations[2], "/refer/")
    assert referral_pages
    db.expire_all()
    assert db.scalars(select(ReferralCode.invited_at)).one() is not None
    assert enrolment_state(db, PROMOTER) == "completed"

    # Nobody called the detractor: once overdue, the team lead is told, once.
    assert mail_to(behaviour, lead.email) == []
    overdue = task.due_at + timedelta(hours=1)
    escalated = escalate_overdue(db, now=overdue, transport=mailer.transport, config=mailer.config)
    assert escalated == [task.id]
    assert escalate_overdue(db, now=overdue, transport=mailer.transport, config=mailer.config) == []
    assert len(mail_to(behaviour, lead.email)) == 1
    db.expire_all()
    assert task.escalated_to_id == lead.id

    # The promoter approves their testimonial on its page.
    form = testimonial_pages[0]
    assert client.get(form).status_code == 200
    approved = client.post(
        form,
        data={"quote": QUOTE, "attribution": "name_company", "consent": "yes"},
        follow_redirects=False,
    )
    assert approved.status_code == 303
    testimonial = db.scalars(select(QuoteRow)).one()
    assert testimonial.status == "approved"
    assert testimonial.quote == QUOTE
    assert testimonial.consent

    # A colleague of theirs fills in the referral page: a new lead, the promoter credited.
    page = referral_pages[0]
    assert client.get(page).status_code == 200
    submitted = client.post(
        page,
        data={
            "first_name": "Olivia",
            "last_name": "Reed",
            "email": COLLEAGUE,
            "company": "Northwind",
            "consent": "yes",
        },
        follow_redirects=False,
    )
    assert submitted.status_code == 303
    assert submitted.headers["location"] == f"{page}/thanks"
    db.expire_all()
    promoter = db.scalars(select(Contact).where(Contact.email == PROMOTER)).one()
    referred = db.scalars(select(Contact).where(Contact.email == COLLEAGUE)).one()
    assert referred.referred_by_id == promoter.id
    assert referred.lifecycle_stage == "lead"
    referral = db.scalars(select(Referral)).one()
    assert (referral.advocate_id, referral.referred_contact_id, referral.status) == (
        promoter.id,
        referred.id,
        "lead",
    )
    kinds = set(db.scalars(select(Event.type).where(Event.contact_id == referred.id)))
    assert "referral.submitted" in kinds
