"""In Chromium: an e-mail preview asks no font service for anything; it uses the system fonts."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Request, expect
from sqlalchemy.orm import Session

from campaigns.email.store import VariantInput, create_template
from tests.browser.signin import sign_in
from tests.factories import make_contact, make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def db_url(sqlite_db_url: str) -> str:
    """Which fonts the preview asks for is in its markup and CSS: the database plays no part."""
    return sqlite_db_url


def test_a_template_preview_loads_no_third_party_font(
    browser: Browser, live_server: str, db: Session
) -> None:
    user = make_user(db, role="marketer")
    make_contact(db, first_name="Lena", email="lena@brandt.example")
    # No font named: MJML's default family (Ubuntu) used to come with a Google Fonts link.
    body = (
        "<mjml><mj-body><mj-section><mj-column>"
        "<mj-text>Hello {{ contact.first_name }}</mj-text>"
        '<mj-button href="https://example.net/">Read</mj-button>'
        "</mj-column></mj-section></mj-body></mjml>"
    )
    template = create_template(
        db,
        name="Article teaser",
        topic="newsletters",
        actor="test",
        variants={"en": VariantInput("Read this, {{ contact.first_name }}", body, "")},
    )
    db.commit()
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    requested: list[str] = []

    def note(request: Request) -> None:
        requested.append(request.url)

    page.on("request", note)
    sign_in(page, live_server, user.email, f"/content/{template.id}")

    body_text = page.frame_locator("iframe.preview-frame").locator("body")
    expect(body_text).to_contain_text("Lena")
    greeting = page.frame_locator("iframe.preview-frame").get_by_text("Hello Lena")
    family = greeting.evaluate("e => getComputedStyle(e).fontFamily")
    assert family.startswith("-apple-system")
    assert [url for url in requested if "font" in url] == []
    assert all(url.startswith(live_server) or url.startswith("data:") for url in requested)
    context.close()
