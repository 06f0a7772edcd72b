"""The Testimonials, Referrals and Settings tabs of Reviews: what staff see and change."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.events import EventInput, ingest
from nurture.models import AuditEntry, Referral, ReviewSettings
from nurture.models import Testimonial as Quote
from nurture.reviews import referrals, testimonials
from nurture.reviews.referrals import ReferralForm
from tests.email.conftest import make_template
from tests.factories import make_user
from tests.reviews.advocacy_helpers import SIGNER, answered_survey, client_contact
from tests.sequences.helpers import make_sequence
from tests.ui.helpers import HTML, Client, login, post_form

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
QUOTE = "They found the bottleneck in a week and fixed it in a month."


@pytest.fixture
def template_id(db: Session) -> int:
    return make_template(db)


def _sign_in(client: Client, db: Session, role: str) -> None:
    user = make_user(db, role=role)
    db.commit()
    login(client, user)


def _approved(db: Session) -> Quote:
    contact = client_contact(db)
    answered_survey(db, contact, now=NOW)
    t = testimonials.testimonial_for(db, contact.id, now=NOW)
    assert t is not None
    assert t.contact_id is not None
    token = SIGNER.testimonial(t.id, t.contact_id, testimonials.expires_on(t))
    testimonials.approve(
        db, token, signer=SIGNER, quote=QUOTE, attribution="title_only", consent=True, now=NOW
    )
    db.commit()
    return t


def _won_referral(db: Session) -> int:
    advocate = client_contact(db, email="emma@harbor.example")
    code = referrals.code_for(db, advocate.id, now=NOW).code
    form = ReferralForm(email="dan@northwind.example", first_name="Dan", consent=True)
    done = referrals.submit(db, code, form, now=NOW)
    referrals.submit(
        db, code, ReferralForm(email="emma@harbor.example", first_name="E", consent=True), now=NOW
    )
    referral = db.get(Referral, done.referral_id)
    assert referral is not None
    assert referral.referred_contact_id is not None
    item = EventInput(
        "lifecycle.changed", NOW, {"to": "customer"}, None, contact_id=referral.referred_contact_id
    )
    referrals.advance(db, ingest(db, [(0, item)], source="test").stored_event_ids)
    db.commit()
    return referral.id


def test_the_library_shows_approved_quotes_and_a_withdrawal_removes_them(
    client: Client, db: Session
) -> None:
    t = _approved(db)
    _sign_in(client, db, "marketer")
    page = client.get("/reviews/testimonials", headers=HTML)
    assert page.status_code == 200
    assert QUOTE in page.text
    assert "Head of Operations, a logistics company" in page.text
    assert 'aria-current="page">Testimonials' in page.text

    refused = post_form(client, f"/reviews/testimonials/{t.id}/withdraw", {"requested_by": ""})
    assert refused.status_code == 422
    assert "by: must name who asked" in refused.text
    done = post_form(
        client,
        f"/reviews/testimonials/{t.id}/withdraw",
        {"requested_by": "Emma, by phone", "reason": "Changed jobs"},
    )
    assert done.status_code == 303
    after = client.get(done.headers["location"], headers=HTML)
    assert QUOTE not in after.text
    assert "Consent withdrawn" in after.text
    api_entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "testimonial.withdrawn"))
    assert api_entry is not None
    assert api_entry.changes["by"] == "Emma, by phone"


def test_hiding_and_filters(client: Client, db: Session) -> None:
    t = _approved(db)
    _sign_in(client, db, "admin")
    assert post_form(client, f"/reviews/testimonials/{t.id}/hide").status_code == 303
    hidden = client.get("/reviews/testimonials?status=approved", headers=HTML)
    assert QUOTE not in hidden.text
    listed = client.get("/reviews/testimonials?status=hidden&industry=logistics", headers=HTML)
    assert QUOTE in listed.text
    # Nonsense filters are ignored, never an error.
    assert client.get("/reviews/testimonials?status=x&service=abc", headers=HTML).status_code == 200
    assert client.get("/reviews/testimonials?industry=%00", headers=HTML).status_code == 200
    assert post_form(client, f"/reviews/testimonials/{t.id}/hide").status_code == 303
    assert post_form(client, "/reviews/testimonials/999999/show").status_code == 404


def test_sales_reads_the_library_but_cannot_change_it(client: Client, db: Session) -> None:
    t = _approved(db)
    _sign_in(client, db, "sales")
    page = client.get("/reviews/testimonials", headers=HTML)
    assert page.status_code == 200
    assert "Withdraw consent" not in page.text
    assert post_form(client, f"/reviews/testimonials/{t.id}/hide").status_code == 403


def test_referrals_page_counts_the_funnel_and_a_marketer_approves_the_reward(
    client: Client, db: Session
) -> None:
    referral_id = _won_referral(db)
    _sign_in(client, db, "marketer")
    page = client.get("/reviews/referrals", headers=HTML)
    assert page.status_code == 200
    assert "Self 1 · duplicate 0 · already known 0" in page.text
    assert 'data-stage="won"' in page.text
    assert "Approve reward" in page.text
    assert "dan@northwind.example" not in page.text or "/contacts/" in page.text

    done = post_form(
        client, f"/reviews/referrals/{referral_id}/reward", {"decision": "approve", "note": "Sent"}
    )
    assert done.status_code == 303
    again = post_form(client, f"/reviews/referrals/{referral_id}/reward", {"decision": "approve"})
    assert again.status_code == 409
    db.expire_all()
    referral = db.get(Referral, referral_id)
    assert referral is not None
    assert (referral.status, referral.reward_state) == ("rewarded", "approved")


def test_settings_name_the_field_that_is_wrong_and_save_when_right(
    client: Client, db: Session, template_id: int
) -> None:
    sequence_id = make_sequence(db, [{"key": "hello", "type": "email", "template_id": template_id}])
    _sign_in(client, db, "marketer")
    assert client.get("/reviews/settings", headers=HTML).status_code == 200
    bad = post_form(
        client,
        "/reviews/settings",
        {"referral_sequence_id": "999999", "thank_template_id": "abc", "reward_text": "x" * 600},
    )
    assert bad.status_code == 422
    assert 'id="err-referral_sequence_id"' not in bad.text or "no such sequence" in bad.text
    assert "must be an id or empty" in bad.text
    assert "at most 500 characters" in bad.text
    good = post_form(
        client,
        "/reviews/settings",
        {
            "referral_sequence_id": str(sequence_id),
            "stage_lead": "1",
            "stage_rewarded": "1",
            "thank_template_id": str(template_id),
            "reward_text": "A donation to a charity you choose.",
        },
    )
    assert good.status_code == 303
    db.expire_all()
    row = db.get(ReviewSettings, 1)
    assert row is not None
    assert (row.referral_sequence_id, row.thank_stages, row.thank_template_id) == (
        sequence_id,
        ["lead", "rewarded"],
        template_id,
    )
    unknown = post_form(client, "/reviews/settings", {"referral_sequence_id": "999999"})
    assert unknown.status_code == 422
    assert "no such sequence" in unknown.text
