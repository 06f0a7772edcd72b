"""In Chromium: a rep signs in, sees the task that is due, books the meeting with one click."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.events import ingest_raw
from nurture.models import Event, Task
from tests.browser.signin import sign_in
from tests.factories import make_contact, make_task, make_user

SCREENSHOTS = "/tmp/nurture-browser"
pytestmark = pytest.mark.browser


def _seed(db: Session) -> tuple[str, int]:
    rep = make_user(db, role="sales")
    contact = make_contact(
        db,
        first_name="Lena",
        last_name="Meyer",
        title="General Counsel",
        company={"name": "Brandt & Partner", "industry": "legal", "country": "DE"},
        owner_id=rep.id,
    )
    now = datetime.now(UTC)
    ingest_raw(
        db,
        [
            {
                "type": "email.clicked",
                "contact_id": contact.id,
                "occurred_at": (now - timedelta(days=2)).isoformat(),
                "properties": {"url": "https://example.com/insights/dsar-playbook"},
            }
        ],
        source="test",
    )
    task = make_task(
        db,
        contact,
        kind="linkedin_message",
        assignee_id=rep.id,
        due_at=now - timedelta(hours=3),
        instructions="Send Lena the GDPR audit checklist.",
    )
    db.commit()
    return rep.email, task.id


def test_rep_books_a_meeting_from_the_task_queue(
    browser: Browser, live_server: str, db: Session
) -> None:
    email, task_id = _seed(db)
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    sign_in(page, live_server, email, then="/tasks")

    card = page.locator(f"#task-{task_id}")
    expect(card).to_contain_text("Lena Meyer")
    expect(card).to_contain_text("General Counsel at Brandt & Partner")
    expect(card).to_contain_text("Send Lena the GDPR audit checklist.")
    expect(card).to_contain_text("Overdue")
    expect(card.get_by_role("link", name="Find Lena on LinkedIn")).to_be_visible()
    badge = page.locator("#task-badge")
    expect(badge).to_have_attribute("data-count", "1")
    page.screenshot(path=f"{SCREENSHOTS}/task-queue.png", full_page=True)

    card.get_by_role("button", name="Meeting booked").click()

    expect(card.get_by_role("status")).to_contain_text("Outcome recorded: Meeting booked")
    expect(card.get_by_role("button", name="Meeting booked")).to_have_count(0)
    # The nav badge hears about it and counts one task fewer.
    expect(badge).to_have_attribute("data-count", "0")
    expect(badge).to_be_hidden()
    expect(page.locator("#task-summary")).to_contain_text("0 open")
    expect(card).to_contain_text("Task completed · meeting booked")
    page.screenshot(path=f"{SCREENSHOTS}/task-queue-booked.png", full_page=True)

    db.expire_all()
    task = db.get(Task, task_id)
    assert task is not None
    assert task.outcome == "meeting_booked"
    completed = db.scalars(select(Event).where(Event.type == "task.completed")).all()
    assert [e.properties["outcome"] for e in completed] == ["meeting_booked"]

    page.reload()
    expect(page.get_by_text("Nothing due — nice.")).to_be_visible()
    context.close()
