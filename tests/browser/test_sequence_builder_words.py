"""In Chromium: the builder asks for a new e-mail step's template, builds "opened or
clicked", says its problems in plain words and tells whether a trigger takes in people
who already qualify."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.models import SegmentKind, SequenceVersion
from segments.store import create_segment
from tests.browser.signin import sign_in
from tests.email.conftest import make_template
from tests.factories import make_user

SCREENSHOTS = Path("/tmp/nurture-browser")
pytestmark = pytest.mark.browser


@pytest.fixture
def db_url(sqlite_db_url: str) -> str:
    """The builder's words and forms are drawn by its script and templates: the database plays
    no part (storing and checking definitions is tested on both databases in tests/sequences/
    and tests/ui/)."""
    return sqlite_db_url


def _add(page: Page, list_path: str, step_type: str) -> Locator:
    page.locator(f'[data-list-path="{list_path}"] > select.seq-add').select_option(step_type)
    return page.locator("#step-panel")


def _card(page: Page, key: str) -> Locator:
    return page.locator(f'.seq-card[data-key="{key}"]')


def _definition(page: Page) -> dict[str, object]:
    text = page.locator("#f-definition").input_value()
    found: dict[str, object] = json.loads(text)
    return found


def _open_builder(browser: Browser, live_server: str, db: Session) -> Page:
    user = make_user(db, role="marketer")
    db.commit()
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.on("pageerror", lambda exc: pytest.fail(f"page error: {exc}"))
    sign_in(page, live_server, user.email, "/sequences/new")
    page.wait_for_load_state("load")
    return page


def test_a_new_email_step_asks_for_its_template(
    browser: Browser, live_server: str, db: Session
) -> None:
    # The alphabetically first template is the one a silent default would pick.
    make_template(db, name="A first template")
    make_template(db, name="Methodology guide")
    page = _open_builder(browser, live_server, db)

    panel = _add(page, "steps", "email")

    template = panel.get_by_label("Template")
    expect(template).to_have_value("")
    expect(template.locator("option:checked")).to_have_text("Choose a template…")
    expect(_card(page, "email-1").locator(":scope > .seq-card-summary")).to_have_text(
        "no template chosen"
    )
    steps = _definition(page)["steps"]
    assert isinstance(steps, list)
    assert "template_id" not in steps[0]

    page.get_by_label("Name").fill("Guide follow-up")
    page.get_by_role("button", name="Save and activate").click()
    expect(page.locator("#flow-problems")).to_contain_text("Step 1 (e-mail): choose a template")
    expect(_card(page, "email-1").locator(":scope > .seq-error")).to_have_text(
        "Step 1 (e-mail): choose a template"
    )


def test_a_branch_asks_whether_the_email_was_opened_or_clicked(
    browser: Browser, live_server: str, db: Session
) -> None:
    guide = make_template(db, name="Methodology guide")
    page = _open_builder(browser, live_server, db)
    page.get_by_label("Name").fill("Guide follow-up")
    _add(page, "steps", "email").get_by_label("Template").select_option(str(guide))
    panel = _add(page, "steps", "branch")
    panel.get_by_label("If the contact…").select_option("opened")

    panel.get_by_label("Ask whether").select_option("any")

    expect(panel.locator("fieldset.seq-test")).to_have_count(2)
    expect(panel.get_by_label("Test 2: the contact…")).to_have_value("clicked")
    expect(_card(page, "branch-1").locator(":scope > .seq-card-summary")).to_have_text(
        "opened or clicked “Methodology guide”"
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "sequence-branch-any.png"), full_page=True)
    _add(page, "steps[1].then", "goal")
    _add(page, "steps[1].else", "exit")
    page.get_by_role("button", name="Save and activate").click()
    page.wait_for_url(lambda url: "/edit" not in url and "/new" not in url)

    stored = db.scalars(select(SequenceVersion.definition)).one()
    assert stored["steps"][1]["condition"] == {
        "any": [
            {"event": "email.opened", "step": "email-1"},
            {"event": "email.clicked", "step": "email-1"},
        ]
    }
    expect(page.locator("body")).to_contain_text("Branch: opened or clicked “Methodology guide”")


def test_an_empty_path_is_named_in_plain_words(
    browser: Browser, live_server: str, db: Session
) -> None:
    guide = make_template(db, name="Methodology guide")
    page = _open_builder(browser, live_server, db)
    page.get_by_label("Name").fill("Guide follow-up")
    _add(page, "steps", "email").get_by_label("Template").select_option(str(guide))
    _add(page, "steps", "branch")
    _add(page, "steps[1].else", "exit")

    page.get_by_role("button", name="Save draft").click()

    problems = page.locator("#flow-problems")
    expect(problems).to_contain_text("Step 2 (branch): the 'yes' path has no steps")
    expect(problems).not_to_contain_text("steps[1]")
    expect(page.locator('[data-path="steps[1].then"] > .seq-error')).to_have_text(
        "Step 2 (branch): the 'yes' path has no steps"
    )


def test_the_trigger_settings_say_whether_current_members_enter(
    browser: Browser, live_server: str, db: Session
) -> None:
    create_segment(db, name="Legal leads", kind=SegmentKind.STATIC.value)
    page = _open_builder(browser, live_server, db)
    settings = page.locator("#settings")

    settings.get_by_role("button", name="+ Trigger").click()

    note = settings.locator('[data-path="triggers[0]"] .seq-trigger-note')
    expect(note).to_contain_text(
        "People already in “Legal leads” when the sequence is activated do not enter"
    )
    settings.get_by_label("Trigger kind").select_option("event")
    expect(note).to_have_text(
        "Only events recorded after the sequence is activated enrol people; earlier ones do not."
    )
