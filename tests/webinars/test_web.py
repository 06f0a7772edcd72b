"""The public registration page, the attendance API and the attendance upload page."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture.config import Settings
from nurture.models import Event, Webinar, WebinarRegistration, utcnow
from nurture.web.app import create_app
from templates.render import signer_for
from tests.email.smtpd import Behaviour, smtp_server
from tests.factories import make_api_key, make_contact, make_user
from tests.ui.helpers import HTML, csrf_token, login
from tests.webinars.helpers import make_webinar

Client = TestClient[Litestar]


@pytest.fixture
def relay(settings: Settings) -> Iterator[tuple[Settings, Behaviour]]:
    with smtp_server() as (port, behaviour):
        yield replace(settings, smtp_url=f"smtp://127.0.0.1:{port}"), behaviour


@pytest.fixture
def web(relay: tuple[Settings, Behaviour]) -> Iterator[tuple[Client, Behaviour]]:
    settings, behaviour = relay
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        yield client, behaviour


def wait_until_processed(db: Session, kind: str, seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        done = db.scalar(
            select(Event.processed_at)
            .where(Event.type == kind)
            .execution_options(populate_existing=True)
        )
        db.rollback()
        if done is not None:
            return True
        time.sleep(0.1)
    return False


def link(settings: Settings, contact_id: int, webinar_id: int) -> str:
    return f"/w/{signer_for(settings.secret_key).webinar(contact_id, webinar_id)}"


def test_one_click_registration_from_the_link_registers_once_and_confirms_by_mail(
    db: Session, web: tuple[Client, Behaviour], settings: Settings
) -> None:
    client, behaviour = web
    webinar = make_webinar(db, "Compliance clinic", utcnow() + timedelta(days=3), capacity=20)
    contact = make_contact(db, first_name="Ada")
    db.commit()
    url = link(settings, contact.id, webinar.id)

    page = client.get(url, headers=HTML)
    assert page.status_code == 200
    assert "Compliance clinic" in page.text
    assert "Register as Ada" in page.text
    assert db.scalar(select(func.count()).select_from(WebinarRegistration)) == 0

    first = client.post(url, headers=HTML, follow_redirects=False)
    second = client.post(url, headers=HTML, follow_redirects=False)

    assert first.status_code == second.status_code == 303
    after = client.get(first.headers["location"], headers=HTML)
    assert "You're registered." in after.text
    assert db.scalar(select(func.count()).select_from(WebinarRegistration)) == 1
    assert db.scalar(select(Webinar.seats_taken).where(Webinar.id == webinar.id)) == 1
    assert [str(r.parsed()["Subject"]) for r in behaviour.received] == [
        "You're registered: Compliance clinic"
    ]
    # The event is handed to the workers at once (segments, triggers), not at the next tick.
    assert wait_until_processed(db, "webinar.registered")
    ics = client.get(f"{url}/invite.ics")
    assert ics.status_code == 200
    assert ics.headers["content-type"].startswith("text/calendar")
    assert b"BEGIN:VEVENT" in ics.content


def test_a_full_webinar_answers_a_clear_full_page(
    db: Session, web: tuple[Client, Behaviour], settings: Settings
) -> None:
    client, behaviour = web
    webinar = make_webinar(db, "Tiny room", utcnow() + timedelta(days=3), capacity=1)
    first, second = make_contact(db), make_contact(db)
    db.commit()
    client.post(link(settings, first.id, webinar.id), follow_redirects=False)

    page = client.get(link(settings, second.id, webinar.id), headers=HTML)
    refused = client.post(link(settings, second.id, webinar.id), headers=HTML)

    assert "This webinar is full" in page.text
    assert refused.status_code == 409
    assert "This webinar is full" in refused.text
    assert db.scalar(select(func.count()).select_from(WebinarRegistration)) == 1
    assert len(behaviour.received) == 1


def test_a_forged_or_foreign_token_registers_nobody(
    db: Session, web: tuple[Client, Behaviour], settings: Settings
) -> None:
    client, _ = web
    webinar = make_webinar(db, "Clinic", utcnow() + timedelta(days=3))
    contact = make_contact(db)
    db.commit()
    good = link(settings, contact.id, webinar.id)
    forged = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
    unsubscribe = f"/w/{signer_for(settings.secret_key).unsubscribe(contact.id)}"

    assert client.post(forged, follow_redirects=False).status_code == 400
    assert client.post(unsubscribe, follow_redirects=False).status_code == 400
    assert client.get("/w/nonsense", headers=HTML).status_code == 400
    assert db.scalar(select(func.count()).select_from(WebinarRegistration)) == 0


def test_attendance_api_records_valid_items_and_names_bad_ones(
    db: Session, web: tuple[Client, Behaviour]
) -> None:
    client, _ = web
    webinar = make_webinar(db, "Held", utcnow() - timedelta(hours=3))
    came, missed = make_contact(db, email="came@example.com"), make_contact(db)
    for contact in (came, missed):
        db.add(WebinarRegistration(webinar_id=webinar.id, contact_id=contact.id))
    db.commit()
    _, secret = make_api_key(db)
    db.commit()
    auth = {"Authorization": f"Bearer {secret}"}

    answer = client.post(
        f"/api/v1/webinars/{webinar.id}/attendance",
        json={
            "attendees": [
                {"email": "came@example.com", "attended": True, "minutes": 50},
                {"email": "nobody@example.com", "attended": True},
                {"email": "came@example.com", "attended": "perhaps"},
            ],
            "mark_rest_no_show": True,
        },
        headers=auth,
    )

    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "attended": 1,
        "no_show": 1,
        "problems": [
            {"field": "attended", "message": "must be yes or no", "index": 2},
            {"field": "email", "message": "no contact has this address", "index": 1},
        ],
    }
    kinds = db.execute(select(Event.contact_id, Event.type).where(Event.type.like("webinar.%")))
    assert sorted(kinds) == sorted([(came.id, "webinar.attended"), (missed.id, "webinar.no_show")])
    missing = client.post("/api/v1/webinars/999999/attendance", json=[], headers=auth)
    assert missing.status_code == 404
    bad = client.post(
        f"/api/v1/webinars/{webinar.id}/attendance", json={"people": []}, headers=auth
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["problems"][0]["field"] == "people"


def test_attendance_api_refuses_a_webinar_that_has_not_started(
    db: Session, web: tuple[Client, Behaviour]
) -> None:
    client, _ = web
    webinar = make_webinar(db, "Next week", utcnow() + timedelta(days=7))
    _, secret = make_api_key(db)
    db.commit()

    answer = client.post(
        f"/api/v1/webinars/{webinar.id}/attendance",
        json=[{"email": "a@example.com", "attended": True}],
        headers={"Authorization": f"Bearer {secret}"},
    )

    assert answer.status_code == 409


def test_attendance_csv_upload_page_records_lines_and_lists_refused_ones(
    db: Session, web: tuple[Client, Behaviour]
) -> None:
    client, _ = web
    webinar = make_webinar(db, "Held", utcnow() - timedelta(days=1))
    came = make_contact(db, email="came@example.com", first_name="Cam")
    db.add(WebinarRegistration(webinar_id=webinar.id, contact_id=came.id))
    user = make_user(db, role="marketer")
    db.commit()
    login(client, user)
    url = f"/content/webinars/{webinar.id}/attendance"
    assert (
        f'href="{url}"' in client.get(f"/content/library/webinars/{webinar.id}", headers=HTML).text
    )

    answer = client.post(
        url,
        data={"_csrf_token": csrf_token(client)},
        files={
            "file": ("zoom.csv", b"email,attended\ncame@example.com,yes\nbad,yes\n", "text/csv")
        },
        headers=HTML,
        follow_redirects=False,
    )

    assert answer.status_code == 303, answer.text
    answer = client.get(answer.headers["location"], headers=HTML)
    assert "Recorded: 1 attended, 0 no-show." in answer.text
    assert "line 3: email must be an e-mail address" in answer.text
    assert "attended</td>" in answer.text.replace(" (", "</td>")
    assert (
        db.scalar(
            select(WebinarRegistration.attendance).where(WebinarRegistration.contact_id == came.id)
        )
        == "attended"
    )
    no_header = client.post(
        url,
        data={"_csrf_token": csrf_token(client)},
        files={"file": ("x.csv", b"who,when\n", "text/csv")},
        headers=HTML,
    )
    assert no_header.status_code == 422
    assert "line 1 must name the columns" in no_header.text
