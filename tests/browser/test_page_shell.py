"""In Chromium: the page around every signed-in screen. The sidebar runs the full height of
a page taller than the window, with no grey strip below it, and leads to the Imports page."""

from __future__ import annotations

import base64

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.orm import Session

from tests.browser.signin import sign_in
from tests.factories import make_contact, make_user

SCREENSHOTS = "/tmp/nurture-browser"
pytestmark = pytest.mark.browser
WINDOW_HEIGHT = 600
# The sidebar's background (--surface in app.css); the page behind it is a light grey.
SIDEBAR_WHITE = (255, 255, 255)

# The colour of each row of a one-pixel-wide PNG strip, decoded by the browser itself.
STRIP_COLOURS = """async (src) => {
  const image = new Image();
  image.src = src;
  await image.decode();
  const canvas = document.createElement("canvas");
  canvas.width = image.width;
  canvas.height = image.height;
  const context = canvas.getContext("2d");
  context.drawImage(image, 0, 0);
  const data = context.getImageData(0, 0, 1, image.height).data;
  const rows = [];
  for (let y = 0; y < image.height; y++) rows.push([data[4 * y], data[4 * y + 1], data[4 * y + 2]]);
  return rows;
}"""


@pytest.fixture
def db_url(sqlite_db_url: str) -> str:
    """The page around every screen (CSS and the navigation links): the database plays no part."""
    return sqlite_db_url


def _column_colours(page: Page, x: int) -> list[tuple[int, int, int]]:
    """The colours down the whole page (not only the window) one pixel wide at `x`."""
    height = page.evaluate("document.scrollingElement.scrollHeight")
    png = page.screenshot(full_page=True, clip={"x": x, "y": 0, "width": 1, "height": height})
    decoder = page.context.new_page()
    try:
        source = "data:image/png;base64," + base64.b64encode(png).decode()
        rows: list[list[int]] = decoder.evaluate(STRIP_COLOURS, source)
    finally:
        decoder.close()
    return [(r, g, b) for r, g, b in rows]


def test_sidebar_runs_the_full_height_of_a_page_taller_than_the_window(
    browser: Browser, live_server: str, db: Session
) -> None:
    user = make_user(db, role="marketer")
    for n in range(40):
        make_contact(db, first_name=f"Person{n}", email=f"person{n}@tall.example")
    db.commit()
    context = browser.new_context(viewport={"width": 1280, "height": WINDOW_HEIGHT})
    page = context.new_page()
    sign_in(page, live_server, user.email, "/contacts")
    height = page.evaluate("document.scrollingElement.scrollHeight")
    assert height > 2 * WINDOW_HEIGHT, "the page must be taller than the window to tell"
    page.screenshot(path=f"{SCREENSHOTS}-tall-page-sidebar.png", full_page=True)

    # A few pixels in from the left edge: the sidebar's own background, clear of its links.
    colours = _column_colours(page, 4)
    assert len(colours) == height
    grey = [y for y, colour in enumerate(colours) if colour != SIDEBAR_WHITE]
    assert grey == [], f"{len(grey)} rows of {height} are not the sidebar, from y={grey[:1]}"
    context.close()


def test_marketer_reaches_imports_from_the_navigation(
    browser: Browser, live_server: str, db: Session
) -> None:
    user = make_user(db, role="marketer")
    db.commit()
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    sign_in(page, live_server, user.email, "/")
    navigation = page.get_by_role("navigation", name="Main")
    navigation.get_by_role("link", name="Imports").click()
    expect(page).to_have_url(f"{live_server}/imports")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Import")
    expect(navigation.get_by_role("link", name="Imports")).to_have_attribute("aria-current", "page")
    context.close()
