"""Post/Redirect/Get: every UI form that changes data answers with a redirect (303) to a
page, and reloading that page (a GET of the address the browser then shows) answers
without a 4xx.

The routes are read from the app, not listed by hand: a new UI POST route without a
case here or in test_post_redirect_get_campaigns fails
`test_every_ui_post_route_has_a_case`. htmx fragment posts are exempt (the page's
address does not change). This module holds segments, sequences, the inbox, content,
reviews, scoring and settings; the campaigns module holds broadcasts, experiments, new
templates, imports and tasks. The harness is prg_harness.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.sequences import versions
from campaigns.sequences.enrol import enrol_contacts
from nurture.events import EventInput, ingest
from nurture.models import (
    BehaviourRule,
    CaseStudy,
    FitRule,
    Referral,
    RoutingRule,
    SalesTeam,
    WebhookSubscription,
    WebinarRegistration,
    utcnow,
)
from nurture.reviews import referrals, testimonials
from nurture.reviews.referrals import ReferralForm
from nurture.webhooks.queueing import queue_for_events
from tests.email.conftest import BODY
from tests.factories import PASSWORD, make_api_key, make_contact
from tests.inbox.helpers import make_handoff
from tests.reviews.advocacy_helpers import SIGNER, answered_survey, client_contact
from tests.ui.block_editor_forms import blocks_form
from tests.ui.helpers import Client, post_form
from tests.ui_prg.prg_harness import (
    FILE,
    Case,
    World,
    check_post_redirect_get,
    fixed,
    ui_post_routes,
)
from tests.ui_prg.test_post_redirect_get_campaigns import CAMPAIGN_CASES, CAMPAIGN_QUEUES
from tests.web_email.editor_forms import editor_form
from tests.webhooks.conftest import store_event, subscribe
from tests.webinars.helpers import make_webinar


@pytest.fixture
def db_url(sqlite_db_url: str) -> str:
    """Post/Redirect/Get is what a handler answers, the same on either database (what the
    handlers store is tested on both elsewhere): these cases run on SQLite alone."""
    return sqlite_db_url


# Posts answered by an htmx fragment (or JSON for a script): the page's address stays.
FRAGMENTS = {
    "/segments/preview": "the rule builder's live count (JSON)",
    "/content/{template_id:int}/preview": "the editor's live preview (htmx)",
    "/content/{template_id:int}/check": "the editor's pre-save check (htmx)",
    "/content/{template_id:int}/test-send": "the editor's test send note (htmx)",
    "/content/{template_id:int}/blocks/preview": "the block editor's live preview (htmx)",
    "/content/{template_id:int}/blocks/check": "the block editor's pre-save check (htmx)",
    "/content/images": "the block editor's image upload (JSON for its script)",
    "/tasks/{task_id:int}/outcome": "a task card's outcome (htmx)",
}


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


QUOTE = "They found the bottleneck in a week and fixed it in a month."


def _approved_quote(db: Session) -> int:
    """A promoter's testimonial, approved with consent on its own form."""
    now = utcnow()
    contact = client_contact(db)
    answered_survey(db, contact, now=now)
    quote = testimonials.testimonial_for(db, contact.id, now=now)
    assert quote is not None
    assert quote.contact_id is not None
    token = SIGNER.testimonial(quote.id, quote.contact_id, testimonials.expires_on(quote))
    testimonials.approve(
        db, token, signer=SIGNER, quote=QUOTE, attribution="title_only", consent=True, now=now
    )
    db.commit()
    return quote.id


def _hidden_quote(db: Session) -> int:
    quote_id = _approved_quote(db)
    testimonials.hide(db, quote_id, actor="test")
    db.commit()
    return quote_id


def _case_study(db: Session) -> int:
    story = CaseStudy(
        title="Harbor cut its stock count from a week to a day",
        industry="logistics",
        problem="Counting the warehouse took a week every quarter.",
    )
    db.add(story)
    db.commit()
    return story.id


def _won_referral(db: Session) -> int:
    """An advocate's referral whose lead became a customer: its reward awaits a decision."""
    now = utcnow()
    advocate = client_contact(db, email="emma@harbor.example")
    code = referrals.code_for(db, advocate.id, now=now).code
    form = ReferralForm(email="dan@northwind.example", first_name="Dan", consent=True)
    referral = db.get(Referral, referrals.submit(db, code, form, now=now).referral_id)
    assert referral is not None
    assert referral.referred_contact_id is not None
    won = EventInput(
        "lifecycle.changed", now, {"to": "customer"}, None, contact_id=referral.referred_contact_id
    )
    referrals.advance(db, ingest(db, [(0, won)], source="test").stored_event_ids)
    db.commit()
    return referral.id


def _failed_delivery(client: Client, db: Session, w: World) -> tuple[str, dict[str, Any]]:
    """A delivery queued for the loopback endpoint; replaying sends it there."""
    subscribe(db, w.receiver.url)
    event = store_event(db, contact_id=w.contact_id)
    [delivery_id] = queue_for_events(db, [event.id])
    db.commit()
    return f"/settings/webhooks/deliveries/{delivery_id}/replay", {}


TESTIMONIALS = "/reviews/testimonials"


CASES: dict[str, Case] = {
    "/login": lambda client, db, w: (
        "/login",
        {"email": w.admin.email, "password": PASSWORD},
    ),
    "/logout": fixed("/logout"),
    "/segments/new": fixed("/segments/new", {"name": "Picked", "kind": "static"}),
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
    "/imports": fixed(
        "/imports", {FILE: ("people.csv", b"email,first_name\nnew@firm.example,New\n", "text/csv")}
    ),
    "/reviews/settings": lambda client, db, w: (
        "/reviews/settings",
        {"referral_sequence_id": str(w.sequence_id), "reward_text": "A donation you choose."},
    ),
    "/content/starters": fixed("/content/starters"),
    "/content/{template_id:int}/versions/{number:int}/restore": lambda client, db, w: (
        _second_version(client, w),
        {},
    ),
    "/content/library/{key:str}/new": fixed("/content/library/webinars/new", WEBINAR),
    "/content/library/{key:str}/{item_id:int}": lambda client, db, w: (
        f"/content/library/webinars/{_webinar(db, w)}",
        {**WEBINAR, "title": "Ask us more"},
    ),
    "/content/library/{key:str}/{item_id:int}/delete": lambda client, db, w: (
        f"/content/library/webinars/{_webinar(db, w)}/delete",
        {},
    ),
    "/reviews/projects/survey-sequence": fixed("/reviews/projects/survey-sequence"),
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
    "/scoring/settings": fixed(
        "/scoring/settings",
        {"half_life_days": "7.5", "grade_a": "60", "grade_b": "30", "grade_c": "5"},
    ),
    "/scoring/rescore": fixed("/scoring/rescore"),
    "/scoring/behaviour/new": fixed("/scoring/behaviour/new", PRICING),
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
    "/scoring/fit/new": fixed("/scoring/fit/new", FIT),
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
    "/settings/users": fixed(
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
    "/settings/api-keys": fixed("/settings/api-keys", {"name": "Website", "role": "marketer"}),
    "/settings/api-keys/{key_id:int}/revoke": lambda client, db, w: (
        f"/settings/api-keys/{make_api_key(db)[0].id}/revoke",
        {},
    ),
    "/settings/webhooks": fixed("/settings/webhooks", WEBHOOK),
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
    "/settings/qualification": fixed(
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
    "/settings/brand": fixed(
        "/settings/brand",
        {
            "name": "Keller Brandt",
            "color": "#1d4ed8",
            "logo_url": "https://cdn.keller.example/logo.png",
            "address": "Ring 1, Vienna",
            "font": "georgia",
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
    "/content/{template_id:int}/blocks": lambda client, db, w: (
        f"/content/{w.template_id}/blocks",
        blocks_form(BODY, name="Guide, in blocks"),
    ),
    "/content/new/blocks": fixed("/content/new/blocks", {"name": "Spring, in blocks"}),
    "/settings/password": fixed(
        "/settings/password",
        {"current_password": PASSWORD, "new_password": "a brand new password"},
    ),
    f"{TESTIMONIALS}/{{testimonial_id:int}}/hide": lambda client, db, w: (
        f"{TESTIMONIALS}/{_approved_quote(db)}/hide",
        {},
    ),
    f"{TESTIMONIALS}/{{testimonial_id:int}}/show": lambda client, db, w: (
        f"{TESTIMONIALS}/{_hidden_quote(db)}/show",
        {},
    ),
    f"{TESTIMONIALS}/{{testimonial_id:int}}/withdraw": lambda client, db, w: (
        f"{TESTIMONIALS}/{_approved_quote(db)}/withdraw",
        {"requested_by": "Emma, by phone", "reason": "Changed jobs"},
    ),
    f"{TESTIMONIALS}/{{testimonial_id:int}}/attach": lambda client, db, w: (
        f"{TESTIMONIALS}/{_approved_quote(db)}/attach",
        {"case_study_id": str(_case_study(db))},
    ),
    "/reviews/referrals/{referral_id:int}/reward": lambda client, db, w: (
        f"/reviews/referrals/{_won_referral(db)}/reward",
        {"decision": "approve", "note": "A donation, sent"},
    ),
    "/scoring/model/fit": fixed("/scoring/model/fit", {"l2": ""}),
    "/settings/webhooks/deliveries/{delivery_id:int}/replay": _failed_delivery,
}
# Work the post hands to the in-process worker, waited for before the page is read.
QUEUES: dict[str, tuple[str, ...]] = {
    f"{TESTIMONIALS}/{{testimonial_id:int}}/withdraw": ("events",),
    "/reviews/referrals/{referral_id:int}/reward": ("events",),
    "/scoring/model/fit": ("predictive",),
    "/settings/webhooks/deliveries/{delivery_id:int}/replay": ("webhooks",),
}


def test_every_ui_post_route_has_a_case() -> None:
    routes = ui_post_routes()
    assert routes, "the UI router has POST routes"
    assert not set(CASES) & set(CAMPAIGN_CASES), "a route has a case in both modules"
    covered = set(CASES) | set(CAMPAIGN_CASES) | set(FRAGMENTS)
    missing = sorted(routes - covered)
    assert not missing, f"UI POST routes with no Post/Redirect/Get case: {missing}"
    gone = sorted(covered - routes)
    assert not gone, f"cases for routes the app no longer has: {gone}"
    queued = (set(QUEUES) - set(CASES)) | (set(CAMPAIGN_QUEUES) - set(CAMPAIGN_CASES))
    assert not queued, f"queues to drain for routes with no case here: {sorted(queued)}"


@pytest.mark.parametrize("route", sorted(CASES))
def test_a_form_post_redirects_to_a_page_that_reloads(
    route: str, client: Client, db: Session, world: World
) -> None:
    check_post_redirect_get(route, CASES[route], client, db, world, queues=QUEUES.get(route, ()))
