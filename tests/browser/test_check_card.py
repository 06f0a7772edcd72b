"""In Chromium: the editor's Check card lists the template's findings when the page opens,
follows unsaved edits on "Check again", and a finding's line button selects that line."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy.orm import Session

from campaigns.email.store import VariantInput, create_template
from tests.browser.signin import sign_in
from tests.factories import make_contact, make_user
from tests.template_check.test_web import CLEAN

pytestmark = pytest.mark.browser


@pytest.fixture
def db_url(sqlite_db_url: str) -> str:
    """What the page shows does not depend on the database."""
    return sqlite_db_url


def test_check_card_shows_findings_and_jumps_to_their_line(
    browser: Browser, live_server: str, db: Session
) -> None:
    user = make_user(db, role="marketer")
    make_contact(db, first_name="Lena", email="lena@brandt.example", locale="en")
    template = create_template(
        db,
        name="Guide",
        topic="newsletters",
        actor="test",
        variants={"en": VariantInput("Hi", CLEAN)},
    )
    db.commit()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        sign_in(page, live_server, user.email, f"/content/{template.id}")
        result = page.locator("#check-result")
        expect(result).to_contain_text("No problems found in EN.")

        source = page.locator("#body__en")
        text = source.input_value()
        source.fill(
            text.replace('href="https://example.net/guide"', 'href="http://example.net/guide"')
        )
        page.get_by_role("button", name="Check again").click()
        expect(result).to_contain_text("link is not https (http://example.net/guide)")
        page.screenshot(path="/tmp/nurture-browser/check-card.png", full_page=True)

        result.get_by_role("button", name="line 6").click()
        selected = source.evaluate("el => el.value.slice(el.selectionStart, el.selectionEnd)")
        assert "http://example.net/guide" in selected
    finally:
        page.close()
