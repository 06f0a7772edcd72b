"""In Chromium: a marketer writes a broadcast to a segment with a subject-line test on
half of it, is warned that the test group is too small and sends it anyway; the
workers send the test group and then the rest to a real SMTP server, and the page
follows along by itself."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from nurture.config import Settings
from nurture.models import Broadcast, BroadcastRecipient, Contact, Experiment, utcnow
from segments import changes, lists
from tests.broadcasts.helpers import on_smtp
from tests.browser.signin import sign_in
from tests.email.conftest import make_template
from tests.email.smtpd import Behaviour, smtp_server
from tests.factories import make_contact, make_user
from tests.stub_worker import drain, stub_worker
from workers.broadcasts import enqueue_due_broadcasts

SCREENSHOTS = Path("/tmp/nurture-browser")
pytestmark = pytest.mark.browser
NEW_SUBJECT = "Four ideas for your compliance team"
# The test group is drawn by hash at 50 %: with 20 readers it is never empty in practice
# (a chance of one in a million), and far below the plan, so the page warns.
READERS = 20


@pytest.fixture
def quiet_server(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The live server without its own ticks: this test runs the broadcast workers itself."""
    monkeypatch.setenv("NURTURE_TICK_SECONDS", "3600")
    server: str = request.getfixturevalue("live_server")
    return server


@pytest.fixture
def sink() -> Iterator[tuple[int, Behaviour]]:
    """An SMTP server on loopback that keeps what it receives."""
    with smtp_server() as server:
        yield server


def _seed(db: Session) -> str:
    user = make_user(db, role="marketer")
    make_template(db, name="Monthly newsletter")
    readers = changes.create(
        db,
        actor="test",
        user_id=None,
        name="Newsletter readers",
        kind="static",
        rule=None,
        description=None,
    )
    people = [make_contact(db, email=f"reader{n:02}@brandt.example") for n in range(READERS)]
    lists.add_members(db, readers.id, [p.id for p in people])
    db.commit()
    return user.email


def _run_workers(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    with stub_worker(settings, monkeypatch) as stub:
        enqueue_due_broadcasts()
        drain(stub)
        enqueue_due_broadcasts()  # moves the status on once the batch is out
        drain(stub)


def test_a_marketer_creates_tests_and_sends_a_broadcast_and_watches_it_go(
    browser: Browser,
    quiet_server: str,
    db: Session,
    settings: Settings,
    sink: tuple[int, Behaviour],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port, received = sink
    email = _seed(db)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1366, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, quiet_server, email, "/broadcasts")

    expect(page.get_by_text("No broadcasts yet")).to_be_visible()
    page.get_by_role("link", name="New broadcast").first.click()
    expect(page).to_have_url(f"{quiet_server}/broadcasts/new")
    page.locator("#f-name").fill("March newsletter")
    page.locator("#f-template").select_option(label="Monthly newsletter")
    page.get_by_label("A segment").check()
    page.locator("#f-segment").select_option(label="Newsletter readers")
    page.get_by_label("Override it").check()
    page.get_by_label("Test variants on a small group first").check()
    page.get_by_label("Test group (% of the audience)").fill("50")
    page.get_by_label("Pick the winner after (hours)").fill("2")
    page.get_by_label("If no winner is clear, send").select_option("b")
    variant_b = page.locator('fieldset.variant[data-variant="b"]')
    variant_b.get_by_label("Subject").fill(NEW_SUBJECT)
    variant_b.get_by_label("Sender name").fill("Lena at Brandt")
    page.get_by_role("button", name="Save and schedule").click()

    # Twenty readers make about five per variant: far below the plan, so the page says
    # so and offers to send anyway; everything typed is still there.
    expect(page.locator("#form-problems")).to_contain_text("The test group is too small")
    expect(variant_b.get_by_label("Subject")).to_have_value(NEW_SUBJECT)
    page.screenshot(path=str(SCREENSHOTS / "broadcast-small-test.png"), full_page=True)
    page.get_by_label("Send the test anyway").check()
    page.get_by_role("button", name="Save and schedule").click()
    expect(page.locator("#broadcast-note")).to_have_text(
        "Scheduled. Recipients are frozen when it starts."
    )
    broadcast_id = db.scalars(select(Broadcast.id)).one()
    db.rollback()
    expect(page).to_have_url(f"{quiet_server}/broadcasts/{broadcast_id}?scheduled=1")

    # The workers freeze the audience and send the test group; the page, polling,
    # shows it without a reload.
    mail_settings = on_smtp(settings, port)
    _run_workers(mail_settings, monkeypatch)
    in_test = len(received.received)
    assert 0 < in_test < READERS
    assert in_test == db.scalar(
        select(func.count()).where(
            BroadcastRecipient.broadcast_id == broadcast_id, BroadcastRecipient.phase == "test"
        )
    )
    test_row = page.locator('#phase-table tr[data-phase="test"]')
    expect(test_row.locator('td[data-count="sent"]')).to_have_text(str(in_test))
    rest_row = page.locator('#phase-table tr[data-phase="rest"]')
    expect(rest_row.locator('td[data-count="pending"]')).to_have_text(str(READERS - in_test))
    expect(page.locator("#broadcast-progress [data-status]")).to_have_text("Testing")

    # The test time passes; no winner is clear with so few readers, so the default (b)
    # goes to the rest.
    db.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast_id)
        .values(decide_at=utcnow() - timedelta(seconds=1))
    )
    db.commit()
    _run_workers(mail_settings, monkeypatch)
    expect(page.locator("#broadcast-progress [data-status]")).to_have_text("Sent")
    # The page was drawn again for the new status: no more edit or cancel.
    expect(page.locator(".page-head [data-status]")).to_have_text("Sent")
    expect(page.get_by_role("button", name="Cancel broadcast")).to_have_count(0)
    expect(page.locator("#rest-variant")).to_have_text("The rest get variant b")
    expect(page.locator('[data-testid="sent-of"]').first).to_have_text(
        f"{READERS} of {READERS} sent"
    )
    experiment_id = db.scalar(select(Experiment.id).where(Experiment.broadcast_id == broadcast_id))
    expect(page.locator("#results-link")).to_have_attribute("href", f"/experiments/{experiment_id}")
    page.screenshot(path=str(SCREENSHOTS / "broadcast-sent.png"), full_page=True)

    addresses = sorted(r.rcpt_tos[0] for r in received.received)
    assert addresses == [f"reader{n:02}@brandt.example" for n in range(READERS)]
    variants = {
        str(email): (phase, key)
        for email, phase, key in db.execute(
            select(Contact.email, BroadcastRecipient.phase, BroadcastRecipient.variant_key)
            .join(Contact, Contact.id == BroadcastRecipient.contact_id)
            .where(BroadcastRecipient.broadcast_id == broadcast_id)
        )
    }
    assert {key for phase, key in variants.values() if phase == "rest"} == {"b"}
    # Each reader got the subject of their variant: b's own, or the template's.
    for message in received.received:
        subject = str(message.parsed()["Subject"])
        _, key = variants[message.rcpt_tos[0]]
        assert (subject == NEW_SUBJECT) == (key == "b"), (key, subject)

    # The test's results are one click away.
    page.locator("#results-link").click()
    expect(page).to_have_url(f"{quiet_server}/experiments/{experiment_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Broadcast: March newsletter")

    # The list shows it finished, with no more polling.
    page.goto(f"{quiet_server}/broadcasts")
    row = page.locator(f'tr[data-broadcast="{broadcast_id}"]')
    expect(row).to_contain_text(f"{READERS} of {READERS} sent")
    expect(page.locator("#broadcast-rows")).not_to_have_attribute("hx-trigger", "every 3s")
    assert errors == []
    context.close()
