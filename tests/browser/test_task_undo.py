"""In Chromium: a rep records the wrong outcome, undoes it from the card, records the right one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.models import Event, Task
from tests.browser.signin import sign_in
from tests.factories import make_contact, make_task, make_user

pytestmark = pytest.mark.browser


def test_rep_undoes_a_mistaken_outcome_and_records_the_right_one(
    browser: Browser, live_server: str, db: Session
) -> None:
    rep = make_user(db, role="sales")
    contact = make_contact(db, first_name="Lena", last_name="Meyer", owner_id=rep.id)
    due = datetime.now(UTC) - timedelta(hours=1)
    task_id = make_task(db, contact, kind="call", assignee_id=rep.id, due_at=due).id
    db.commit()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, live_server, rep.email, then="/tasks")
    card = page.locator(f"#task-{task_id}")
    badge = page.locator("#task-badge")
    # What the page asked for and heard, for the message should the badge not follow: it
    # did not once in CI (badge still 1 after 5 s), and no rerun has shown why since.
    heard: list[str] = []
    page.on("response", lambda r: heard.append(f"{r.request.method} {r.url} {r.status}"))
    page.on("console", lambda m: heard.append(f"console {m.type}: {m.text}"))

    card.get_by_role("button", name="Not interested").click()
    expect(card).to_contain_text("Outcome recorded: Not interested")
    try:
        expect(badge).to_have_attribute("data-count", "0")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\nthe page heard: {heard}") from None
    card.get_by_role("button", name="Undo").click()

    expect(card).to_contain_text("Outcome undone. The task is open again.")
    expect(card.get_by_role("button", name="Undo")).to_have_count(0)
    expect(badge).to_have_attribute("data-count", "1")
    card.get_by_role("button", name="Meeting booked").click()
    expect(card).to_contain_text("Outcome recorded: Meeting booked")

    db.expire_all()
    task = db.get(Task, task_id)
    assert task is not None
    assert task.outcome == "meeting_booked"
    completed = db.scalars(select(Event).where(Event.type == "task.completed")).all()
    assert [e.properties["outcome"] for e in completed] == ["meeting_booked"]
    context.close()
