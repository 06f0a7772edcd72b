"""In Chromium: a failed send is seen where a marketer looks: the home page, the Outbox
(with its reason), the message's page and the contact's timeline."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy.orm import Session

from nurture.events import ingest_raw
from tests.browser.signin import sign_in
from tests.email.conftest import make_template
from tests.factories import make_contact, make_user
from tests.ui_failures.helpers import RENDER_ERROR, failed_message

SCREENSHOTS = "/tmp/nurture-browser"
pytestmark = pytest.mark.browser


def _seed(db: Session) -> tuple[str, int]:
    marketer = make_user(db)
    contact = make_contact(db, first_name="Ada", last_name="Lovelace", email="ada@firm.example")
    template_id = make_template(db, name="NPS survey")
    message = failed_message(db, contact_id=contact.id, template_id=template_id)
    ingest_raw(
        db,
        [
            {
                "type": "email.failed",
                "contact_id": contact.id,
                "occurred_at": datetime.now(UTC).isoformat(),
                "properties": {
                    "message_id": message.id,
                    "template_id": template_id,
                    "error": RENDER_ERROR,
                },
            }
        ],
        source="email",
    )
    db.commit()
    return marketer.email, contact.id


def test_a_failed_send_is_seen_from_home_to_the_contact(
    browser: Browser, live_server: str, db: Session
) -> None:
    email, contact_id = _seed(db)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, live_server, email)

    alert = page.locator("#failed-sends")
    expect(alert).to_contain_text("1 message could not be sent.")
    alert.get_by_role("link", name="See which and why in the Outbox").click()

    expect(page).to_have_url(f"{live_server}/outbox?status=failed")
    rows = page.locator("#outbox-status-rows tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(RENDER_ERROR)
    expect(rows.first.get_by_role("link", name="NPS survey")).to_be_visible()
    page.screenshot(path=f"{SCREENSHOTS}/outbox-failed.png", full_page=True)

    rows.first.get_by_role("link", name="(not built)").click()
    facts = page.locator("#message-facts")
    expect(facts).to_contain_text("Failed")
    expect(facts).to_contain_text(RENDER_ERROR)
    facts.get_by_role("link", name="ada@firm.example").click()

    expect(page).to_have_url(f"{live_server}/contacts/{contact_id}")
    item = page.locator('li.tl-item[data-event-type="email.failed"]')
    expect(item).to_contain_text("E-mail not sent")
    expect(item).to_contain_text(RENDER_ERROR)
    expect(item.get_by_role("link", name="NPS survey")).to_have_attribute(
        "href", re.compile(r"^/content/\d+$")
    )
    context.close()


def test_the_failed_list_does_not_scroll_sideways_on_a_phone(
    browser: Browser, live_server: str, db: Session
) -> None:
    email, _ = _seed(db)
    context = browser.new_context(viewport={"width": 375, "height": 800})
    page = context.new_page()
    sign_in(page, live_server, email, then="/outbox?status=failed")
    expect(page.locator("#outbox-status-rows")).to_contain_text(RENDER_ERROR)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    page.screenshot(path=f"{SCREENSHOTS}/outbox-failed-375.png", full_page=True)
    assert overflow <= 0
    context.close()
