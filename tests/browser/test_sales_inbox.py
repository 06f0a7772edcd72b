"""In Chromium: a rep opens a hand-off, rejects it with a reason and the contact shows as
recycled; another hand-off is accepted and its contact shows as SQL."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy.orm import Session

from nurture.models import QualificationSettings
from tests.browser.signin import sign_in
from tests.factories import make_contact, make_user
from tests.inbox.helpers import make_handoff, make_recycle_sequence

pytestmark = pytest.mark.browser


def _seed(db: Session) -> tuple[str, int, int, int, int]:
    rep = make_user(db, role="sales")
    recycle = make_recycle_sequence(db, "Legal nurture: back to basics")
    db.add(QualificationSettings(id=1, recycle_sequence_id=recycle.id, recycle_score_to=20))
    lena = make_contact(
        db,
        first_name="Lena",
        last_name="Meyer",
        lifecycle_stage="mql",
        company={"name": "Brandt & Partner", "industry": "legal"},
    )
    omar = make_contact(
        db,
        first_name="Omar",
        last_name="Haddad",
        lifecycle_stage="mql",
        company={"name": "Harbor Freight Logistics", "industry": "logistics"},
    )
    rejected = make_handoff(db, rep, contact=lena)
    accepted = make_handoff(db, rep, contact=omar)
    db.commit()
    return rep.email, rejected.id, lena.id, accepted.id, omar.id


def test_rep_rejects_one_hand_off_and_accepts_another(
    browser: Browser, live_server: str, db: Session
) -> None:
    email, rejected_id, lena_id, accepted_id, omar_id = _seed(db)
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    try:
        sign_in(page, live_server, email, then="/inbox")
        expect(page.locator("#inbox-badge")).to_have_text(re.compile(r"^2"))
        page.get_by_role("link", name="Lena Meyer").click()
        expect(page.get_by_role("heading", name="Why this lead qualified")).to_be_visible()
        expect(page.locator("#handoff-why")).to_contain_text("Webinar attended (+15)")

        # Without a reason the browser itself refuses; with one the lead is recycled.
        page.get_by_label("Why is this lead not ready?").fill("Budget frozen until next year")
        expect(page.get_by_label("Recycle into")).to_contain_text("Legal nurture: back to basics")
        page.get_by_role("button", name="Reject and recycle").click()
        expect(page).to_have_url(f"{live_server}/inbox/{rejected_id}?done=rejected")
        expect(page.locator("#handoff-state")).to_have_text("Rejected")
        expect(page.locator("#handoff-reason")).to_have_text("Budget frozen until next year")

        page.goto(f"{live_server}/contacts/{lena_id}")
        expect(page.locator(".contact-head .badge")).to_have_text("Lead")
        rejected = page.locator('.tl-item[data-event-type="handoff.rejected"]')
        expect(rejected).to_contain_text("Budget frozen until next year")
        expect(rejected).to_contain_text("Legal nurture: back to basics")
        moved = page.locator('.tl-item[data-event-type="lifecycle.changed"]')
        expect(moved).to_contain_text("Budget frozen until next year")

        page.goto(f"{live_server}/inbox")
        expect(page.locator("#inbox-badge")).to_have_text(re.compile(r"^1"))
        page.get_by_role("link", name="Omar Haddad").click()
        page.get_by_role("button", name="Accept lead").click()
        expect(page).to_have_url(f"{live_server}/inbox/{accepted_id}?done=accepted")
        expect(page.locator("#contact-stage")).to_have_text("SQL")
        page.goto(f"{live_server}/contacts/{omar_id}")
        expect(page.locator(".contact-head .badge")).to_have_text("SQL")
        expect(page.locator("#inbox-badge")).to_be_hidden()
    finally:
        context.close()
