"""The task queue page: whose tasks, in what order, with what context, and one-click outcomes."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.events import ingest_raw
from nurture.models import AuditEntry, Event, Task, User, utcnow
from nurture.web.ui.tasks import PAGE_SIZE
from tests.factories import make_contact, make_task, make_user
from tests.ui.helpers import HTML, Client, csrf_token, login, post_form

CARD = re.compile(r'data-task-id="(\d+)"')
HTMX = {**HTML, "hx-request": "true"}


def _cards(html: str) -> list[int]:
    return [int(i) for i in CARD.findall(html)]


def _rep(client: Client, db: Session, role: str = "sales") -> User:
    user = make_user(db, role=role)
    db.commit()
    login(client, user)
    return user


def _click(client: Client, task_id: int, outcome: str) -> str:
    response = client.post(
        f"/tasks/{task_id}/outcome",
        data={"outcome": outcome},
        headers={**HTMX, "x-csrftoken": csrf_token(client)},
    )
    assert response.status_code == 200, response.text
    return response.text


def test_a_rep_sees_their_own_open_tasks_overdue_first(client: Client, db: Session) -> None:
    rep = _rep(client, db)
    other = make_user(db, role="sales")
    now = utcnow()
    later = make_task(db, make_contact(db), assignee_id=rep.id, due_at=now + timedelta(days=2))
    overdue = make_task(db, make_contact(db), assignee_id=rep.id, due_at=now - timedelta(days=3))
    today = make_task(db, make_contact(db), assignee_id=rep.id, due_at=now - timedelta(minutes=5))
    make_task(db, make_contact(db), assignee_id=other.id, due_at=now - timedelta(days=9))
    make_task(db, make_contact(db), assignee_id=None, due_at=now - timedelta(days=9))
    done = make_task(db, make_contact(db), assignee_id=rep.id, due_at=now - timedelta(days=5))
    done.outcome, done.outcome_at = "done", now
    db.commit()

    page = client.get("/tasks", headers=HTML)

    assert page.status_code == 200
    assert _cards(page.text) == [overdue.id, today.id, later.id]
    assert "<strong>3</strong> open" in page.text
    assert "<strong>2</strong> overdue" in page.text


def test_a_card_shows_the_contact_the_sequence_and_the_latest_five_events(
    client: Client, db: Session
) -> None:
    rep = _rep(client, db)
    owner = make_user(db, role="sales")
    contact = make_contact(
        db,
        first_name="Lena",
        last_name="Meyer",
        title="General Counsel",
        lifecycle_stage="mql",
        owner_id=owner.id,
        company={"name": "Brandt & Partner", "industry": "legal", "country": "DE"},
    )
    now = utcnow()
    ingest_raw(
        db,
        [
            {
                "type": "page.visited",
                "contact_id": contact.id,
                "occurred_at": (now - timedelta(hours=n + 1)).isoformat(),
                "properties": {"path": f"/insights/{n}"},
            }
            for n in range(7)
        ],
        source="test",
    )
    make_task(
        db,
        contact,
        kind="linkedin_message",
        assignee_id=rep.id,
        instructions="Send Lena the GDPR audit checklist",
    )
    db.commit()

    html = client.get("/tasks", headers=HTML).text

    assert "Lena Meyer" in html
    assert "General Counsel at Brandt &amp; Partner · Legal" in html
    assert "MQL" in html
    assert owner.name in html
    assert "Send Lena the GDPR audit checklist" in html
    assert "https://www.linkedin.com/search/results/people/?keywords=Lena+Meyer+Brandt" in html
    assert html.count("Page visited") == 5
    assert "/insights/0" in html
    assert "/insights/5" not in html
    assert "Added by hand" in html


def test_call_tasks_have_no_linkedin_link(client: Client, db: Session) -> None:
    rep = _rep(client, db)
    call = make_task(db, make_contact(db), kind="call", assignee_id=rep.id)
    db.commit()

    page = client.get("/tasks", headers=HTML)

    assert page.status_code == 200
    assert _cards(page.text) == [call.id]
    assert "linkedin.com" not in page.text


def test_clicking_an_outcome_replaces_the_card_and_records_it_once(
    client: Client, db: Session
) -> None:
    rep = _rep(client, db)
    task = make_task(db, make_contact(db), assignee_id=rep.id)
    db.commit()

    card = _click(client, task.id, "meeting_booked")
    again = _click(client, task.id, "meeting_booked")

    assert 'data-outcome="meeting_booked"' in card
    assert "Outcome recorded: <strong>Meeting booked</strong>" in card
    assert 'name="outcome"' not in card
    assert "Outcome recorded" in again
    assert "alert" not in again
    db.expire_all()
    stored = db.get(Task, task.id)
    assert stored is not None
    assert stored.outcome == "meeting_booked"
    assert len(db.scalars(select(Event).where(Event.type == "task.completed")).all()) == 1
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "task.outcome_recorded")).one()
    assert entry.actor == f"user:{rep.id}"
    assert entry.changes["outcome"] == "meeting_booked"


def test_a_different_second_outcome_keeps_the_first_and_says_why(
    client: Client, db: Session
) -> None:
    rep = _rep(client, db)
    task = make_task(db, make_contact(db), assignee_id=rep.id)
    db.commit()
    _click(client, task.id, "no_answer")

    card = _click(client, task.id, "not_interested")
    plain = post_form(client, f"/tasks/{task.id}/outcome", {"outcome": "done"})

    assert 'role="alert"' in card
    assert "already marked &#39;no answer&#39;" in card
    assert 'data-outcome="no_answer"' in card
    assert plain.status_code == 409
    assert "already marked" in plain.text
    db.expire_all()
    stored = db.get(Task, task.id)
    assert stored is not None
    assert stored.outcome == "no_answer"


def test_a_form_post_without_javascript_records_and_goes_back_to_the_queue(
    client: Client, db: Session
) -> None:
    rep = _rep(client, db)
    task = make_task(db, make_contact(db), assignee_id=rep.id)
    db.commit()
    response = post_form(client, f"/tasks/{task.id}/outcome", {"outcome": "done"})
    assert response.status_code == 303
    assert response.headers["location"] == "/tasks"
    assert _cards(client.get("/tasks", headers=HTML).text) == []
    assert _cards(client.get("/tasks?status=done", headers=HTML).text) == [task.id]


def test_an_unknown_outcome_is_refused_naming_the_field(client: Client, db: Session) -> None:
    rep = _rep(client, db)
    task = make_task(db, make_contact(db), assignee_id=rep.id)
    db.commit()
    response = post_form(client, f"/tasks/{task.id}/outcome", {"outcome": "maybe"})
    assert response.status_code == 422
    assert "outcome" in response.text
    missing = post_form(client, "/tasks/999999/outcome", {"outcome": "done"})
    assert missing.status_code == 404


def test_a_rep_cannot_record_or_list_another_reps_tasks(client: Client, db: Session) -> None:
    _rep(client, db)
    other = make_user(db, role="sales")
    task = make_task(db, make_contact(db), assignee_id=other.id)
    db.commit()
    assert post_form(client, f"/tasks/{task.id}/outcome", {"outcome": "done"}).status_code == 403
    assert client.get("/tasks?who=all", headers=HTML).status_code == 403
    db.expire_all()
    stored = db.get(Task, task.id)
    assert stored is not None
    assert stored.outcome is None


def test_marketers_switch_to_everyones_or_unassigned_tasks_and_filter_by_kind(
    client: Client, db: Session
) -> None:
    _rep(client, db, role="marketer")
    rep = make_user(db, role="sales")
    now = utcnow()
    call = make_task(db, make_contact(db), assignee_id=rep.id, due_at=now - timedelta(hours=2))
    loose = make_task(
        db, make_contact(db), kind="linkedin_connect", due_at=now - timedelta(hours=1)
    )
    db.commit()

    def listed(**params: str) -> list[int]:
        return _cards(client.get("/tasks", params=params, headers=HTML).text)

    assert listed() == []
    assert listed(who="all") == [call.id, loose.id]
    assert listed(who="unassigned") == [loose.id]
    assert listed(who="all", kind="call") == [call.id]
    assert "Nobody yet" in client.get("/tasks?who=unassigned", headers=HTML).text
    bad = client.get("/tasks?who=everybody", headers=HTML)
    assert bad.status_code == 422
    assert "who" in bad.text
    assert client.get("/tasks?kind=fax", headers=HTML).status_code == 422


def test_an_empty_queue_says_nothing_is_due(client: Client, db: Session) -> None:
    _rep(client, db)
    html = client.get("/tasks", headers=HTML).text
    assert "Nothing due — nice." in html


def test_load_more_pages_through_every_task_once(client: Client, db: Session) -> None:
    rep = _rep(client, db)
    now = utcnow()
    # Same due time for some: the cursor must break ties by id.
    made = [
        make_task(db, make_contact(db), assignee_id=rep.id, due_at=now + timedelta(hours=n // 3))
        for n in range(PAGE_SIZE + 7)
    ]
    db.commit()
    first = client.get("/tasks", headers=HTML).text
    seen = _cards(first)
    cursor = re.search(r'hx-get="/tasks/rows\?([^"]+)"', first)
    assert cursor is not None
    more = client.get("/tasks/rows?" + cursor.group(1).replace("&amp;", "&"), headers=HTMX)
    seen += _cards(more.text)
    assert seen == [t.id for t in made]
    assert "Load more" not in more.text
    assert client.get("/tasks?cursor=nonsense", headers=HTML).status_code == 422


def test_the_nav_badge_counts_tasks_due_today_or_overdue(client: Client, db: Session) -> None:
    rep = _rep(client, db)
    now = utcnow()
    task = make_task(db, make_contact(db), assignee_id=rep.id, due_at=now - timedelta(hours=1))
    make_task(db, make_contact(db), assignee_id=rep.id, due_at=now + timedelta(days=3))
    db.commit()

    page = client.get("/", headers=HTML).text
    badge = client.get("/tasks/badge", headers=HTMX).text

    assert 'hx-get="/tasks/badge"' in page
    assert 'data-count="1"' in badge
    assert "hidden" not in badge.split(">")[0]
    _click(client, task.id, "done")
    empty = client.get("/tasks/badge", headers=HTMX).text
    assert 'data-count="0"' in empty
    assert "hidden" in empty.split(">")[0]


def test_a_task_id_beyond_any_stored_id_is_a_client_error(client: Client, db: Session) -> None:
    _rep(client, db)
    response = post_form(client, f"/tasks/{2**64}/outcome", {"outcome": "done"})
    assert response.status_code in (400, 404)
