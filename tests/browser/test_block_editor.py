"""In Chromium: a marketer builds an e-mail from blocks, end to end.

Six blocks dragged from the palette, one moved by keyboard, a greeting with a fallback
from the personalisation picker, an uploaded image, the phone preview, save, reopen as
the same blocks, and a test send that reaches a real SMTP server on loopback with the
image's absolute URL, its alt text and the greeting filled in.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Browser, Locator, Page, expect
from sqlalchemy.orm import Session

from campaigns.email.store import get_version
from templates.blocks import read
from tests.browser.signin import sign_in
from tests.email.smtpd import Behaviour, smtp_server
from tests.factories import make_contact, make_user

SCREENSHOTS = Path("/tmp/nurture-browser")
pytestmark = pytest.mark.browser
DRAGGED = ("text", "image", "button", "heading", "divider", "spacer")
ALT = "Cover of the spring guide"
# Each block's kind and its fields as the form holds them, in page order.
READ_BLOCKS = """() => Array.from(document.querySelectorAll("#block-list [data-block]")).map(
  (b) => [b.dataset.kind, Array.from(b.querySelectorAll("[name^='block__']")).map(
    (i) => [i.name.split("__")[2], i.value])])"""


@pytest.fixture
def db_url(sqlite_db_url: str) -> str:
    """The page and its scripts are the subject; what the store keeps is tested on both
    databases elsewhere."""
    return sqlite_db_url


@pytest.fixture
def sink() -> Iterator[tuple[int, Behaviour]]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def mail_server(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, sink: tuple[int, Behaviour]
) -> str:
    """The live server sending through the SMTP sink."""
    monkeypatch.setenv("NURTURE_SMTP_URL", f"smtp://127.0.0.1:{sink[0]}")
    server: str = request.getfixturevalue("live_server")
    return server


def _png(path: Path) -> Path:
    picture = Image.new("RGB", (1600, 900), (23, 116, 95))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    return path


def _drag_to_end(page: Page, source: Locator) -> None:
    """Drag with the mouse the way a person does: press, move, and release in the room
    under the list's last block once the block's place shows there."""
    source.scroll_into_view_if_needed()
    start = source.bounding_box()
    assert start is not None
    x0, y0 = start["x"] + start["width"] / 2, start["y"] + start["height"] / 2
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x0 + 10, y0 + 10, steps=4)
    # The list's end brought to the middle of the window (away from the edges, where
    # dragging scrolls the page).
    page.evaluate(
        "() => window.scrollBy(0, document.getElementById('block-list')"
        ".getBoundingClientRect().bottom - window.innerHeight / 2)"
    )
    end = page.locator("#block-list").bounding_box()
    assert end is not None
    x, y = end["x"] + end["width"] / 2, end["y"] + end["height"] - 12
    page.mouse.move(x, y, steps=10)
    # The dragged block's place follows the pointer; it is last once the pointer is there.
    expect(page.locator("#block-list > :last-child")).to_have_class(re.compile("sortable-ghost"))
    page.mouse.up()


def _blocks(page: Page) -> list[Any]:
    found: list[Any] = page.evaluate(READ_BLOCKS)
    return found


def test_a_marketer_builds_an_email_from_blocks_and_sends_a_test(
    browser: Browser, mail_server: str, db: Session, sink: tuple[int, Behaviour], tmp_path: Path
) -> None:
    _, received = sink
    user = make_user(db, role="marketer")
    make_contact(db, first_name="Lena", email="lena@brandt.example")
    db.commit()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # Scripts are files and styles stay in the page's CSS: the policy is never broken.
    page.on(
        "console",
        lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    sign_in(page, mail_server, user.email, "/content/new")

    page.get_by_label("Name of the new e-mail").fill("Spring guide")
    page.get_by_role("button", name="Build from blocks").click()
    expect(page).to_have_url(f"{mail_server}/content/1/blocks?locale=en")
    page.wait_for_load_state("load")
    blocks = page.locator("#block-list [data-block]")
    first = blocks.count()
    assert first >= 1

    # Six blocks dragged from the palette to the end of the e-mail, after its footer.
    layout = [b[0] for b in _blocks(page)]
    assert layout[-1] == "footer"
    for n, kind in enumerate(DRAGGED):
        _drag_to_end(page, page.locator(f'#block-palette [data-kind="{kind}"]'))
        expect(blocks).to_have_count(len(layout) + n + 1)
        expect(blocks.last).to_have_attribute("data-kind", kind)
    assert [b[0] for b in _blocks(page)] == [*layout, *DRAGGED]

    # The footer moved back to the end by keyboard; focus stays on its button, and each
    # move is announced.
    footer = page.locator('#block-list [data-block][data-kind="footer"]')
    move_down = footer.get_by_role("button", name="Move down")
    move_down.focus()
    for _ in DRAGGED:
        page.keyboard.press("Enter")
    total = len(layout) + len(DRAGGED)
    expect(page.locator("#block-announce")).to_have_text(
        f"Footer moved to position {total} of {total}."
    )
    expect(move_down).to_be_focused()
    assert [b[0] for b in _blocks(page)] == [*layout[:-1], *DRAGGED, "footer"]

    # A greeting with a fallback, inserted from the picker at the cursor.
    text = blocks.nth(len(layout) - 1).get_by_label("Text", exact=True)
    text.fill("Hello , here is our spring guide.")
    text.focus()
    page.keyboard.press("Control+Home")
    for _ in range(len("Hello ")):
        page.keyboard.press("ArrowRight")
    page.get_by_label("Field", exact=True).select_option(label="First name")
    expect(page.get_by_label("If empty, show")).to_have_value("there")
    page.get_by_label("If empty, show").fill("dear reader")
    page.get_by_role("button", name="Insert").click()
    greeting = (
        "Hello {{ contact.first_name | default('dear reader', true) }}, here is our spring guide."
    )
    expect(text).to_have_value(greeting)

    # An image uploaded into the image block, with its alt text.
    image = page.locator('#block-list [data-block][data-kind="image"]')
    image.locator("[data-image-file]").set_input_files(str(_png(tmp_path / "cover.png")))
    image.get_by_role("button", name="Upload image").click()
    expect(image.locator("[data-upload-status]")).to_contain_text("Uploaded")
    url = image.locator("[data-image-url]").input_value()
    assert url.startswith(f"{mail_server}/img/")
    image.get_by_label("Text for readers who do not see images").fill(ALT)

    # The phone preview, rendered for Lena.
    page.get_by_role("button", name="Phone 375 px").click()
    expect(page.locator("#preview-result")).to_have_css("width", "375px")
    preview = page.frame_locator("iframe.preview-frame")
    expect(preview.locator("body")).to_contain_text("Hello Lena, here is our spring guide.")
    expect(preview.locator(f'img[alt="{ALT}"]')).to_have_attribute("src", url)
    page.screenshot(path=str(SCREENSHOTS / "block-editor-phone-preview.png"), full_page=True)

    built = _blocks(page)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status").first).to_contain_text("Saved as version 2")

    # Reopened, the e-mail is the same blocks with the same fields.
    page.goto(f"{mail_server}/content/1/blocks?locale=en")
    assert _blocks(page) == built
    db.expire_all()
    stored = read(next(v.body for v in get_version(db, 1).variants if v.locale == "en"))
    assert [b.kind for b in stored.blocks] == [b[0] for b in built]
    assert [list(map(list, b.fields)) for b in stored.blocks] == [b[1] for b in built]

    # On a phone the page stacks: nothing runs off to the side.
    page.set_viewport_size({"width": 375, "height": 800})
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 375
    page.screenshot(path=str(SCREENSHOTS / "block-editor-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1440, "height": 1000})

    page.get_by_role("button", name="Send saved version to me").click()
    expect(page.locator("#test-result")).to_contain_text(f"Sent to {user.email}")
    assert len(received.received) == 1
    mail = received.received[0].parsed()
    assert mail["To"] is not None
    assert user.email in mail["To"]
    html_part = mail.get_body(preferencelist=("html",))
    assert html_part is not None
    html = html_part.get_content()
    assert f'src="{url}"' in html
    assert f'alt="{ALT}"' in html
    assert "Hello Lena, here is our spring guide." in html
    assert errors == []
    context.close()
