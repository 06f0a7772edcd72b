"""The broadcast pages through HTTP: the empty list, the form with its problems placed
at their inputs, the small-test warning and its override, a pasted list, schedule,
progress, cancel, Russian words and roles."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.models import Broadcast, BroadcastRecipient, ExperimentVariant
from tests.email.conftest import make_template
from tests.factories import make_contact, make_user
from tests.ui.helpers import HTML, Client, login, post_form

RUSSIAN = {**HTML, "accept-language": "ru-RU,ru;q=0.9,en;q=0.5"}


def _signed_in(client: Client, db: Session, role: str = "marketer") -> None:
    user = make_user(db, role=role)
    db.commit()
    login(client, user)


def _field_error(html: str, name: str) -> str | None:
    found = re.search(rf'<p class="field-error" id="err-{re.escape(name)}">([^<]*)</p>', html)
    return found.group(1) if found else None


def test_the_empty_list_invites_a_first_broadcast_in_the_browsers_language(
    client: Client, db: Session
) -> None:
    _signed_in(client, db)
    page = client.get("/broadcasts", headers=HTML)
    assert page.status_code == 200
    assert "No broadcasts yet" in page.text
    assert 'href="/broadcasts" aria-current="page"' in page.text
    russian = client.get("/broadcasts", headers=RUSSIAN)
    assert "Рассылок пока нет" in russian.text
    assert "Новая рассылка" in russian.text


def test_problems_show_at_their_inputs_and_nothing_is_saved(client: Client, db: Session) -> None:
    _signed_in(client, db)
    template_id = make_template(db)
    known = make_contact(db, email="lena@brandt.example")
    db.commit()
    answer = post_form(
        client,
        "/broadcasts/new",
        {
            "name": "",
            "template_id": str(template_id),
            "audience": "list",
            "emails": f"{known.email}\nnobody@nowhere.example",
            "when": "local",
            "local_time": "09:00",
        },
    )
    assert answer.status_code == 422
    assert _field_error(answer.text, "emails") == "not contacts: nobody@nowhere.example"
    assert "lena@brandt.example" in answer.text  # what was typed stays

    answer = post_form(
        client,
        "/broadcasts/new",
        {
            "name": "",
            "template_id": str(template_id),
            "audience": "list",
            "emails": known.email,
            "when": "now",
            "quiet_start": "21:00",
            "quiet_end": "21:00",
            "test": "on",
            "test_percent": "70",
            "test_hours": "4",
            "v-b-subject": "",
        },
    )
    assert answer.status_code == 422
    assert _field_error(answer.text, "name") == "must not be empty"
    assert _field_error(answer.text, "test_percent") == "must be a whole percent from 1 to 50"
    assert _field_error(answer.text, "variants") == "a test needs two variants or more"
    assert _field_error(answer.text, "quiet_start") == "start and end must differ"
    assert db.scalars(select(Broadcast)).first() is None


def test_a_small_test_warns_with_the_numbers_then_goes_when_accepted(
    client: Client, db: Session
) -> None:
    _signed_in(client, db)
    template_id = make_template(db)
    emails = [str(make_contact(db).email) for _ in range(6)]
    db.commit()
    form = {
        "name": "Spring offer",
        "template_id": str(template_id),
        "audience": "list",
        "emails": ", ".join(emails),
        "when": "now",
        "cap_policy": "override",
        "test": "on",
        "test_percent": "50",
        "test_hours": "4",
        "metric": "clicks",
        "default_variant": "b",
        "v-b-subject": "Spring is here",
        "v-b-from_name": "Lena at Brandt",
        "v-c-preheader": "Three ideas",
        "action": "draft",
    }
    warned = post_form(client, "/broadcasts/new", form)
    assert warned.status_code == 422
    assert "The test group is too small: 1 recipients per variant" in warned.text
    assert 'name="accept_small_test"' in warned.text
    assert db.scalars(select(Broadcast)).first() is None

    saved = post_form(client, "/broadcasts/new", {**form, "accept_small_test": "on"})
    assert saved.status_code == 303, saved.text
    broadcast = db.scalars(select(Broadcast)).one()
    assert saved.headers["location"] == f"/broadcasts/{broadcast.id}?saved=1"
    assert (broadcast.status, broadcast.cap_policy, broadcast.test_percent) == (
        "draft",
        "override",
        50,
    )
    assert len(broadcast.contact_ids["ids"]) == 6  # type: ignore[index]
    variants = db.scalars(select(ExperimentVariant).order_by(ExperimentVariant.key)).all()
    assert [(v.key, v.content) for v in variants] == [
        ("a", {}),
        ("b", {"subject": "Spring is here", "from_name": "Lena at Brandt"}),
        ("c", {"preheader": "Three ideas"}),
    ]

    # The edit form shows what was stored.
    edit = client.get(f"/broadcasts/{broadcast.id}/edit", headers=HTML)
    assert 'value="Spring is here"' in edit.text
    assert 'value="Three ideas"' in edit.text
    assert emails[0] in edit.text


def test_a_broadcast_is_scheduled_shows_its_progress_and_is_cancelled(
    client: Client, db: Session
) -> None:
    _signed_in(client, db)
    template_id = make_template(db)
    contacts = [make_contact(db) for _ in range(3)]
    db.commit()
    saved = post_form(
        client,
        "/broadcasts/new",
        {
            "name": "Webinar reminder",
            "template_id": str(template_id),
            "audience": "list",
            "emails": "\n".join(c.email or "" for c in contacts),
            "when": "now",
            "action": "schedule",
        },
    )
    assert saved.status_code == 303, saved.text
    broadcast_id = db.scalars(select(Broadcast.id)).one()
    assert saved.headers["location"] == f"/broadcasts/{broadcast_id}?scheduled=1"
    db.rollback()
    assert db.get(Broadcast, broadcast_id).status == "scheduled"  # type: ignore[union-attr]

    # Recipients as the audience freeze writes them, one already sent.
    for contact, state in zip(contacts, ("sent", "pending", "pending"), strict=True):
        db.add(BroadcastRecipient(broadcast_id=broadcast_id, contact_id=contact.id, state=state))
    db.commit()
    listed = client.get("/broadcasts", headers=HTML)
    assert "1 of 3 sent" in listed.text
    assert 'hx-get="/broadcasts/rows"' in listed.text  # it moves, so the list polls
    rows = client.get("/broadcasts/rows", headers={**HTML, "HX-Request": "true"})
    assert rows.text.lstrip().startswith('<tbody id="broadcast-rows"')
    detail = client.get(f"/broadcasts/{broadcast_id}", headers=HTML)
    assert f'hx-get="/broadcasts/{broadcast_id}/progress?shown=scheduled"' in detail.text
    assert re.search(r'data-count="pending">2<', detail.text)
    polled = client.get(
        f"/broadcasts/{broadcast_id}/progress?shown=scheduled",
        headers={**HTML, "HX-Request": "true"},
    )
    assert polled.text.lstrip().startswith('<section id="broadcast-progress"')
    # Drawn while a draft: the status moved on, so the whole page is drawn again.
    moved = client.get(
        f"/broadcasts/{broadcast_id}/progress?shown=draft", headers={**HTML, "HX-Request": "true"}
    )
    assert moved.headers["HX-Redirect"] == f"/broadcasts/{broadcast_id}"

    cancelled = post_form(client, f"/broadcasts/{broadcast_id}/cancel")
    assert cancelled.status_code == 303
    db.rollback()
    states = db.scalars(
        select(BroadcastRecipient.state).order_by(BroadcastRecipient.contact_id)
    ).all()
    assert states == ["sent", "cancelled", "cancelled"]
    page = client.get(cancelled.headers["location"], headers=HTML)
    assert "Cancelled: nothing more will be sent." in page.text
    assert "/cancel" not in page.text  # no cancel button on an ended broadcast
    again = post_form(client, f"/broadcasts/{broadcast_id}/cancel")
    assert again.status_code == 409


def test_sales_reps_do_not_see_broadcasts(client: Client, db: Session) -> None:
    _signed_in(client, db, role="sales")
    home = client.get("/", headers=HTML)
    assert 'href="/broadcasts"' not in home.text
    assert client.get("/broadcasts", headers=HTML).status_code == 403
