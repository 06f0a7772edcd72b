"""Reviews > Projects: the empty state, the list, one project, and installing the survey
sequence from the banner (post, redirect, get)."""

from __future__ import annotations

import html
import re

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture.models import Sequence, SequenceStatus
from nurture.reviews import default_sequence
from nurture.reviews.projects import client_ids
from nurture.web.ui.projects import PAGE_SIZE
from tests.factories import make_user
from tests.reviews.helpers import NOW, report, sent_survey
from tests.ui.helpers import HTML, login, post_form

Client = TestClient[Litestar]


def test_the_empty_page_says_how_projects_arrive_and_offers_the_sequence(
    client: Client, db: Session
) -> None:
    user = make_user(db, role="marketer")
    db.commit()
    login(client, user)
    page = client.get("/reviews/projects", headers=HTML)
    assert page.status_code == 200
    assert 'data-testid="projects-empty"' in page.text
    assert "POST /api/v1/projects" in page.text
    assert 'data-testid="survey-banner"' in page.text
    assert 'action="/reviews/projects/survey-sequence"' in page.text


def test_the_list_and_a_project_page(client: Client, db: Session) -> None:
    outcome = report(db, clients=["a@client.example", "b@client.example"])
    a, _ = client_ids(db, outcome.project.id)
    sent_survey(db, a, NOW)
    report(db, external_id="PRJ-2", name="Planning only", status="planned", clients=[])
    db.commit()
    user = make_user(db, role="sales")
    db.commit()
    login(client, user)

    listing = client.get("/reviews/projects", headers=HTML)
    assert listing.status_code == 200
    assert "Warehouse integration" in listing.text
    assert "Harbor Freight" in listing.text
    assert "0 / 1" in listing.text
    assert "Planning only" in listing.text
    # Sales may see the banner but not install.
    assert 'action="/reviews/projects/survey-sequence"' not in listing.text

    planned = client.get("/reviews/projects?status=planned", headers=HTML)
    assert "Planning only" in planned.text
    assert "Warehouse integration" not in planned.text

    detail = client.get(f"/reviews/projects/{outcome.project.id}", headers=HTML)
    assert detail.status_code == 200
    assert "a@client.example" in detail.text
    assert "b@client.example" in detail.text
    assert "Sent" in detail.text
    assert client.get("/reviews/projects/999999", headers=HTML).status_code == 404


def test_the_banner_installs_the_survey_sequence_once(client: Client, db: Session) -> None:
    user = make_user(db, role="marketer")
    db.commit()
    login(client, user)
    answer = post_form(client, "/reviews/projects/survey-sequence")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/reviews/projects?installed=1"
    page = client.get(answer.headers["location"], headers=HTML)
    assert "The survey sequence is active" in page.text
    assert 'data-testid="survey-banner"' not in page.text
    again = post_form(client, "/reviews/projects/survey-sequence")
    assert again.status_code == 303
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Sequence)) == 1
    found = default_sequence.active_survey_sequence(db)
    assert found is not None
    assert found.status == SequenceStatus.ACTIVE.value


def test_sales_cannot_install(client: Client, db: Session) -> None:
    user = make_user(db, role="sales")
    db.commit()
    login(client, user)
    assert post_form(client, "/reviews/projects/survey-sequence").status_code == 403


def test_the_list_pages_by_cursor(client: Client, db: Session) -> None:
    for n in range(PAGE_SIZE + 1):
        report(db, external_id=f"P-{n:03}", name=f"Project {n:03}", status="active", clients=[])
    user = make_user(db, role="marketer")
    db.commit()
    login(client, user)
    first = client.get("/reviews/projects", headers=HTML)
    assert "Project 050" in first.text
    assert "Project 000" not in first.text
    match = re.search(r'href="(/reviews/projects\?cursor=[^"]+)"', first.text)
    assert match is not None
    second = client.get(html.unescape(match.group(1)), headers=HTML)
    assert second.status_code == 200
    assert "Project 000" in second.text
    assert "Project 001" not in second.text
    assert "Older projects" not in second.text
    broken = client.get("/reviews/projects?cursor=garbage", headers=HTML)
    assert broken.status_code == 200
    assert "Project 050" in broken.text
