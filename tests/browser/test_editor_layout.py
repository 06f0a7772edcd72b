"""In Chromium: the template editor lays out cleanly on laptop and desktop screens (the form
and the preview side by side, never on top of each other) and stacks on a phone without
anything scrolling sideways."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.orm import Session

from campaigns.email.seed import seed_starter_library
from nurture.models import EmailTemplate
from tests.browser.signin import sign_in
from tests.factories import make_contact, make_user

SCREENSHOTS = "/tmp/nurture-browser"
pytestmark = pytest.mark.browser

# Boxes of the editor's parts, as the browser laid them out (page coordinates).
BOXES = """() => {
  const box = (el) => {
    const r = el.getBoundingClientRect();
    return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width};
  };
  const form = document.querySelector("#editor-form");
  const side = document.querySelector(".editor-side");
  const controls = [...form.querySelectorAll("input:not([type=hidden]), select, textarea, button")]
    .filter((el) => el.offsetParent !== null)
    .map((el) => ({name: el.id || el.name || el.textContent.trim(), ...box(el)}));
  return {form: box(form), side: box(side), preview: box(side.querySelector(".preview-card")),
          controls};
}"""

# How wide the page is against the window, and which visible elements stick out of it (the
# source and the preview scroll inside their own boxes, so what is inside them may be wider).
SIDEWAYS = """() => ({
  scroll: document.scrollingElement.scrollWidth,
  width: document.documentElement.clientWidth,
  wide: [...document.querySelectorAll("body *")]
    .filter((el) => el.offsetParent !== null)
    .filter((el) => el.closest(".code-editor, .preview-stage") === null)
    .filter((el) => el.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
    .map((el) => el.tagName + "." + el.className).slice(0, 10),
})"""


@pytest.fixture
def db_url(sqlite_db_url: str) -> str:
    """Layout in the browser (CSS at each width): the database plays no part; saving templates
    is tested on both databases in tests/web_email/."""
    return sqlite_db_url


def _seed(db: Session) -> tuple[str, int]:
    """A marketer and the longest kind of template: a starter with wide MJML lines."""
    user = make_user(db, role="marketer")
    make_contact(db, first_name="Lena", email="lena@brandt.example", locale="en")
    templates: list[EmailTemplate] = seed_starter_library(db, actor="test")
    db.commit()
    return user.email, templates[0].id


def _open_editor(page: Page, base: str, email: str, template_id: int) -> None:
    sign_in(page, base, email, f"/content/{template_id}")
    # The preview is where width comes from: wait until it has rendered.
    expect(page.frame_locator("iframe.preview-frame").locator("body")).to_contain_text("Lena")


def _overlap(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return bool(
        a["left"] < b["right"] - 0.5
        and b["left"] < a["right"] - 0.5
        and a["top"] < b["bottom"] - 0.5
        and b["top"] < a["bottom"] - 0.5
    )


@pytest.mark.parametrize("width", [1024, 1280, 1600])
def test_form_and_preview_never_overlap_from_laptop_width_up(
    browser: Browser, live_server: str, db: Session, width: int
) -> None:
    email, template_id = _seed(db)
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    _open_editor(page, live_server, email, template_id)

    boxes = page.evaluate(BOXES)
    page.screenshot(path=f"{SCREENSHOTS}-editor-layout-{width}.png", full_page=True)
    form, side = boxes["form"], boxes["side"]
    assert not _overlap(form, side), boxes
    assert not _overlap(form, boxes["preview"]), boxes
    # Every field sits inside its own card: none runs under the preview.
    strays = [
        c["name"] for c in boxes["controls"] if c["right"] > form["right"] + 0.5 or c["width"] < 1
    ]
    assert strays == [], boxes
    # A form column narrower than this makes the subject and the source unreadable.
    assert form["width"] >= 400, boxes
    # Nothing on the page is wider than the window.
    sideways = page.evaluate(SIDEWAYS)
    assert sideways["scroll"] <= sideways["width"], sideways
    context.close()


def test_phone_width_stacks_the_editor_without_sideways_scroll(
    browser: Browser, live_server: str, db: Session
) -> None:
    email, template_id = _seed(db)
    context = browser.new_context(
        viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    _open_editor(page, live_server, email, template_id)

    sideways = page.evaluate(SIDEWAYS)
    page.locator("iframe.preview-frame").scroll_into_view_if_needed()
    page.screenshot(path=f"{SCREENSHOTS}-editor-layout-375.png")
    assert sideways["scroll"] <= sideways["width"], sideways
    assert sideways["wide"] == [], sideways
    boxes = page.evaluate(BOXES)
    # Stacked: the preview comes below the form, not beside it.
    assert boxes["side"]["top"] >= boxes["form"]["bottom"], boxes
    context.close()


def test_new_template_from_a_starter_opens_it_in_the_editor(
    browser: Browser, live_server: str, db: Session
) -> None:
    user = make_user(db, role="marketer")
    make_contact(db, first_name="Lena", email="lena@brandt.example", locale="en")
    db.commit()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, live_server, user.email, "/content")

    page.get_by_role("link", name="New template").click()
    expect(page).to_have_url(f"{live_server}/content/new")
    choices = page.get_by_role("list", name="Ways to start")
    expect(choices.get_by_role("heading", name="Blank template")).to_be_visible()
    expect(choices.get_by_role("heading", name="Webinar invitation")).to_be_visible()
    page.screenshot(path=f"{SCREENSHOTS}-new-template-choices.png", full_page=True)
    assert page.evaluate(SIDEWAYS)["scroll"] <= 1280

    page.get_by_role("button", name="Use this template: Webinar invitation").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Webinar invitation")
    expect(page.get_by_role("tab", name="EN")).to_be_visible()
    expect(page.get_by_role("tab", name="RU")).to_be_visible()
    expect(page.frame_locator("iframe.preview-frame").locator("body")).to_contain_text("Lena")
    assert errors == []
    context.close()


def test_blank_new_template_uses_the_width_of_the_page(
    browser: Browser, live_server: str, db: Session
) -> None:
    user = make_user(db, role="marketer")
    db.commit()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, live_server, user.email, "/content/new")
    page.get_by_role("link", name="Start blank").click()
    expect(page).to_have_url(f"{live_server}/content/new/blank")
    form = page.locator("#editor-form").bounding_box()
    assert form is not None
    # Not the narrow column of a two-column grid whose second column is empty.
    assert form["width"] >= 700, form
    context.close()
