"""In Chromium: write a behaviour rule with an added condition row while the plain-language
preview follows, save it, and see a contact's score chart drawn from its history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy.orm import Session

from nurture.models import utcnow
from nurture.scoring import engine
from tests.browser.signin import sign_in
from tests.factories import make_contact, make_user
from tests.scoring.helpers import add_events, behaviour_rule

SCREENSHOTS = "/tmp/nurture-browser"
pytestmark = pytest.mark.browser


def test_a_rule_written_in_the_form_reads_back_as_its_preview(
    browser: Browser, live_server: str, db: Session
) -> None:
    user = make_user(db, role="marketer")
    db.commit()
    page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # The refused form answers 422 on purpose; Chromium logs that as a console error.
    page.on(
        "console",
        lambda m: errors.append(m.text) if m.type == "error" and "422" not in m.text else None,
    )
    sign_in(page, live_server, user.email, "/scoring/behaviour/new")

    page.get_by_label("Name").fill("Pricing clicks")
    page.get_by_label("When this event happens").fill("email.clicked")
    page.get_by_label("Points", exact=True).fill("10")
    page.locator("#c0-name").fill("url")
    page.locator("#c0-op").select_option("contains")
    page.locator("#c0-value").fill("pricing")
    page.get_by_role("button", name="+ Add a condition").click()
    rows = page.locator("[data-cond-row]")
    expect(rows).to_have_count(3)
    page.locator("[data-cond-row]").nth(2).get_by_role("button", name="Remove").click()
    expect(rows).to_have_count(2)
    page.get_by_label("At most this many points").fill("30")
    page.get_by_label("per this many days").fill("30")
    preview = "+10 when email.clicked where url contains 'pricing', at most 30 per 30 days"
    expect(page.locator("#live-preview")).to_have_text(preview)
    page.screenshot(path=f"{SCREENSHOTS}/scoring-rule-form.png", full_page=True)
    # A slip is shown next to its field, with everything typed still there.
    page.get_by_label("Points", exact=True).fill("ten")
    page.get_by_role("button", name="Create rule").click()
    expect(page.locator("#err-points")).to_have_text("must be an integer")
    expect(page.locator("#c0-value")).to_have_value("pricing")
    page.screenshot(path=f"{SCREENSHOTS}/scoring-rule-error.png", full_page=True)
    page.get_by_label("Points", exact=True).fill("10")
    expect(page.locator("#live-preview")).to_have_text(preview)
    page.get_by_role("button", name="Create rule").click()
    expect(page).to_have_url(f"{live_server}/scoring?done=created%3APricing+clicks")
    expect(page.locator("section[aria-labelledby=behaviour-title]")).to_contain_text(preview)
    page.screenshot(path=f"{SCREENSHOTS}/scoring-list.png", full_page=True)
    assert errors == []


def test_the_contact_page_draws_the_score_history(
    browser: Browser, live_server: str, db: Session
) -> None:
    now = utcnow()
    behaviour_rule(db, name="Webinar", event_type="webinar.attended", points=15)
    contact = make_contact(db, first_name="Lena")
    for days in (6, 3, 0):
        ids = add_events(db, contact.id, "webinar.attended", now - timedelta(days=days))
        engine.apply_events(db, ids, now=now - timedelta(days=days))
    user = make_user(db, role="sales")
    db.commit()
    page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(page, live_server, user.email, f"/contacts/{contact.id}")
    expect(page.get_by_text("Why is this lead")).to_be_visible()
    drawn = page.wait_for_function(
        "() => window.Chart && window.Chart.getChart(document.getElementById('score-chart'))"
        " && window.Chart.getChart(document.getElementById('score-chart')).data.datasets[0]"
        ".data.length"
    )
    assert drawn.json_value() == 3
    page.screenshot(path=f"{SCREENSHOTS}/contact-score.png", full_page=True)
    assert errors == []
