"""Post/Redirect/Get: every UI form that changes data answers with a redirect (303) to a
page, and reloading that page (a GET of the address the browser then shows) answers
without a 4xx.

The routes are read from the app, not listed by hand: a new UI POST route without a
case here fails `test_every_ui_post_route_has_a_case`. htmx fragment posts are exempt
(the page's address does not change), and so are the forms named in PENDING, each with
why it does not redirect yet.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.sequences import versions
from campaigns.sequences.enrol import enrol_contacts
from nurture.models import (
    BehaviourRule,
    FitRule,
    RoutingRule,
    SalesTeam,
    User,
    WebhookSubscription,
    WebinarRegistration,
    utcnow,
)
from nurture.web.ui import ui_router
from segments import lists, store
from tests.email.conftest import BODY, make_template
from tests.factories import PASSWORD, make_api_key, make_contact, make_user
from tests.inbox.helpers import make_handoff
from tests.ui.helpers import HTML, Client, csrf_token, login, post_form
from tests.web_email.editor_forms import editor_form
from tests.webinars.helpers import make_webinar

# Posts answered by an htmx fragment (or JSON for a script): the page's address stays.
FRAGMENTS = {
    "/segments/preview": "the rule builder's live count (JSON)",
    "/content/{template_id:int}/preview": "the editor's live preview (htmx)",
    "/content/{template_id:int}/test-send": "the editor's test send note (htmx)",
    "/tasks/{task_id:int}/outcome": "a task card's outcome (htmx)",
}
# Routes with no case here yet: each is a gap in this test's cover, not an exemption
# from Post/Redirect/Get. Write its case and take it off the list.
_NO_CASE_YET = "no case written yet"
PENDING: dict[str, str] = {
    route: _NO_CASE_YET
    for route in (
        "/broadcasts/new",
        "/broadcasts/{broadcast_id:int}/cancel",
        "/broadcasts/{broadcast_id:int}/edit",
        "/broadcasts/{broadcast_id:int}/schedule",
        "/content/new",
        "/experiments/{experiment_id:int}/declare",
        "/experiments/{experiment_id:int}/edit",
        "/experiments/{experiment_id:int}/start",
        "/experiments/{experiment_id:int}/stop",
        "/imports/{job_id:int}/start",
        "/reviews/referrals/{referral_id:int}/reward",
        "/reviews/testimonials/{testimonial_id:int}/attach",
        "/reviews/testimonials/{testimonial_id:int}/hide",
        "/reviews/testimonials/{testimonial_id:int}/show",
        "/reviews/testimonials/{testimonial_id:int}/withdraw",
        "/scoring/model/fit",
        "/sequences/{sequence_id:int}/steps/{step_key:str}/experiment",
        "/settings/webhooks/deliveries/{delivery_id:int}/replay",
    )
}


@dataclass
class World:
    admin: User
    other: User
    contact_id: int
    segment_id: int
    template_id: int
    sequence_id: int


@pytest.fixture
def world(db: Session) -> World:
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
    return World(admin, other, contact.id, segment.id, template_id, sequence.id)


Case = Callable[[Client, Session, World], tuple[str, dict[str, Any]]]


def _fixed(url: str, data: dict[str, Any] | None = None) -> Case:
    return lambda client, db, w: (url, data or {})


def _segment(action: str, data: dict[str, Any] | None = None) -> Case:
    return lambda client, db, w: (f"/segments/{w.segment_id}/{action}", data or {})


def _sequence(action: str, data: Callable[[World], dict[str, Any]] | None = None) -> Case:
    return lambda client, db, w: (
        f"/sequences/{w.sequence_id}/{action}",
        data(w) if data else {},
    )


def _flow_body(w: World) -> dict[str, Any]:
    return {
        "name": "Legal nurture",
        "definition": json.dumps(
            {
                "steps": [
                    {"key": "intro", "type": "email", "template_id": w.template_id},
                    {"key": "wait", "type": "wait", "duration": {"days": 2}},
                    {"key": "won", "type": "goal"},
                ],
                "goals": [{"event": "meeting.booked"}],
                "triggers": [],
            }
        ),
        "action": "save",
    }


PRICING = {
    "name": "Clicked a pricing link",
    "event_type": "email.clicked",
    "points": "10",
    "cap_points": "30",
    "cap_days": "30",
    "active": "on",
    "cond-0-name": "url",
    "cond-0-op": "contains",
    "cond-0-value": "pricing",
}
# A case's data under this key is sent as a multipart file upload.
FILE = "file"
FIT = {
    "name": "Legal firms",
    "points": "5",
    "match": "all",
    "cond-0-name": "company.industry",
    "cond-0-op": "equals",
    "cond-0-value": "legal",
}


WEBHOOK = {"url": "https://crm.example.com/hooks", "type:lead.qualified": "1"}


def _webhook(client: Client, db: Session) -> int:
    post_form(client, "/settings/webhooks", WEBHOOK)
    return db.scalars(select(WebhookSubscription.id)).one()


def _behaviour_rule(client: Client, db: Session) -> int:
    post_form(client, "/scoring/behaviour/new", PRICING)
    return db.scalars(select(BehaviourRule.id)).one()


def _fit_rule(client: Client, db: Session) -> int:
    post_form(client, "/scoring/fit/new", FIT)
    return db.scalars(select(FitRule.id)).one()


def _paused(client: Client, db: Session, w: World) -> tuple[str, dict[str, Any]]:
    versions.pause(db, w.sequence_id)
    db.commit()
    return f"/sequences/{w.sequence_id}/resume", {}


def _mapping(client: Client, db: Session, w: World) -> tuple[str, dict[str, Any]]:
    """Someone on version 1, then version 2 published: map them onto it."""
    enrol_contacts(db, w.sequence_id, [w.contact_id], now=utcnow())
    db.commit()
    first = versions.current_version(db, versions.get_sequence(db, w.sequence_id)).id
    post_form(client, f"/sequences/{w.sequence_id}/edit", _flow_body(w))
    url = f"/sequences/{w.sequence_id}/mapping"
    return url, {"from_version_id": str(first), "step.intro": "intro"}


WEBINAR = {"title": "Ask us anything", "topic": "ai", "starts_at": "2030-01-10T10:00"}


def _second_version(client: Client, w: World) -> str:
    """Save the template once more, then restore its first version."""
    post_form(client, f"/content/{w.template_id}", editor_form(BODY, name="Guide, revised"))
    return f"/content/{w.template_id}/versions/1/restore"


def _webinar(db: Session, w: World) -> int:
    webinar = make_webinar(db, "Held", utcnow() - timedelta(days=1))
    db.add(WebinarRegistration(webinar_id=webinar.id, contact_id=w.contact_id))
    db.commit()
    return webinar.id


ROUTING = "/settings/qualification/routing"


def _team(w: World) -> dict[str, Any]:
    return {"name": "DACH", "lead_id": str(w.other.id), f"member_{w.other.id}": "on"}


def _rule(w: World) -> dict[str, Any]:
    return {"name": "German-speaking", "country": "DE, AT", "target": f"rep:{w.other.id}"}


def _made(client: Client, db: Session, url: str, data: dict[str, Any], model: Any) -> int:
    """Make a thing through its own form; answers its id."""
    post_form(client, url, data)
    made: int = db.scalars(select(model.id)).one()
    return made


def _draft(client: Client, db: Session, w: World) -> tuple[str, dict[str, Any]]:
    body = _flow_body(w)
    sequence = versions.create_sequence(
        db, name="Draft", steps_definition=json.loads(body["definition"])
    )
    db.commit()
    return f"/sequences/{sequence.id}/activate", {}


CASES: dict[str, Case] = {
    "/login": lambda client, db, w: (
        "/login",
        {"email": w.admin.email, "password": PASSWORD},
    ),
    "/logout": _fixed("/logout"),
    "/segments/new": _fixed("/segments/new", {"name": "Picked", "kind": "static"}),
    "/segments/{segment_id:int}/edit": _segment(
        "edit", {"name": "Legal leads, renamed", "description": ""}
    ),
    "/segments/{segment_id:int}/duplicate": _segment("duplicate", {"name": "Copy"}),
    "/segments/{segment_id:int}/delete": _segment("delete"),
    "/segments/{segment_id:int}/refresh": _segment("refresh"),
    "/segments/{segment_id:int}/members/add": lambda client, db, w: (
        f"/segments/{w.segment_id}/members/add",
        {"email": make_contact(db, email="ada@firm.example").email},
    ),
    "/segments/{segment_id:int}/members/{contact_id:int}/remove": lambda client, db, w: (
        f"/segments/{w.segment_id}/members/{w.contact_id}/remove",
        {},
    ),
    "/sequences/{sequence_id:int}/mapping": _mapping,
    "/inbox/{handoff_id:int}/accept": lambda client, db, w: (
        f"/inbox/{make_handoff(db, w.admin).id}/accept",
        {},
    ),
    "/inbox/{handoff_id:int}/reject": lambda client, db, w: (
        f"/inbox/{make_handoff(db, w.admin).id}/reject",
        {"reason": "Budget frozen"},
    ),
    "/inbox/{handoff_id:int}/reassign": lambda client, db, w: (
        f"/inbox/{make_handoff(db, w.admin).id}/reassign",
        {"to_user_id": str(w.other.id)},
    ),
    "/imports": _fixed(
        "/imports", {FILE: ("people.csv", b"email,first_name\nnew@firm.example,New\n", "text/csv")}
    ),
    "/reviews/settings": lambda client, db, w: (
        "/reviews/settings",
        {"referral_sequence_id": str(w.sequence_id), "reward_text": "A donation you choose."},
    ),
    "/content/starters": _fixed("/content/starters"),
    "/content/{template_id:int}/versions/{number:int}/restore": lambda client, db, w: (
        _second_version(client, w),
        {},
    ),
    "/content/library/{key:str}/new": _fixed("/content/library/webinars/new", WEBINAR),
    "/content/library/{key:str}/{item_id:int}": lambda client, db, w: (
        f"/content/library/webinars/{_webinar(db, w)}",
        {**WEBINAR, "title": "Ask us more"},
    ),
    "/content/library/{key:str}/{item_id:int}/delete": lambda client, db, w: (
        f"/content/library/webinars/{_webinar(db, w)}/delete",
        {},
    ),
    "/reviews/projects/survey-sequence": _fixed("/reviews/projects/survey-sequence"),
    f"{ROUTING}/teams": lambda client, db, w: (f"{ROUTING}/teams", _team(w)),
    f"{ROUTING}/teams/{{team_id:int}}": lambda client, db, w: (
        f"{ROUTING}/teams/{_made(client, db, f'{ROUTING}/teams', _team(w), SalesTeam)}",
        {**_team(w), "name": "DACH and Nordics"},
    ),
    f"{ROUTING}/rules": lambda client, db, w: (f"{ROUTING}/rules", _rule(w)),
    f"{ROUTING}/rules/{{rule_id:int}}": lambda client, db, w: (
        f"{ROUTING}/rules/{_made(client, db, f'{ROUTING}/rules', _rule(w), RoutingRule)}",
        {"action": "deactivate"},
    ),
    f"{ROUTING}/reps/{{user_id:int}}": lambda client, db, w: (
        f"{ROUTING}/reps/{w.other.id}",
        {"time_zone": "Europe/Vienna", "capacity": "4"},
    ),
    "/content/webinars/{webinar_id:int}/attendance": lambda client, db, w: (
        f"/content/webinars/{_webinar(db, w)}/attendance",
        {FILE: ("zoom.csv", b"email,attended\nlena@brandt.example,yes\n", "text/csv")},
    ),
    "/segments/{segment_id:int}/import": lambda client, db, w: (
        f"/segments/{w.segment_id}/import",
        {FILE: ("people.csv", b"email\nlena@brandt.example\n", "text/csv")},
    ),
    "/sequences/new": lambda client, db, w: ("/sequences/new", _flow_body(w)),
    "/sequences/{sequence_id:int}/edit": _sequence("edit", _flow_body),
    "/sequences/{sequence_id:int}/activate": _draft,
    "/sequences/{sequence_id:int}/pause": _sequence("pause"),
    "/sequences/{sequence_id:int}/resume": _paused,
    "/sequences/{sequence_id:int}/stop": _sequence("stop"),
    "/sequences/{sequence_id:int}/enrol": _sequence(
        "enrol", lambda w: {"emails": "lena@brandt.example"}
    ),
    "/sequences/{sequence_id:int}/enrol/segment": _sequence(
        "enrol/segment", lambda w: {"segment_id": str(w.segment_id)}
    ),
    "/scoring/settings": _fixed(
        "/scoring/settings",
        {"half_life_days": "7.5", "grade_a": "60", "grade_b": "30", "grade_c": "5"},
    ),
    "/scoring/rescore": _fixed("/scoring/rescore"),
    "/scoring/behaviour/new": _fixed("/scoring/behaviour/new", PRICING),
    "/scoring/behaviour/{rule_id:int}/edit": lambda client, db, w: (
        f"/scoring/behaviour/{_behaviour_rule(client, db)}/edit",
        {**PRICING, "points": "12"},
    ),
    "/scoring/behaviour/{rule_id:int}/delete": lambda client, db, w: (
        f"/scoring/behaviour/{_behaviour_rule(client, db)}/delete",
        {},
    ),
    "/scoring/behaviour/{rule_id:int}/active": lambda client, db, w: (
        f"/scoring/behaviour/{_behaviour_rule(client, db)}/active",
        {"active": "false"},
    ),
    "/scoring/fit/new": _fixed("/scoring/fit/new", FIT),
    "/scoring/fit/{rule_id:int}/edit": lambda client, db, w: (
        f"/scoring/fit/{_fit_rule(client, db)}/edit",
        {**FIT, "points": "7"},
    ),
    "/scoring/fit/{rule_id:int}/delete": lambda client, db, w: (
        f"/scoring/fit/{_fit_rule(client, db)}/delete",
        {},
    ),
    "/scoring/fit/{rule_id:int}/active": lambda client, db, w: (
        f"/scoring/fit/{_fit_rule(client, db)}/active",
        {"active": "false"},
    ),
    "/settings/users": _fixed(
        "/settings/users",
        {"email": "new.rep@firm.example", "name": "New Rep", "role": "sales", "password": "x" * 12},
    ),
    "/settings/users/{user_id:int}/active": lambda client, db, w: (
        f"/settings/users/{w.other.id}/active",
        {"active": "0"},
    ),
    "/settings/users/{user_id:int}/sessions/revoke": lambda client, db, w: (
        f"/settings/users/{w.other.id}/sessions/revoke",
        {},
    ),
    "/settings/api-keys": _fixed("/settings/api-keys", {"name": "Website", "role": "marketer"}),
    "/settings/api-keys/{key_id:int}/revoke": lambda client, db, w: (
        f"/settings/api-keys/{make_api_key(db)[0].id}/revoke",
        {},
    ),
    "/settings/webhooks": _fixed("/settings/webhooks", WEBHOOK),
    "/settings/webhooks/{subscription_id:int}": lambda client, db, w: (
        f"/settings/webhooks/{_webhook(client, db)}",
        {**WEBHOOK, "description": "Sales CRM", "active": "1"},
    ),
    "/settings/webhooks/{subscription_id:int}/rotate": lambda client, db, w: (
        f"/settings/webhooks/{_webhook(client, db)}/rotate",
        {},
    ),
    "/settings/webhooks/{subscription_id:int}/delete": lambda client, db, w: (
        f"/settings/webhooks/{_webhook(client, db)}/delete",
        {},
    ),
    "/settings/qualification": _fixed(
        "/settings/qualification",
        {
            "enabled": "1",
            "mql_rule": json.dumps(
                {"version": 1, "rule": {"all": [{"field": "score", "op": "gte", "value": 50}]}}
            ),
            "sla_hours": "6",
            "work_start": "08:30",
            "work_end": "16:30",
            "day_0": "1",
            "default_time_zone": "Europe/Vienna",
            "fallback_owner_id": "",
            "recycle_sequence_id": "",
            "recycle_score_to": "10",
        },
    ),
    "/contacts/{contact_id:int}/edit": lambda client, db, w: (
        f"/contacts/{w.contact_id}/edit",
        {"first_name": "Lena", "email": "lena@brandt.example", "title": "Partner", "owner_id": ""},
    ),
    "/content/{template_id:int}": lambda client, db, w: (
        f"/content/{w.template_id}",
        editor_form(BODY, name="Guide, revised"),
    ),
    "/settings/password": _fixed(
        "/settings/password",
        {"current_password": PASSWORD, "new_password": "a brand new password"},
    ),
}


def _ui_post_routes() -> set[str]:
    return {
        route.path
        for route in ui_router.routes
        for handler in getattr(route, "route_handlers", ())
        if "POST" in (handler.http_methods or ())
    }


def test_every_ui_post_route_has_a_case() -> None:
    routes = _ui_post_routes()
    assert routes, "the UI router has POST routes"
    missing = sorted(routes - set(CASES) - set(FRAGMENTS) - set(PENDING))
    assert not missing, f"UI POST routes with no Post/Redirect/Get case: {missing}"
    gone = sorted((set(CASES) | set(FRAGMENTS) | set(PENDING)) - routes)
    assert not gone, f"cases for routes the app no longer has: {gone}"


@pytest.mark.parametrize("route", sorted(CASES))
def test_a_form_post_redirects_to_a_page_that_reloads(
    route: str, client: Client, db: Session, world: World
) -> None:
    login(client, world.admin)
    url, data = CASES[route](client, db, world)
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
    location = response.headers["location"]
    assert location.startswith("/"), location
    shown = client.get(location, headers=HTML)  # the redirect, followed
    assert shown.status_code < 400, f"{route} led to {location}: {shown.status_code}"
    final = str(shown.url)
    reloaded = client.get(final, headers=HTML)  # the browser's reload of what it shows
    assert reloaded.status_code < 400, f"reloading {final} answered {reloaded.status_code}"
