"""Settings pages for qualification and routing: linked from Settings, saved whole or
shown again with the problem named, roles respected."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.models import Handoff, QualificationSettings, RoutingRule, SalesRep, User
from nurture.qualification import settings
from tests.factories import make_contact, make_user
from tests.qualification.helpers import rep
from tests.ui.helpers import HTML, Client, login, post_form

RULE = {"version": 1, "rule": {"all": [{"field": "score", "op": "gte", "value": 50}]}}


def _signed_in(client: Client, db: Session, role: str) -> User:
    user = make_user(db, role=role)
    db.commit()
    login(client, user)
    return user


def _form(**changes: str) -> dict[str, str]:
    form = {
        "enabled": "1",
        "mql_rule": json.dumps(RULE),
        "sla_hours": "6",
        "work_start": "08:30",
        "work_end": "16:30",
        "day_0": "1",
        "day_2": "1",
        "default_time_zone": "Europe/Vienna",
        "fallback_owner_id": "",
        "recycle_sequence_id": "",
        "recycle_score_to": "10",
    }
    form.update(changes)
    return form


def test_a_marketer_saves_the_qualification_settings(client: Client, db: Session) -> None:
    _signed_in(client, db, "marketer")
    home = client.get("/settings", headers=HTML).text
    assert 'href="/settings/qualification"' in home
    assert 'href="/settings/qualification/routing"' not in home

    saved = post_form(client, "/settings/qualification", _form())

    assert saved.status_code == 303
    assert "Qualification settings saved." in client.get(saved.headers["location"]).text
    db.expire_all()
    stored = settings.get(db)
    assert stored.enabled is True
    assert stored.mql_rule == RULE
    assert (stored.sla_hours, stored.work_start, stored.work_days) == (6, "08:30", (0, 2))
    assert stored.recycle_score_to == 10


def test_bad_settings_are_named_and_nothing_is_saved(client: Client, db: Session) -> None:
    _signed_in(client, db, "admin")
    bad_rule = {"version": 1, "rule": {"field": "shoe_size", "op": "gte", "value": 9}}

    answer = post_form(
        client,
        "/settings/qualification",
        _form(mql_rule=json.dumps(bad_rule), sla_hours="0", default_time_zone="Mars/Base"),
    )

    assert answer.status_code == 422
    assert "rule.field: &#39;shoe_size&#39; is not a field a rule can test" in answer.text
    assert 'id="qerr-sla_hours"' in answer.text
    assert 'id="qerr-default_time_zone"' in answer.text
    assert "Mars/Base" in answer.text  # the form keeps what was typed
    not_json = post_form(client, "/settings/qualification", _form(mql_rule="{score >= 60"))
    assert "is not valid JSON" in not_json.text
    db.expire_all()
    assert db.get(QualificationSettings, 1) is None


def test_an_admin_sets_up_teams_reps_and_rules(client: Client, db: Session) -> None:
    a, b = rep(db), rep(db)
    marketer_only = make_user(db, role="marketer")
    stranded = make_contact(db, first_name="Stranded")
    db.add(Handoff(contact_id=stranded.id, state="pending"))
    _signed_in(client, db, "admin")
    base = "/settings/qualification/routing"

    page = client.get(base, headers=HTML)
    assert page.status_code == 200
    assert "Stranded" in page.text  # listed among the unassigned hand-offs

    team = post_form(
        client,
        f"{base}/teams",
        {"name": "DACH", f"member_{a.id}": "1", f"member_{b.id}": "1", "lead_id": str(a.id)},
    )
    assert team.status_code == 303
    team_id = client.get(base).text.split(f"{base}/teams/")[1].split('"')[0]
    rule = post_form(
        client, f"{base}/rules", {"name": "DACH", "country": "de, at", "target": f"team:{team_id}"}
    )
    assert rule.status_code == 303
    refused = post_form(
        client, f"{base}/rules", {"name": "Marketing", "target": f"rep:{marketer_only.id}"}
    )
    assert refused.status_code == 422
    assert f"owner_id: user {marketer_only.id} is not an active sales user" in refused.text
    capacity = post_form(
        client, f"{base}/reps/{a.id}", {"time_zone": "Europe/Vienna", "capacity": "-1"}
    )
    assert capacity.status_code == 422
    assert "capacity: must be a whole number" in capacity.text
    post_form(client, f"{base}/reps/{a.id}", {"time_zone": "Europe/Vienna", "capacity": "4"})

    db.expire_all()
    [stored] = db.scalars(select(RoutingRule)).all()
    assert stored.match == {"country": ["DE", "AT"]}
    assert str(stored.team_id) == team_id
    rep_row = db.get(SalesRep, a.id)
    assert rep_row is not None
    assert (rep_row.time_zone, rep_row.capacity) == ("Europe/Vienna", 4)

    off = post_form(client, f"{base}/rules/{stored.id}", {"action": "deactivate"})
    assert off.status_code == 303
    db.expire_all()
    assert db.get(RoutingRule, stored.id).active is False  # type: ignore[union-attr]


def test_marketers_cannot_open_routing(client: Client, db: Session) -> None:
    _signed_in(client, db, "marketer")
    assert client.get("/settings/qualification/routing", headers=HTML).status_code == 403
