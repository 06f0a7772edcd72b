"""The inbox over HTTP: the API's answers and field-naming errors, the pages' forms."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture import accounts
from nurture.models import (
    CapturedEmail,
    Contact,
    Enrolment,
    Event,
    Handoff,
    QualificationSettings,
)
from tests.factories import make_api_key, make_user
from tests.inbox.helpers import make_handoff, make_recycle_sequence
from tests.ui.helpers import HTML, Client, login, post_form


def _key(db: Session, role: str, created_by_id: int | None = None) -> dict[str, str]:
    _, secret = accounts.create_api_key(
        db, name=f"{role} key {created_by_id}", role=role, created_by_id=created_by_id, actor="t"
    )
    db.commit()
    return {"Authorization": f"Bearer {secret}"}


def test_the_api_lists_reads_and_accepts_for_an_admin_key(client: Client, db: Session) -> None:
    rep = make_user(db, role="sales")
    handoff = make_handoff(db, rep)
    headers = _key(db, "admin")

    listed = client.get("/api/v1/handoffs", headers=headers)
    read = client.get(f"/api/v1/handoffs/{handoff.id}", headers=headers)
    accepted = client.post(f"/api/v1/handoffs/{handoff.id}/accept", headers=headers)
    again = client.post(f"/api/v1/handoffs/{handoff.id}/accept", headers=headers)

    assert listed.status_code == 200, listed.text
    assert [item["id"] for item in listed.json()["items"]] == [handoff.id]
    assert read.json()["why"] == ["Webinar attended (+15)", "Read three case studies this week"]
    assert read.json()["contact"]["lifecycle_stage"] == "mql"
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["state"] == "accepted"
    assert again.status_code == 409
    assert "accepted already" in again.json()["error"]["message"]


def test_api_errors_name_the_field_and_change_nothing(client: Client, db: Session) -> None:
    rep, marketer = make_user(db, role="sales"), make_user(db, role="marketer")
    handoff = make_handoff(db, rep)
    headers = _key(db, "sales", created_by_id=rep.id)
    url = f"/api/v1/handoffs/{handoff.id}"

    cases = [
        (client.post(f"{url}/reject", headers=headers, json={"reason": " "}), "reason"),
        (client.post(f"{url}/reject", headers=headers, json={}), "reason"),
        (
            client.post(f"{url}/reject", headers=headers, json={"reason": "x", "sequence_id": 9}),
            "sequence_id",
        ),
        (
            client.post(f"{url}/reassign", headers=headers, json={"to_user_id": marketer.id}),
            "to_user_id",
        ),
        (
            client.post(f"{url}/reassign", headers=headers, json={"to_user_id": 2**70}),
            "to_user_id",
        ),
        (client.get("/api/v1/handoffs?whose=everyone", headers=headers), "whose"),
        (client.get("/api/v1/handoffs?status=maybe", headers=headers), "status"),
    ]
    for answer, field in cases:
        assert answer.status_code in (400, 422), answer.text
        assert [p["field"] for p in answer.json()["error"]["problems"]] == [field], answer.text
    db.expire_all()
    assert db.scalar(select(Handoff.state)) == "pending"
    assert db.scalars(select(Event.type).where(Event.type.like("handoff.%"))).all() == []


def test_a_sales_key_acts_as_its_rep_and_no_one_else(client: Client, db: Session) -> None:
    rep, other = make_user(db, role="sales"), make_user(db, role="sales")
    own, theirs = make_handoff(db, rep), make_handoff(db, other)
    headers = _key(db, "sales", created_by_id=rep.id)
    _, orphan = make_api_key(db, role="sales")
    db.commit()

    mine = client.get("/api/v1/handoffs", headers=headers).json()
    refused = client.post(f"/api/v1/handoffs/{theirs.id}/accept", headers=headers)
    everyone = client.get("/api/v1/handoffs?whose=all", headers=headers)
    nobody = client.post(
        f"/api/v1/handoffs/{own.id}/accept", headers={"Authorization": f"Bearer {orphan}"}
    )
    done = client.post(f"/api/v1/handoffs/{own.id}/accept", headers=headers)

    assert [item["id"] for item in mine["items"]] == [own.id]
    assert (refused.status_code, everyone.status_code, nobody.status_code) == (403, 403, 403)
    assert done.status_code == 200


def test_the_pages_reject_with_a_reason_then_redirect(client: Client, db: Session) -> None:
    rep = make_user(db, role="sales")
    recycle = make_recycle_sequence(db)
    db.add(QualificationSettings(id=1, recycle_sequence_id=recycle.id))
    handoff = make_handoff(db, rep)
    db.commit()
    login(client, rep)

    listed = client.get("/inbox", headers=HTML)
    detail = client.get(f"/inbox/{handoff.id}", headers=HTML)
    badge = client.get("/inbox/badge", headers=HTML)
    missing = post_form(client, f"/inbox/{handoff.id}/reject", {"reason": ""})
    done = post_form(client, f"/inbox/{handoff.id}/reject", {"reason": "Budget frozen"})
    after = client.get(done.headers["location"], headers=HTML)

    assert listed.status_code == 200
    assert f'href="/inbox/{handoff.id}"' in listed.text
    assert "Webinar attended (+15)" in detail.text
    assert "Harbor Freight Logistics" in detail.text
    assert 'data-count="1"' in badge.text
    assert missing.status_code == 422
    assert "reason" in missing.text
    assert done.status_code == 303
    assert done.headers["location"] == f"/inbox/{handoff.id}?done=rejected"
    assert "Budget frozen" in after.text
    assert "Recycle nurture" in after.text
    db.expire_all()
    contact = db.get(Contact, handoff.contact_id)
    assert contact is not None
    assert contact.lifecycle_stage == "lead"
    assert db.scalar(select(Enrolment.sequence_id)) == recycle.id


def test_an_empty_inbox_says_what_will_come(client: Client, db: Session) -> None:
    rep = make_user(db, role="sales")
    db.commit()
    login(client, rep)
    page = client.get("/inbox", headers=HTML)
    assert "No hand-offs here" in page.text
    assert 'data-count="0"' in client.get("/inbox/badge", headers=HTML).text


def test_reassigning_on_the_page_emails_the_new_owner(client: Client, db: Session) -> None:
    rep = make_user(db, role="sales")
    other = make_user(db, role="sales", email="nadia@nurture.test")
    handoff = make_handoff(db, rep, notified_at=None)
    db.commit()
    login(client, rep)

    moved = post_form(client, f"/inbox/{handoff.id}/reassign", {"to_user_id": str(other.id)})

    assert moved.status_code == 303
    handle = client.app.state.runtime
    handle.broker.join("email", timeout=20_000)
    handle.worker.join()
    db.expire_all()
    assert db.scalars(select(CapturedEmail.recipients)).all() == ["nadia@nurture.test"]
    stored = db.get(Handoff, handoff.id)
    assert stored is not None
    assert (stored.owner_id, stored.notified_at is not None) == (other.id, True)
