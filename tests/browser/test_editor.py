"""In Chromium: a marketer edits a template and watches the live preview follow."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy.orm import Session

from campaigns.email.store import VariantInput, create_template
from tests.browser.signin import sign_in
from tests.factories import make_contact, make_user

SCREENSHOTS = "/tmp/nurture-browser"
pytestmark = pytest.mark.browser
BODY = """<mjml>
  <mj-body>
    <mj-section>
      <mj-column>
        <mj-text>Hello {{ contact.first_name | default("there", true) }},</mj-text>
        <mj-button href="https://example.net/webinar">Join the webinar</mj-button>
        <mj-text><a href="{{ unsubscribe_url }}">Unsubscribe</a></mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>
"""


def _seed(db: Session) -> tuple[str, int]:
    user = make_user(db, role="marketer")
    make_contact(db, first_name="Lena", email="lena@brandt.example")
    template = create_template(
        db,
        name="Webinar invite",
        topic="webinars",
        actor="test",
        variants={"en": VariantInput("Join us, {{ contact.first_name }}", BODY, "Thursday")},
    )
    db.commit()
    return user.email, template.id


def test_marketer_edits_a_template_and_the_preview_changes(
    browser: Browser, live_server: str, db: Session
) -> None:
    email, template_id = _seed(db)
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, live_server, email, f"/content/{template_id}")

    preview = page.frame_locator("iframe.preview-frame")
    expect(preview.locator("body")).to_contain_text("Hello Lena,")
    expect(page.locator("#preview-subject")).to_have_text("Join us, Lena")
    # The source is highlighted: MJML tags and Jinja get their own colours.
    expect(page.locator(".code-highlight .tok-mjml").first).to_be_visible()
    expect(page.locator(".code-highlight .tok-jinja").first).to_be_visible()

    source = page.locator("#body__en")
    source.fill(BODY.replace("Hello", "Good evening"))
    expect(preview.locator("body")).to_contain_text("Good evening Lena,")
    page.get_by_label("Subject").first.fill("Last seats, {{ contact.first_name }}")
    expect(page.locator("#preview-subject")).to_have_text("Last seats, Lena")

    page.get_by_role("button", name="Phone 375 px").click()
    expect(page.locator("#preview-result")).to_have_css("width", "375px")
    page.screenshot(path=f"{SCREENSHOTS}-editor-phone-preview.png", full_page=True)

    source.fill(BODY.replace("Join the webinar", "{% if %}"))
    problems = page.locator(".preview-problems")
    expect(problems).to_contain_text(re.compile(r"body, line 6"))
    page.get_by_role("button", name="body, line 6").click()
    expect(source).to_be_focused()

    source.fill(BODY.replace("Hello", "Good evening"))
    expect(preview.locator("body")).to_contain_text("Good evening Lena,")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status").first).to_contain_text("Saved as version 2")
    expect(page.locator(".versions li")).to_have_count(2)
    page.screenshot(path=f"{SCREENSHOTS}-editor-saved.png", full_page=True)
    assert errors == []
    context.close()
