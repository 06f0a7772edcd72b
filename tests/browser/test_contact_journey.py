"""In Chromium: sign in, find a contact, read its timeline, edit it, use the phone menu."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy.orm import Session

from nurture.events import ingest_raw
from nurture.web.ui.contacts import TIMELINE_PAGE
from tests.browser.signin import sign_in
from tests.factories import make_contact, make_user

SCREENSHOTS = "/tmp/nurture-browser"
pytestmark = pytest.mark.browser


def _seed(db: Session) -> tuple[str, int]:
    user = make_user(db, role="marketer")
    contact = make_contact(
        db,
        first_name="Lena",
        last_name="Meyer",
        title="General Counsel",
        company={"name": "Brandt & Partner", "industry": "legal", "country": "DE"},
    )
    for n in range(12):
        make_contact(db, first_name=f"Other{n}")
    now = datetime.now(UTC)
    events = [
        {
            "type": "page.visited",
            "contact_id": contact.id,
            "occurred_at": (now - timedelta(hours=n + 2)).isoformat(),
            "properties": {"path": f"/insights/article-{n}"},
        }
        for n in range(TIMELINE_PAGE + 4)
    ]
    events.append(
        {
            "type": "email.opened",
            "contact_id": contact.id,
            "occurred_at": (now - timedelta(minutes=30)).isoformat(),
            "properties": {"subject": "How firms cut review time"},
        }
    )
    ingest_raw(db, events, source="test")
    db.commit()
    return user.email, contact.id


def test_marketer_opens_a_contact_and_reads_its_timeline(
    browser: Browser, live_server: str, db: Session
) -> None:
    email, contact_id = _seed(db)
    context = browser.new_context(viewport={"width": 1366, "height": 860})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, live_server, email, then="/contacts")

    page.get_by_label("Search").fill("lena mey")
    rows = page.locator("#contact-rows tr")
    expect(rows).to_have_count(1)
    # The search is in the address bar, so the filtered list can be bookmarked.
    expect(page).to_have_url(re.compile(r"/contacts\?q=lena(\+|%20)mey"))
    page.get_by_role("link", name="Lena Meyer").click()

    expect(page.get_by_role("heading", name="Lena Meyer")).to_be_visible()
    items = page.locator(".timeline .tl-item")
    expect(items).to_have_count(TIMELINE_PAGE)
    expect(items.first).to_contain_text("Email opened")
    expect(items.first).to_contain_text("How firms cut review time")
    expect(items.first).to_contain_text("30 minutes ago")
    page.screenshot(path=f"{SCREENSHOTS}-contact-laptop.png", full_page=True)

    page.get_by_role("link", name="Load earlier activity").click()
    expect(items).to_have_count(TIMELINE_PAGE + 5)
    expect(items.last).to_contain_text(f"/insights/article-{TIMELINE_PAGE + 3}")
    expect(page.get_by_role("link", name="Load earlier activity")).to_have_count(0)
    assert page.url == f"{live_server}/contacts/{contact_id}"
    assert errors == []
    context.close()


def test_edit_form_shows_a_bad_email_inline_and_then_saves(
    browser: Browser, live_server: str, db: Session
) -> None:
    email, contact_id = _seed(db)
    context = browser.new_context(viewport={"width": 1366, "height": 860})
    page = context.new_page()
    sign_in(page, live_server, email, then=f"/contacts/{contact_id}/edit")

    page.get_by_label("Job title").fill("Managing Partner")
    page.get_by_label("E-mail").fill("not-an-address")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#err-email")).to_be_visible()
    expect(page.get_by_label("Job title")).to_have_value("Managing Partner")

    page.get_by_label("E-mail").fill("lena@brandt.example")
    page.get_by_role("button", name="Save changes").click()
    expect(page).to_have_url(f"{live_server}/contacts/{contact_id}?saved=1")
    expect(page.get_by_role("status")).to_contain_text("Changes saved")
    expect(page.locator(".page-sub")).to_contain_text("Managing Partner")
    context.close()


def test_phone_layout_uses_a_menu_instead_of_the_sidebar(
    browser: Browser, live_server: str, db: Session
) -> None:
    email, _ = _seed(db)
    context = browser.new_context(viewport={"width": 375, "height": 760}, is_mobile=True)
    page = context.new_page()
    sign_in(page, live_server, email, then="/contacts")
    navigation = page.get_by_role("navigation", name="Main")
    expect(navigation).to_be_hidden()
    page.screenshot(path=f"{SCREENSHOTS}-contacts-phone.png")
    page.get_by_role("button", name="Menu").click()
    expect(navigation).to_be_visible()
    page.screenshot(path=f"{SCREENSHOTS}-menu-phone.png")
    navigation.get_by_role("link", name="Settings").click()
    expect(page).to_have_url(f"{live_server}/settings")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, "nothing overflows the phone's width"
    context.close()
