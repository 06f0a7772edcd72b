"""In Chromium on a phone-size screen: a recipient manages topics and unsubscribes."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy.orm import Session

from nurture.contacts import is_suppressed
from templates.tokens import TokenSigner
from tests.factories import make_contact

SCREENSHOTS = "/tmp/nurture-browser"
# The secret tests/browser/conftest.py gives the live server.
SECRET = "browser-test-secret-" + "x" * 40
pytestmark = pytest.mark.browser


def test_recipient_answers_the_preferences_page_on_a_phone(
    browser: Browser, live_server: str, db: Session
) -> None:
    contact = make_contact(db, first_name="Lena", email="lena@brandt.example")
    db.commit()
    token = TokenSigner(SECRET).unsubscribe(contact.id, None)
    context = browser.new_context(
        viewport={"width": 375, "height": 812},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server}/u/{token}")

    expect(page.get_by_role("heading", name="E-mail preferences")).to_be_visible()
    expect(page.get_by_text("l***@brandt.example", exact=False)).to_be_visible()
    # Nothing wider than the screen, and buttons big enough for a thumb.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    box = page.get_by_role("button", name="Unsubscribe from all").bounding_box()
    assert box is not None
    assert box["height"] >= 44
    assert box["width"] >= 300
    page.screenshot(path=f"{SCREENSHOTS}-preferences-phone.png", full_page=True)

    page.get_by_label("Newsletters and insights").uncheck()
    page.get_by_role("button", name="Save preferences").tap()
    expect(page.get_by_role("status")).to_contain_text("Your preferences are saved.")
    expect(page.get_by_label("Newsletters and insights")).not_to_be_checked()
    expect(page.get_by_label("Webinars and events")).to_be_checked()

    page.get_by_role("button", name="Unsubscribe from all").tap()
    expect(page.get_by_text("You are unsubscribed from all e-mails")).to_be_visible()
    expect(page.get_by_role("button", name="Subscribe again")).to_be_visible()
    page.screenshot(path=f"{SCREENSHOTS}-unsubscribed-phone.png", full_page=True)
    db.expire_all()
    assert is_suppressed(db, "lena@brandt.example")
    assert errors == []
    context.close()
