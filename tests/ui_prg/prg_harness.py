"""The Post/Redirect/Get harness shared by the case modules: the world every case starts
from, what a case is, and the check itself (post, expect 303, follow, reload, no 4xx)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from campaigns.sequences import versions
from nurture.models import User
from nurture.web.ui import ui_router
from segments import lists, store
from tests.email.conftest import make_template
from tests.factories import make_contact, make_user
from tests.ui.helpers import HTML, Client, csrf_token, login, post_form
from tests.webhooks.conftest import Receiver

# A case's data under this key is sent as a multipart file upload.
FILE = "file"
# Long enough for an import or a model fit on a loaded machine; a hang still fails.
DRAIN_TIMEOUT_MS = 60_000


@dataclass
class World:
    admin: User
    other: User
    contact_id: int
    segment_id: int
    template_id: int
    sequence_id: int
    # A webhook endpoint on loopback, for the forms that send to one.
    receiver: Receiver


def build_world(db: Session, receiver: Receiver) -> World:
    """An admin and a sales rep, a contact in a static segment, a template and an active
    sequence that mails it."""
    admin = make_user(db, role="admin")
    other = make_user(db, role="sales")
    contact = make_contact(db, email="lena@brandt.example", first_name="Lena")
    segment = store.create_segment(db, name="Legal leads", kind="static")
    lists.add_members(db, segment.id, [contact.id])
    template_id = make_template(db)
    flow = {
        "steps": [
            {"key": "intro", "type": "email", "template_id": template_id},
            {"key": "won", "type": "goal"},
        ],
        "goals": [{"event": "meeting.booked"}],
        "triggers": [],
    }
    sequence = versions.create_sequence(db, name="Legal nurture", steps_definition=flow)
    versions.activate(db, sequence.id)
    db.commit()
    return World(admin, other, contact.id, segment.id, template_id, sequence.id, receiver)


# Builds what the form acts on (through the domain or another form) and answers the
# address to post to and the form's fields.
Case = Callable[[Client, Session, World], tuple[str, dict[str, Any]]]


def fixed(url: str, data: dict[str, Any] | None = None) -> Case:
    return lambda client, db, w: (url, data or {})


def ui_post_routes() -> set[str]:
    return {
        route.path
        for route in ui_router.routes
        for handler in getattr(route, "route_handlers", ())
        if "POST" in (handler.http_methods or ())
    }


def drain(client: Client, queues: Iterable[str]) -> None:
    """Wait until the app's in-process worker has run everything queued on `queues`;
    a message that failed for good fails the test."""
    broker = client.app.state.runtime.broker
    for queue in queues:
        broker.join(queue, timeout=DRAIN_TIMEOUT_MS, fail_fast=True)


def check_post_redirect_get(
    route: str,
    case: Case,
    client: Client,
    db: Session,
    world: World,
    *,
    queues: Iterable[str] = (),
) -> None:
    """Post the case's form as an admin, expect a 303 to a page of the app, follow it and
    reload what the browser then shows: neither may answer 4xx or 5xx.

    `queues` are the background queues the post hands work to; they are drained before
    the redirect is followed, so the page shows the finished work and nothing still runs
    when the test ends."""
    login(client, world.admin)
    url, data = case(client, db, world)
    db.commit()

    if FILE in data:
        response = client.post(
            url,
            files={FILE: data[FILE]},
            data={"_csrf_token": csrf_token(client)},
            headers=HTML,
            follow_redirects=False,
        )
    else:
        response = post_form(client, url, data)

    assert response.status_code == 303, f"{route} answered {response.status_code}, not a redirect"
    drain(client, queues)
    location = response.headers["location"]
    assert location.startswith("/"), location
    shown = client.get(location, headers=HTML)  # the redirect, followed
    assert shown.status_code < 400, f"{route} led to {location}: {shown.status_code}"
    final = str(shown.url)
    reloaded = client.get(final, headers=HTML)  # the browser's reload of what it shows
    assert reloaded.status_code < 400, f"reloading {final} answered {reloaded.status_code}"
