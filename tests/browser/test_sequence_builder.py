"""In Chromium: build e-mail → branch (opened? task : wait) → goal, activate it, enrol a
contact, run the engine against the same database with a real SMTP server, and watch the
contact move through the funnel."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.delivery.factory import build_transport
from campaigns.email.mailconfig import MailConfig
from campaigns.sequences import versions
from campaigns.sequences.conditions import effect_key
from campaigns.sequences.engine import Mailer, Verdict, run_step
from nurture.config import Settings
from nurture.events import EventInput, ingest
from nurture.models import EmailMessage, Enrolment, Sequence, SequenceVersion, utcnow
from segments import changes
from tests.browser.signin import sign_in
from tests.email.conftest import make_template
from tests.email.smtpd import Behaviour, smtp_server
from tests.factories import make_contact, make_user
from tests.sequences.helpers import drive

SCREENSHOTS = Path("/tmp/nurture-browser")
pytestmark = pytest.mark.browser


@pytest.fixture
def quiet_server(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The live server without its own scheduler ticks: this test runs the due steps itself."""
    monkeypatch.setenv("NURTURE_TICK_SECONDS", "3600")
    server: str = request.getfixturevalue("live_server")
    return server


@pytest.fixture
def smtp_mailer(db_url: str, tmp_path: Path) -> Iterator[tuple[Mailer, Behaviour]]:
    """The engine's mailer on a real SMTP server listening on loopback."""
    with smtp_server() as (port, behaviour):
        settings = Settings(
            data_dir=tmp_path / "engine",
            database_url=db_url,
            secret_key="browser-test-secret-" + "x" * 40,
            smtp_url=f"smtp://127.0.0.1:{port}",
        )
        transport = build_transport(settings)
        try:
            yield Mailer(transport, MailConfig.from_settings(settings)), behaviour
        finally:
            transport.close()


def _add(page: Page, list_path: str, step_type: str) -> Locator:
    """Add a step at the end of a list; answers the side panel, which shows the new step."""
    page.locator(f'[data-list-path="{list_path}"] > select.seq-add').select_option(step_type)
    return page.locator("#step-panel")


def _card(page: Page, key: str) -> Locator:
    return page.locator(f'.seq-card[data-key="{key}"]')


def _funnel_cell(page: Page, key: str, column: str) -> Locator:
    return page.locator(f'#funnel-table tr[data-step="{key}"] td[data-count="{column}"]')


def test_a_marketer_builds_activates_and_watches_a_contact_flow_through(
    browser: Browser,
    quiet_server: str,
    db: Session,
    smtp_mailer: tuple[Mailer, Behaviour],
) -> None:
    mailer, sink = smtp_mailer
    user = make_user(db, role="marketer")
    make_template(db, name="Methodology guide")
    lena = make_contact(db, email="lena@brandt.example", first_name="Lena")
    db.commit()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, quiet_server, user.email, "/sequences")

    expect(page.get_by_text("No sequences yet")).to_be_visible()
    page.get_by_role("link", name="New sequence").first.click()
    expect(page).to_have_url(f"{quiet_server}/sequences/new")
    page.wait_for_load_state("load")
    page.get_by_label("Name").fill("Legal — compliance nurture")

    # E-mail, goal, branch; then the branch is dragged above the goal.
    panel = _add(page, "steps", "email")
    # A new e-mail step asks for its template rather than picking one.
    expect(panel.get_by_label("Template")).to_have_value("")
    panel.get_by_label("Template").select_option(label="Methodology guide")
    expect(panel.get_by_label("Template")).to_have_value(re.compile(r"\d+"))
    panel.get_by_role("button", name="Preview e-mail").click()
    expect(panel.frame_locator("iframe").get_by_text("Hello Lena")).to_be_visible()
    _add(page, "steps", "goal")
    panel = _add(page, "steps", "branch")
    panel.get_by_label("If the contact…").select_option("opened")
    expect(panel.get_by_label("E-mail step")).to_have_value("email-1")
    _card(page, "branch-1").locator(".seq-card-head").drag_to(_card(page, "goal-1"))
    cards = page.locator('[data-list-path="steps"] > .seq-card')
    expect(cards).to_have_count(3)
    expect(cards.nth(1)).to_have_attribute("data-key", "branch-1")
    expect(cards.nth(2)).to_have_attribute("data-key", "goal-1")

    # Yes: a call task. The No arm stays empty: the draft is saved, activation is refused
    # with the reason, and the builder now edits the stored draft.
    panel = _add(page, "steps[1].then", "task")
    panel.get_by_label("Kind").select_option("call")
    panel.get_by_label("Instructions").fill("Call {{ contact.first_name }} about the guide.")
    page.get_by_role("button", name="Save and activate").click()
    expect(page.locator("#draft-notice")).to_have_text(
        "Saved as a draft, but not activated: it has 1 problem; fix it before activating."
    )
    empty_arm = page.locator('[data-path="steps[1].else"] > .seq-error')
    expect(empty_arm).to_have_text("Step 2 (branch): the 'no' path has no steps")
    draft_id, status = db.execute(select(Sequence.id, Sequence.status)).one()
    db.rollback()  # read no further from this snapshot: the page changes the sequence
    assert status == "draft"
    expect(page.locator("#sequence-form")).to_have_attribute(
        "action", f"/sequences/{draft_id}/edit"
    )
    page.screenshot(path=str(SCREENSHOTS / "sequence-builder-refused.png"), full_page=True)

    # No: wait two days. Then activation goes through.
    panel = _add(page, "steps[1].else", "wait")
    days = panel.get_by_label("Duration days")
    days.fill("2")
    expect(_card(page, "wait-1")).to_contain_text("2 days")
    page.screenshot(path=str(SCREENSHOTS / "sequence-builder.png"), full_page=True)
    page.get_by_role("button", name="Save and activate").click()
    expect(page.locator("#sequence-status")).to_have_text("Active")
    expect(page.get_by_text("The sequence is active")).to_be_visible()

    # Enrol Lena, found through the contact search. The status shows as soon as the HTML
    # arrives; the search listens only once htmx has run, so typing waits for the load
    # (on a busy machine the typing otherwise came first and no search was sent).
    page.wait_for_load_state("load")
    page.get_by_label("Or find contacts").fill("lena")
    page.get_by_role("button", name="+ Lena").click()
    expect(page.get_by_label("E-mail addresses")).to_have_value("lena@brandt.example")
    page.get_by_role("button", name="Enrol", exact=True).click()
    expect(page.locator("#enrol-report")).to_contain_text("1 enrolled")
    expect(_funnel_cell(page, "email-1", "waiting")).to_have_text("1")

    # The engine sends the e-mail over SMTP; Lena opens it; the branch sends her to the call.
    sequence_id = db.scalars(select(Sequence.id)).one()
    enrolment_id = db.scalars(
        select(Enrolment.id).where(Enrolment.sequence_id == sequence_id)
    ).one()
    now = utcnow() + timedelta(seconds=1)
    sent = run_step(db, enrolment_id, "email-1", now=now, mailer=mailer)
    assert sent.verdict is Verdict.ADVANCED
    assert [r.rcpt_tos for r in sink.received] == [["lena@brandt.example"]]
    detail = f"{quiet_server}/sequences/{sequence_id}"
    page.goto(detail)
    expect(_funnel_cell(page, "email-1", "waiting")).to_have_text("0")
    expect(_funnel_cell(page, "branch-1", "waiting")).to_have_text("1")

    message_id = db.scalar(
        select(EmailMessage.id).where(
            EmailMessage.idempotency_key == effect_key(enrolment_id, "email-1")
        )
    )
    ingest(
        db,
        [(0, EventInput("email.opened", now, {"message_id": message_id}, contact_id=lena.id))],
        source="test",
    )
    db.commit()
    results = drive(db, enrolment_id, now + timedelta(minutes=1), mailer)
    assert [r.outcome for r in results] == ["then", "created", "goal"]

    page.goto(detail)
    expect(_funnel_cell(page, "branch-1", "reached")).to_have_text("1")
    expect(_funnel_cell(page, "task-1", "reached")).to_have_text("1")
    expect(_funnel_cell(page, "wait-1", "reached")).to_have_text("0")
    expect(_funnel_cell(page, "goal-1", "reached")).to_have_text("1")
    expect(_funnel_cell(page, "goal-1", "converted")).to_contain_text("1")
    expect(page.locator("#stat-goals")).to_have_text("1")
    expect(page.locator('#funnel-table tr[data-step="branch-1"]')).to_contain_text("then 1")
    expect(page.locator("#funnel-chart")).to_be_visible()
    preview = page.frame_locator("#preview-result iframe")
    expect(preview.get_by_text("Hello Lena")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "sequence-funnel.png"), full_page=True)
    assert len(sink.received) == 1  # one e-mail step, one message
    assert errors == []
    context.close()


def test_settings_and_split_paths_are_built_in_the_page_and_checked_by_the_server(
    browser: Browser, live_server: str, db: Session
) -> None:
    user = make_user(db, role="marketer")
    make_template(db, name="Methodology guide")
    segment = changes.create(
        db,
        actor="test",
        user_id=None,
        name="Law firms, engaged",
        kind="static",
        rule=None,
        description=None,
    )
    db.commit()
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, live_server, user.email, "/sequences/new")
    page.get_by_label("Name").fill("A/B on the first touch")

    panel = _add(page, "steps", "split")
    panel.get_by_label("Path A (%)").fill("70")
    panel.get_by_label("Path B (%)").fill("30")
    _add(page, "steps[0].paths[0].steps", "email").get_by_label("Template").select_option(
        label="Methodology guide"
    )
    _add(page, "steps[0].paths[1].steps", "task")
    _add(page, "steps", "goal")
    arms = _card(page, "split-1").locator(".seq-arm-label")
    expect(arms).to_have_text(["Path A · 70%", "Path B · 30%"])

    settings = page.locator("#settings")
    settings.get_by_role("button", name="+ Trigger").click()
    expect(settings.get_by_label("Segment")).to_have_value(str(segment.id))
    settings.get_by_role("button", name="+ Goal").click()
    settings.get_by_label("Goal event").fill("meeting.booked")
    settings.locator('[data-path="send_window"] input[type="checkbox"]').first.check()
    settings.get_by_label("Send window start").fill("18:00")
    settings.get_by_label("Send window end").fill("09:00")
    page.get_by_role("button", name="Save draft").click()

    # Saved with its problem, which is marked where it is.
    expect(page.locator("#draft-notice")).to_have_text(
        "Saved as a draft with 1 problem; fix it before activating."
    )
    window_error = page.locator('[data-path="send_window"] > .seq-error')
    expect(window_error).to_have_text("Send window: start must come before end (same day)")
    half_done = db.scalars(select(Sequence.id)).one()
    db.rollback()  # read no further from this snapshot: the page changes the sequence
    expect(page).to_have_url(f"{live_server}/sequences/{half_done}/edit?saved=1")
    page.locator("#settings").get_by_label("Send window start").fill("08:30")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#sequence-status")).to_have_text("Draft")

    sequence = db.scalars(select(Sequence)).one()
    stored = db.scalars(
        select(SequenceVersion.definition).where(SequenceVersion.id == sequence.current_version_id)
    ).one()
    assert [p["percent"] for p in stored["steps"][0]["paths"]] == [70, 30]
    assert stored["triggers"] == [{"event": "segment.entered", "segment_id": segment.id}]
    assert stored["goals"] == [{"event": "meeting.booked"}]
    assert stored["send_window"]["start"] == "08:30"
    assert stored["send_window"]["end"] == "09:00"
    assert errors == []
    context.close()


def test_a_stored_half_done_draft_opens_in_the_builder_with_its_problems_marked(
    browser: Browser, live_server: str, db: Session
) -> None:
    user = make_user(db, role="marketer")
    half_done = {
        "steps": [
            {"key": "intro", "type": "email"},
            {"key": "check", "type": "branch", "then": [], "else": None},
            {"key": "ab", "type": "split", "paths": [{"percent": 60}]},
            {"key": "call", "type": "task"},
            {"key": "pause", "type": "wait"},
        ],
        "send_window": {"start": "9"},
    }
    sequence = versions.create_sequence(db, name="Half done", steps_definition=half_done)
    db.commit()
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, live_server, user.email, f"/sequences/{sequence.id}/edit")

    expect(page.locator("#draft-notice")).to_contain_text("This draft has")
    expect(_card(page, "intro").locator(":scope > .seq-card-summary")).to_have_text(
        "no template chosen"
    )
    expect(_card(page, "intro").locator(":scope > .seq-error")).to_contain_text("choose a template")
    expect(page.locator('[data-path="steps[1].then"] > .seq-error')).to_have_text(
        "Step 2 (branch): the 'yes' path has no steps"
    )
    for key in ("intro", "check", "ab", "call", "pause"):
        _card(page, key).locator(".seq-card-head").click()
        expect(page.locator("#panel-body .seq-panel-type")).to_be_visible()
    page.goto(f"{live_server}/sequences/{sequence.id}")
    expect(page.locator("#draft-problems")).to_contain_text("fix them in the editor")
    assert errors == []
    context.close()
