"""Library pages: listed under Content, created and edited through forms, guarded by role."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.content import library
from campaigns.content.kinds import SERVICES, WEBINARS
from nurture.models import CaseStudy, Service, Webinar
from tests.factories import make_user
from tests.ui.helpers import HTML, Client, login, post_form

KINDS = ("services", "case-studies", "webinars", "articles")


def _signed_in(client: Client, db: Session, role: str) -> None:
    user = make_user(db, role=role)
    db.commit()
    login(client, user)


@pytest.mark.parametrize("role", ["admin", "marketer", "sales"])
def test_every_role_sees_the_library_tabs_and_lists(client: Client, db: Session, role: str) -> None:
    _signed_in(client, db, role)
    content = client.get("/content", headers=HTML)
    assert 'href="/content/library/case-studies"' in content.text
    for kind in KINDS:
        assert client.get(f"/content/library/{kind}", headers=HTML).status_code == 200


def test_an_unknown_section_is_not_found(client: Client, db: Session) -> None:
    _signed_in(client, db, "marketer")
    assert client.get("/content/library/podcasts", headers=HTML).status_code == 404


def test_a_marketer_creates_a_case_study_through_the_form(client: Client, db: Session) -> None:
    service = library.create(db, SERVICES, actor="t", data={"slug": "erp", "name": "ERP"})
    _signed_in(client, db, "marketer")
    form = client.get("/content/library/case-studies/new", headers=HTML)
    assert f'<option value="{service.id}"' in form.text
    answer = post_form(
        client,
        "/content/library/case-studies/new",
        {
            "title": "Month-end in two days",
            "industry": "Accounting",
            "service_id": str(service.id),
            "problem": "Closing took nine days.",
            "result_metrics": "Close time: -78%\nOvertime: -60%",
            "topics": "finance, automation",
            "published_at": "",
        },
    )
    assert answer.status_code == 303
    db.expire_all()
    story = db.scalars(select(CaseStudy)).one()
    assert answer.headers["location"] == f"/content/library/case-studies/{story.id}?saved=1"
    assert (story.industry, story.service_id, story.topics) == (
        "accounting",
        service.id,
        ["finance", "automation"],
    )
    listed = client.get("/content/library/case-studies", headers=HTML)
    assert "Month-end in two days" in listed.text
    assert "Close time: -78%" in listed.text


def test_a_refused_form_keeps_what_was_typed_and_names_the_field(
    client: Client, db: Session
) -> None:
    _signed_in(client, db, "marketer")
    answer = post_form(
        client,
        "/content/library/webinars/new",
        {"title": "Ask us anything", "topic": "ai", "starts_at": "soon", "capacity": "-3"},
    )
    assert answer.status_code == 422
    assert 'id="err-starts_at"' in answer.text
    assert 'id="err-capacity"' in answer.text
    assert 'value="Ask us anything"' in answer.text
    assert db.scalar(select(Webinar.id)) is None


def test_editing_changes_the_item_and_a_taken_slug_is_explained(
    client: Client, db: Session
) -> None:
    library.create(db, SERVICES, actor="t", data={"slug": "erp", "name": "ERP"})
    other = library.create(db, SERVICES, actor="t", data={"slug": "bi", "name": "BI"})
    _signed_in(client, db, "marketer")
    url = f"/content/library/services/{other.id}"
    taken = post_form(client, url, {"slug": "erp", "name": "BI"})
    assert taken.status_code == 409
    assert "already exists" in taken.text
    saved = post_form(client, url, {"slug": "bi", "name": "Business intelligence"})
    assert saved.status_code == 303
    db.expire_all()
    assert db.get(Service, other.id).name == "Business intelligence"  # type: ignore[union-attr]


def test_a_marketer_deletes_a_webinar(client: Client, db: Session) -> None:
    webinar = library.create(
        db, WEBINARS, actor="t", data={"title": "W", "topic": "ai", "starts_at": "2030-01-01T10:00"}
    )
    webinar_id = webinar.id
    _signed_in(client, db, "marketer")
    answer = post_form(client, f"/content/library/webinars/{webinar_id}/delete")
    assert answer.headers["location"] == "/content/library/webinars?deleted=1"
    db.expire_all()
    assert db.get(Webinar, webinar_id) is None


def test_sales_reps_read_items_but_cannot_change_them(client: Client, db: Session) -> None:
    service = library.create(db, SERVICES, actor="t", data={"slug": "erp", "name": "ERP"})
    _signed_in(client, db, "sales")
    url = f"/content/library/services/{service.id}"
    view = client.get(url, headers=HTML)
    assert view.status_code == 200
    assert '<fieldset class="library-fields" disabled>' in view.text
    assert client.get("/content/library/services/new", headers=HTML).status_code == 403
    assert post_form(client, url, {"slug": "x", "name": "X"}).status_code == 403
    assert post_form(client, f"{url}/delete").status_code == 403
    db.expire_all()
    assert db.get(Service, service.id) is not None
