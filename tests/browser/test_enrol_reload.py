"""In Chromium: a marketer previews a segment on the sequence page, enrols it, then
reloads the page (the reload used to answer 405), and enrols a pasted address and
reloads again; nobody is enrolled twice."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Response, expect
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.sequences import versions
from nurture.models import Enrolment
from segments import lists, store
from tests.browser.signin import sign_in
from tests.email.conftest import make_template
from tests.factories import make_contact, make_user

SCREENSHOTS = "/tmp/nurture-browser"
pytestmark = pytest.mark.browser


def _seed(db: Session) -> tuple[str, int]:
    marketer = make_user(db, role="marketer")
    flow: dict[str, Any] = {
        "steps": [
            {"key": "intro", "type": "email", "template_id": make_template(db)},
            {"key": "won", "type": "goal"},
        ],
        "goals": [{"event": "meeting.booked"}],
        "triggers": [],
    }
    sequence = versions.create_sequence(db, name="Legal nurture", steps_definition=flow)
    versions.activate(db, sequence.id)
    segment = store.create_segment(db, name="Legal leads", kind="static")
    members = [
        make_contact(db, email="lena@brandt.example", first_name="Lena"),
        make_contact(db, email="max@brandt.example", first_name="Max"),
        make_contact(db, email="ops@brandt.example", lifecycle_stage="customer"),
    ]
    lists.add_members(db, segment.id, [c.id for c in members])
    make_contact(db, email="ada@firm.example", first_name="Ada")
    db.commit()
    return marketer.email, sequence.id


def _enrolments(db: Session) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(Enrolment)) or 0


def test_reloading_after_enrolling_shows_the_page_again(
    browser: Browser, live_server: str, db: Session
) -> None:
    email, sequence_id = _seed(db)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, live_server, email, then=f"/sequences/{sequence_id}")

    page.get_by_label("Segment").select_option(label="Legal leads (3 members)")
    page.get_by_role("button", name="See who would enter").click()
    preview = page.locator("#segment-preview")
    expect(preview).to_contain_text("Of 3 people in “Legal leads”, 2 will enter and 1 will be")
    expect(preview).to_contain_text("1: customers (this sequence leaves customers out)")
    assert _enrolments(db) == 0
    page.get_by_role("button", name="Enrol 2 from “Legal leads”").click()
    expect(page.locator("#enrol-report")).to_contain_text("2 enrolled from “Legal leads”")
    assert "/enrol" not in page.url  # the address bar shows the sequence's page
    page.screenshot(path=f"{SCREENSHOTS}/enrol-segment.png", full_page=True)

    reloaded: Response | None = page.reload()

    assert reloaded is not None
    assert reloaded.status == 200
    assert reloaded.request.method == "GET"
    expect(page.locator("#enrol-report")).to_contain_text("2 enrolled from “Legal leads”")
    expect(page.locator("#stat-enrolled")).to_have_text("2")
    assert _enrolments(db) == 2

    page.get_by_label("E-mail addresses").fill("ada@firm.example")
    page.get_by_role("button", name="Enrol", exact=True).click()
    expect(page.locator("#enrol-report")).to_contain_text("ada@firm.example: enrolled")
    reloaded = page.reload()
    assert reloaded is not None
    assert reloaded.status == 200
    expect(page.locator("#stat-enrolled")).to_have_text("3")
    assert _enrolments(db) == 3
    context.close()
