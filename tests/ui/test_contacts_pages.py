"""The contacts list (search, filters, pages), a contact's page and timeline, the edit form."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.events import ingest_raw
from nurture.models import AuditEntry, Contact, utcnow
from nurture.web.ui.contacts import PAGE_SIZE, TIMELINE_PAGE
from tests.factories import make_contact, make_user
from tests.ui.helpers import HTML, Client, login, post_form

ROW_LINK = re.compile(r'class="row-link" href="/contacts/(\d+)"')


def _listed(html: str) -> list[int]:
    return [int(i) for i in ROW_LINK.findall(html)]


def _signed_in(client: Client, db: Session, role: str = "marketer") -> None:
    user = make_user(db, role=role)
    db.commit()
    login(client, user)


def test_search_finds_contacts_by_name_or_email(client: Client, db: Session) -> None:
    ada = make_contact(db, email="ada@lovelace.example", first_name="Ada", last_name="Lovelace")
    grace = make_contact(db, email="grace@navy.example", first_name="Grace", last_name="Hopper")
    _signed_in(client, db)
    by_name = client.get("/contacts", params={"q": "ada love"}, headers=HTML)
    by_email = client.get("/contacts", params={"q": "NAVY.example"}, headers=HTML)
    assert _listed(by_name.text) == [ada.id]
    assert _listed(by_email.text) == [grace.id]
    assert "<strong>1</strong> contact match" in by_name.text


def test_filters_narrow_by_stage_industry_owner_and_country(client: Client, db: Session) -> None:
    rep = make_user(db, role="sales")
    law_de = {"name": "Kanzlei", "domain": "kanzlei.example", "industry": "legal", "country": "DE"}
    law_fr = {"name": "Cabinet", "domain": "cabinet.example", "industry": "legal", "country": "FR"}
    tech = {"name": "Soft", "domain": "soft.example", "industry": "software", "country": "DE"}
    a = make_contact(db, company=law_de, lifecycle_stage="mql", owner_id=rep.id)
    b = make_contact(db, company=law_fr, lifecycle_stage="mql")
    c = make_contact(db, company=tech, lifecycle_stage="lead", owner_id=rep.id)
    _signed_in(client, db)

    def listed(**params: str) -> set[int]:
        return set(_listed(client.get("/contacts", params=params, headers=HTML).text))

    assert listed(stage="mql") == {a.id, b.id}
    assert listed(industry="legal") == {a.id, b.id}
    assert listed(owner=str(rep.id)) == {a.id, c.id}
    assert listed(country="de") == {a.id, c.id}
    assert listed(industry="legal", country="DE", stage="mql", owner=str(rep.id)) == {a.id}


def test_filter_with_a_malformed_owner_names_the_field(client: Client, db: Session) -> None:
    _signed_in(client, db)
    response = client.get("/contacts", params={"owner": "bob"}, headers=HTML)
    assert response.status_code == 422
    assert "owner" in response.text


def test_empty_list_says_so_and_how_contacts_arrive(client: Client, db: Session) -> None:
    _signed_in(client, db)
    page = client.get("/contacts", headers=HTML)
    assert "No contacts yet" in page.text
    filtered = client.get("/contacts", params={"q": "nobody"}, headers=HTML)
    assert "No contacts match" in filtered.text


def test_load_more_walks_every_contact_once_with_the_total(client: Client, db: Session) -> None:
    ids = {make_contact(db, company={"name": "Big", "industry": "legal"}).id for _ in range(120)}
    make_contact(db)  # outside the filter
    _signed_in(client, db)
    first = client.get("/contacts", params={"industry": "legal"}, headers=HTML)
    assert "<strong>120</strong> contacts match" in first.text
    seen = _listed(first.text)
    assert len(seen) == PAGE_SIZE
    html = first.text
    while (more := re.search(r'hx-get="(/contacts/rows\?[^"]+)"', html)) is not None:
        url = more.group(1).replace("&amp;", "&")
        assert "industry=legal" in url
        html = client.get(url, headers={**HTML, "hx-request": "true"}).text
        assert "<html" not in html
        seen += _listed(html)
    assert len(seen) == len(ids)
    assert set(seen) == ids
    assert "120 of 120 shown" not in html  # the last page offers no further button


def test_next_page_link_works_without_javascript(client: Client, db: Session) -> None:
    for _ in range(PAGE_SIZE + 5):
        make_contact(db)
    _signed_in(client, db)
    first = client.get("/contacts", headers=HTML)
    link = re.search(r'<a class="btn" href="(/contacts\?cursor=[^"]+)"', first.text)
    assert link is not None
    second = client.get(link.group(1), headers=HTML)
    assert len(_listed(second.text)) == 5
    assert not set(_listed(second.text)) & set(_listed(first.text))
    assert "back to the first page" in second.text


def test_contact_page_shows_fields_company_and_timeline(client: Client, db: Session) -> None:
    contact = make_contact(
        db,
        first_name="Lena",
        last_name="Meyer",
        title="General Counsel",
        company={"name": "Brandt", "industry": "legal", "size_band": "51-200", "country": "DE"},
        attributes={"practice_area": "M&A"},
    )
    now = utcnow()
    ingest_raw(
        db,
        [
            {
                "type": "email.opened",
                "contact_id": contact.id,
                "occurred_at": (now - timedelta(hours=3)).isoformat(),
                "properties": {"subject": "Cutting review time by 40%"},
            },
            {
                "type": "webinar.attended",
                "contact_id": contact.id,
                "occurred_at": (now - timedelta(days=2)).isoformat(),
                "properties": {"webinar": "Legal ops 2026"},
            },
        ],
        source="test",
    )
    _signed_in(client, db, role="sales")
    page = client.get(f"/contacts/{contact.id}", headers=HTML).text
    for text in ("Lena Meyer", "General Counsel", "Brandt", "Legal", "51-200", "DE", "M&amp;A"):
        assert text in page
    assert page.index("Email opened") < page.index("Webinar attended")
    assert "Cutting review time by 40%" in page
    assert "3 hours ago" in page
    assert "2 days ago" in page


def test_timeline_load_more_continues_where_the_page_stopped(client: Client, db: Session) -> None:
    contact = make_contact(db)
    now = utcnow()
    items = [
        {
            "type": "page.visited",
            "contact_id": contact.id,
            "occurred_at": (now - timedelta(minutes=n)).isoformat(),
            "properties": {"path": f"/page-{n}"},
        }
        for n in range(TIMELINE_PAGE + 3)
    ]
    ingest_raw(db, items, source="test")
    _signed_in(client, db)
    page = client.get(f"/contacts/{contact.id}", headers=HTML).text
    assert page.count('class="tl-item"') == TIMELINE_PAGE
    more = re.search(r'hx-get="(/contacts/\d+/timeline\?cursor=[^"]+)"', page)
    assert more is not None
    rest = client.get(more.group(1), headers={**HTML, "hx-request": "true"}).text
    assert rest.count('class="tl-item"') == 3
    assert f"/page-{TIMELINE_PAGE + 2}" in rest
    assert "/page-0" not in rest
    assert "Load earlier activity" not in rest


def test_contact_page_of_unknown_contact_is_404(client: Client, db: Session) -> None:
    _signed_in(client, db)
    response = client.get("/contacts/999999", headers=HTML)
    assert response.status_code == 404
    assert "No contact with id 999999." in response.text


def test_edit_with_bad_email_shows_the_error_and_keeps_stored_data(
    client: Client, db: Session
) -> None:
    contact = make_contact(db, email="kept@example.com", first_name="Kept", title="CFO")
    _signed_in(client, db)
    response = post_form(
        client,
        f"/contacts/{contact.id}/edit",
        {"email": "not-an-address", "first_name": "Changed", "title": "CEO", "owner_id": ""},
    )
    assert response.status_code == 422
    error = re.search(r'<p class="field-error" id="err-email">([^<]+)</p>', response.text)
    assert error is not None
    assert error.group(1).strip()
    assert 'aria-invalid="true" aria-describedby="err-email"' in response.text
    assert 'value="Changed"' in response.text
    assert 'value="not-an-address"' in response.text
    db.expire_all()
    stored = db.get(Contact, contact.id)
    assert stored is not None
    assert (stored.email, stored.first_name, stored.title) == ("kept@example.com", "Kept", "CFO")


def test_edit_saves_fields_and_records_who_changed_them(client: Client, db: Session) -> None:
    contact = make_contact(db, first_name="Old")
    owner = make_user(db, role="sales")
    editor = make_user(db, role="sales")
    db.commit()
    login(client, editor)
    response = post_form(
        client,
        f"/contacts/{contact.id}/edit",
        {
            "first_name": "New",
            "email": contact.email,
            "lifecycle_stage": "sql",
            "owner_id": str(owner.id),
            "time_zone": "Europe/Berlin",
            "notes": "Met at the legal-tech fair.",
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/contacts/{contact.id}?saved=1"
    db.expire_all()
    stored = db.get(Contact, contact.id)
    assert stored is not None
    assert (stored.first_name, stored.lifecycle_stage, stored.owner_id) == ("New", "sql", owner.id)
    entry = db.scalars(
        select(AuditEntry).where(AuditEntry.action == "contact.updated").order_by(AuditEntry.id)
    ).all()[-1]
    assert entry.actor == f"user:{editor.id}"
    assert entry.changes["first_name"] == ["Old", "New"]
    assert "Changes saved" in client.get(response.headers["location"], headers=HTML).text


def test_edit_with_unknown_time_zone_keeps_every_typed_value(client: Client, db: Session) -> None:
    contact = make_contact(db)
    _signed_in(client, db)
    response = post_form(
        client,
        f"/contacts/{contact.id}/edit",
        {"email": contact.email, "time_zone": "Mars/Olympus", "phone": "+49 30 1234"},
    )
    assert response.status_code == 422
    assert 'id="err-time_zone"' in response.text
    assert 'value="+49 30 1234"' in response.text
    db.expire_all()
    stored = db.get(Contact, contact.id)
    assert stored is not None
    assert stored.phone is None


def test_edit_form_post_without_csrf_token_is_refused(client: Client, db: Session) -> None:
    contact = make_contact(db, first_name="Same")
    _signed_in(client, db)
    response = client.post(
        f"/contacts/{contact.id}/edit",
        data={"first_name": "Hijacked", "email": contact.email},
        headers=HTML,
        follow_redirects=False,
    )
    assert response.status_code == 403
    db.expire_all()
    stored = db.get(Contact, contact.id)
    assert stored is not None
    assert stored.first_name == "Same"
