"""Segment pages: the list, the builder's form posts, live preview, members, lists, delete."""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.models import Segment, SegmentMember
from segments import lists, store
from segments.membership import refresh_segment
from tests.factories import make_contact, make_user
from tests.ui.helpers import HTML, Client, csrf_token, login, post_form

LEGAL = {"name": "Kanzlei", "domain": "kanzlei.example", "industry": "legal", "country": "DE"}
PARTNERS = {"version": 1, "rule": {"field": "title", "op": "contains", "value": "partner"}}


def _signed_in(client: Client, db: Session, role: str = "marketer") -> None:
    user = make_user(db, role=role)
    db.commit()
    login(client, user)


def _members(db: Session, segment_id: int) -> set[int]:
    db.expire_all()
    stmt = select(SegmentMember.contact_id).where(SegmentMember.segment_id == segment_id)
    return set(db.scalars(stmt))


def test_the_list_shows_kind_size_and_a_sparkline(client: Client, db: Session) -> None:
    make_contact(db, title="Partner")
    segment = store.create_segment(db, name="Partners", rule=PARTNERS)
    store.create_segment(db, name="Hand-picked", kind="static")
    refresh_segment(db, segment.id)
    refresh_segment(db, segment.id)
    _signed_in(client, db)
    page = client.get("/segments", headers=HTML)
    assert page.status_code == 200
    assert "Partners" in page.text
    assert "Static list" in page.text
    assert page.text.count('class="sparkline"') == 1


def test_the_builder_page_carries_the_catalogue_and_the_rule(client: Client, db: Session) -> None:
    make_contact(db, company=LEGAL)
    segment = store.create_segment(db, name="Partners", rule=PARTNERS)
    _signed_in(client, db)
    page = client.get(f"/segments/{segment.id}/edit", headers=HTML)
    assert page.status_code == 200
    catalogue = re.search(r'id="builder-catalogue">(.*?)</script>', page.text, re.S)
    assert catalogue is not None
    data = json.loads(catalogue.group(1))
    assert data["suggestions"]["company.industry"] == ["legal"]
    # A rule cannot test membership of itself, so the picker leaves it out.
    assert all(s["id"] != segment.id for s in data["segments"])
    assert "segment-builder.js" in page.text
    assert "&#34;partner&#34;" in page.text or "&quot;partner&quot;" in page.text


def test_posting_the_builder_form_creates_and_fills_the_segment(
    client: Client, db: Session
) -> None:
    partner = make_contact(db, title="Partner", company=LEGAL)
    make_contact(db, title="Clerk", company=LEGAL)
    _signed_in(client, db)
    answer = post_form(
        client,
        "/segments/new",
        {"name": "Partners", "kind": "dynamic", "rule": json.dumps(PARTNERS)},
    )
    assert answer.status_code == 303
    segment = db.scalar(select(Segment).where(Segment.name == "Partners"))
    assert segment is not None
    assert answer.headers["location"] == f"/segments/{segment.id}?saved=1"
    assert _members(db, segment.id) == {partner.id}
    detail = client.get(answer.headers["location"], headers=HTML)
    assert "Saved." in detail.text
    assert partner.email is not None
    assert partner.email in detail.text


def test_a_bad_rule_keeps_the_form_and_sends_problem_paths_to_the_builder(
    client: Client, db: Session
) -> None:
    _signed_in(client, db)
    bad = {"version": 1, "rule": {"all": [{"any": [{"field": "score", "op": "gt", "value": "x"}]}]}}
    answer = post_form(
        client, "/segments/new", {"name": "Broken", "kind": "dynamic", "rule": json.dumps(bad)}
    )
    assert answer.status_code == 422
    assert "Nothing was saved." in answer.text
    problems = re.search(r'id="builder-problems">(.*?)</script>', answer.text, re.S)
    assert problems is not None
    assert json.loads(problems.group(1))[0]["path"] == "rule.all[0].any[0].value"
    assert 'value="Broken"' in answer.text
    assert db.scalar(select(Segment)) is None


def test_editing_changes_the_rule_and_the_members(client: Client, db: Session) -> None:
    partner = make_contact(db, title="Partner")
    clerk = make_contact(db, title="Clerk")
    segment = store.create_segment(db, name="People", rule=PARTNERS)
    refresh_segment(db, segment.id)
    _signed_in(client, db)
    clerks = {"version": 1, "rule": {"field": "title", "op": "equals", "value": "Clerk"}}
    answer = post_form(
        client,
        f"/segments/{segment.id}/edit",
        {"name": "Clerks", "description": "", "rule": json.dumps(clerks)},
    )
    assert answer.status_code == 303
    assert _members(db, segment.id) == {clerk.id}
    assert partner.id not in _members(db, segment.id)


def test_the_preview_twin_counts_for_a_signed_in_marketer(client: Client, db: Session) -> None:
    make_contact(db, title="Partner")
    make_contact(db, title="Senior partner")
    _signed_in(client, db)
    headers = {"x-csrftoken": csrf_token(client), "accept": "application/json"}
    answer = client.post("/segments/preview", json=PARTNERS, headers=headers)
    assert answer.status_code == 200
    assert answer.json()["count"] == 2
    bad: dict[str, Any] = {"version": 1, "rule": {"all": [{"field": "nope", "op": "equals"}]}}
    refused = client.post("/segments/preview", json=bad, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["error"]["problems"][0]["field"] == "rule.all[0].field"


def test_sales_reps_cannot_open_segments(client: Client, db: Session) -> None:
    _signed_in(client, db, role="sales")
    assert client.get("/segments", headers=HTML).status_code == 403
    assert client.get("/segments/new", headers=HTML).status_code == 403


def test_duplicate_opens_the_copy_in_the_builder(client: Client, db: Session) -> None:
    segment = store.create_segment(db, name="Partners", rule=PARTNERS)
    _signed_in(client, db)
    answer = post_form(client, f"/segments/{segment.id}/duplicate", {"name": "Partners 2"})
    assert answer.status_code == 303
    copy = db.scalar(select(Segment).where(Segment.name == "Partners 2"))
    assert copy is not None
    assert copy.rule == PARTNERS
    assert answer.headers["location"] == f"/segments/{copy.id}/edit"


def test_delete_is_refused_with_a_message_while_another_rule_uses_it(
    client: Client, db: Session
) -> None:
    base = store.create_segment(db, name="Base", rule=PARTNERS)
    store.create_segment(
        db, name="On top", rule={"version": 1, "rule": {"segment": base.id, "op": "member"}}
    )
    lonely = store.create_segment(db, name="Lonely", kind="static")
    _signed_in(client, db)
    refused = post_form(client, f"/segments/{base.id}/delete")
    assert refused.status_code == 409
    assert "Not deleted" in refused.text
    assert "used by the rules" in refused.text
    deleted = post_form(client, f"/segments/{lonely.id}/delete")
    assert deleted.status_code == 303
    assert client.get(deleted.headers["location"], headers=HTML).text.count("Deleted") == 1


def test_a_static_list_takes_contacts_by_email_and_csv_and_lets_them_go(
    client: Client, db: Session
) -> None:
    ada = make_contact(db, email="ada@firm.example")
    bob = make_contact(db, email="bob@firm.example")
    segment = store.create_segment(db, name="Picked", kind="static")
    _signed_in(client, db)
    added = post_form(client, f"/segments/{segment.id}/members/add", {"email": "ADA@firm.example"})
    assert added.status_code == 303
    assert "Added ADA@firm.example" in client.get(added.headers["location"], headers=HTML).text
    unknown = post_form(
        client, f"/segments/{segment.id}/members/add", {"email": "x@nowhere.example"}
    )
    assert unknown.status_code == 422
    assert "No contact has the address" in unknown.text
    report = client.post(
        f"/segments/{segment.id}/import",
        files={
            "file": ("people.csv", b"email\nbob@firm.example\nghost@firm.example\n", "text/csv")
        },
        data={"_csrf_token": csrf_token(client)},
        headers=HTML,
        follow_redirects=False,
    )
    assert report.status_code == 303
    shown = client.get(report.headers["location"], headers=HTML).text
    assert "1 added" in shown
    assert "Line 3: no contact has ghost@firm.example" in shown
    # Said once: a reload shows the page without the report.
    assert "1 added" not in client.get(report.headers["location"], headers=HTML).text
    assert _members(db, segment.id) == {ada.id, bob.id}
    removed = post_form(client, f"/segments/{segment.id}/members/{ada.id}/remove")
    assert removed.status_code == 303
    assert "Removed from the list." in client.get(removed.headers["location"], headers=HTML).text
    assert _members(db, segment.id) == {bob.id}


def test_the_segment_page_charts_size_after_refreshes(client: Client, db: Session) -> None:
    make_contact(db, title="Partner")
    segment = store.create_segment(db, name="Partners", rule=PARTNERS)
    _signed_in(client, db)
    refresh = post_form(client, f"/segments/{segment.id}/refresh")
    assert refresh.status_code == 303
    post_form(client, f"/segments/{segment.id}/refresh")
    page = client.get(f"/segments/{segment.id}", headers=HTML)
    chart = re.search(r'id="size-chart-data">(.*?)</script>', page.text, re.S)
    assert chart is not None
    sizes = json.loads(chart.group(1))["sizes"]
    # The app's scheduler may refresh the new (due) segment too, adding a point of its own.
    assert len(sizes) >= 2
    assert set(sizes) == {1}


def test_static_list_members_page_by_page(client: Client, db: Session) -> None:
    ids = [make_contact(db).id for _ in range(55)]
    segment = store.create_segment(db, name="Many", kind="static")
    lists.add_members(db, segment.id, ids)
    _signed_in(client, db)
    first = client.get(f"/segments/{segment.id}", headers=HTML)
    links = re.findall(r'href="/contacts/(\d+)"', first.text)
    assert [int(i) for i in links] == ids[:50]
    cursor = re.search(r'\?cursor=([^"]+)"', first.text)
    assert cursor is not None
    second = client.get(f"/segments/{segment.id}?cursor={cursor.group(1)}", headers=HTML)
    assert [int(i) for i in re.findall(r'href="/contacts/(\d+)"', second.text)] == ids[50:]
