"""The testimonials and referrals API: the library shows only what is approved now."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from nurture.events import EventInput, ingest
from nurture.reviews import referrals, testimonials
from nurture.reviews.referrals import ReferralForm
from tests.factories import make_api_key
from tests.reviews.advocacy_helpers import SIGNER, answered_survey, client_contact
from tests.ui.helpers import Client

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
QUOTE = "They found the bottleneck in a week and fixed it in a month."


def _key(db: Session, role: str) -> dict[str, str]:
    _, secret = make_api_key(db, role=role)
    db.commit()
    return {"Authorization": f"Bearer {secret}"}


def _approved_id(db: Session) -> int:
    contact = client_contact(db)
    answered_survey(db, contact, now=NOW)
    t = testimonials.testimonial_for(db, contact.id, now=NOW)
    assert t is not None
    assert t.contact_id is not None
    token = SIGNER.testimonial(t.id, t.contact_id, testimonials.expires_on(t))
    testimonials.approve(
        db, token, signer=SIGNER, quote=QUOTE, attribution="anonymous", consent=True, now=NOW
    )
    db.commit()
    return t.id


def test_withdrawing_through_the_api_takes_the_quote_out_of_the_library(
    client: Client, db: Session
) -> None:
    quote_id = _approved_id(db)
    reader = _key(db, "sales")
    listed = client.get("/api/v1/testimonials", headers=reader).json()["items"]
    assert [(t["id"], t["quote"], t["display_name"]) for t in listed] == [
        (quote_id, QUOTE, "A client in logistics")
    ]
    assert client.get("/api/v1/testimonials?industry=legal", headers=reader).json()["items"] == []

    refused = client.post(
        f"/api/v1/testimonials/{quote_id}/withdraw", json={"requested_by": "x"}, headers=reader
    )
    assert refused.status_code == 403
    writer = _key(db, "marketer")
    empty = client.post(
        f"/api/v1/testimonials/{quote_id}/withdraw", json={"requested_by": ""}, headers=writer
    )
    assert empty.status_code == 400 or empty.status_code == 422
    done = client.post(
        f"/api/v1/testimonials/{quote_id}/withdraw",
        json={"requested_by": "Emma by e-mail", "reason": "Left the company"},
        headers=writer,
    )
    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["status"], body["quote"], body["display_name"]) == ("withdrawn", "", None)
    assert body["withdrawn_by"] == "Emma by e-mail"
    assert body["consent"]["attribution"] == "anonymous"
    assert client.get("/api/v1/testimonials", headers=reader).json()["items"] == []
    one = client.get(f"/api/v1/testimonials/{quote_id}", headers=reader).json()
    assert one["quote"] == ""
    assert client.get("/api/v1/testimonials/999999", headers=reader).status_code == 404
    assert client.get("/api/v1/testimonials?status=nonsense", headers=reader).status_code == 400


def test_referrals_are_listed_and_a_pending_reward_is_decided_once(
    client: Client, db: Session
) -> None:
    advocate = client_contact(db, email="emma@harbor.example")
    code = referrals.code_for(db, advocate.id, now=NOW).code
    form = ReferralForm(email="dan@northwind.example", first_name="Dan", consent=True)
    done = referrals.submit(db, code, form, now=NOW)
    db.commit()
    assert done.referral_id is not None
    headers = _key(db, "marketer")
    early = client.post(
        f"/api/v1/referrals/{done.referral_id}/reward", json={"approve": True}, headers=headers
    )
    assert early.status_code == 409
    listed = client.get("/api/v1/referrals?status=lead", headers=headers).json()["items"]
    assert [r["id"] for r in listed] == [done.referral_id]
    lead_id = listed[0]["referred_contact_id"]
    item = EventInput("lifecycle.changed", NOW, {"to": "customer"}, None, contact_id=lead_id)
    referrals.advance(db, ingest(db, [(0, item)], source="test").stored_event_ids)
    db.commit()
    pending = client.get("/api/v1/referrals?reward_pending=true", headers=headers).json()["items"]
    assert [r["id"] for r in pending] == [done.referral_id]

    decided = client.post(
        f"/api/v1/referrals/{done.referral_id}/reward",
        json={"approve": True, "note": "Voucher sent"},
        headers=headers,
    )
    assert decided.status_code == 200, decided.text
    assert (decided.json()["status"], decided.json()["reward_state"]) == ("rewarded", "approved")
    assert (
        client.get("/api/v1/referrals?reward_pending=true", headers=headers).json()["items"] == []
    )
