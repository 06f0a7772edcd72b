"""The Scoring page: rules listed in plain language, forms that save or show the domain's
problem next to the field and save nothing, edit, switch off, delete, settings, rescore."""

from __future__ import annotations

import html
import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture.models import AuditEntry, BehaviourRule, FitRule, ScoringSettings
from nurture.scoring import store
from tests.factories import make_user
from tests.scoring.helpers import behaviour_rule, fit_rule
from tests.ui.helpers import HTML, Client, login, post_form

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
    "cond-1-name": "",
    "cond-1-op": "equals",
    "cond-1-value": "",
}


def _signed_in(client: Client, db: Session, role: str = "marketer") -> None:
    user = make_user(db, role=role)
    db.commit()
    login(client, user)


def _count(db: Session, model: type[BehaviourRule] | type[FitRule]) -> int:
    db.expire_all()
    return int(db.scalar(select(func.count()).select_from(model)) or 0)


def _text(page: str) -> str:
    """The page's text with tags dropped and entities decoded, for reading sentences."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def test_an_empty_page_explains_how_a_lead_earns_points(client: Client, db: Session) -> None:
    _signed_in(client, db)
    page = client.get("/scoring", headers=HTML)
    assert page.status_code == 200
    text = _text(page.text)
    assert "No behaviour rules yet" in text
    assert "+10 when email.clicked where url contains 'pricing', at most 30 per 30 days" in text
    assert "No fit rules yet" in text
    assert 'href="/scoring"' in page.text  # the navigation links the page
    assert "Last full rescore: never" in text


def test_the_list_shows_each_rule_in_plain_language_and_the_settings(
    client: Client, db: Session
) -> None:
    behaviour_rule(
        db,
        name="Pricing",
        event_type="email.clicked",
        where=[{"property": "url", "op": "contains", "value": "pricing"}],
        points=10,
        cap_points=30,
        cap_days=30,
    )
    behaviour_rule(
        db,
        name="Case studies",
        event_type="case_study.viewed",
        points=8,
        threshold_count=3,
        threshold_days=7,
        active=False,
    )
    fit_rule(
        db,
        {
            "any": [
                {"field": "title", "op": "contains", "value": "partner"},
                {"field": "title", "op": "contains", "value": "director"},
            ]
        },
        20,
        name="Senior",
    )
    store.update_settings(db, {"half_life_days": 14.5}, actor="test")
    _signed_in(client, db)
    page = client.get("/scoring", headers=HTML)
    assert page.status_code == 200
    text = _text(page.text)
    assert "+10 when email.clicked where url contains 'pricing', at most 30 per 30 days" in text
    assert "+8 when case_study.viewed happens 3 times within 7 days" in text
    assert "+20 when (job title contains 'partner' or job title contains 'director')" in text
    assert 'value="14.5"' in page.text
    assert 'value="40"' in page.text  # grade A's default threshold
    assert text.count("Off") >= 1
    assert "No behaviour rules yet" not in text


def test_a_rule_is_created_from_the_form_rows(client: Client, db: Session) -> None:
    _signed_in(client, db)
    answer = post_form(client, "/scoring/behaviour/new", PRICING)
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"].startswith("/scoring?done=created")
    rule = db.scalar(select(BehaviourRule))
    assert rule is not None
    assert rule.where == [{"property": "url", "op": "contains", "value": "pricing"}]
    assert (rule.points, rule.cap_points, rule.cap_days, rule.active) == (10, 30, 30, True)
    assert rule.threshold_count is None
    shown = client.get(answer.headers["location"], headers=HTML)
    assert "Rule created: “Clicked a pricing link”" in _text(shown.text)


def test_typed_values_keep_their_json_type(client: Client, db: Session) -> None:
    _signed_in(client, db)
    form = {
        **PRICING,
        "cond-0-name": "duration",
        "cond-0-op": "gte",
        "cond-0-value": "30",
        "cond-1-name": "plan",
        "cond-1-op": "in",
        "cond-1-value": 'pro, "42"',
        "cond-2-name": "live",
        "cond-2-op": "equals",
        "cond-2-value": "true",
    }
    assert post_form(client, "/scoring/behaviour/new", form).status_code == 303
    rule = db.scalar(select(BehaviourRule))
    assert rule is not None
    assert rule.where == [
        {"property": "duration", "op": "gte", "value": 30},
        {"property": "plan", "op": "in", "value": ["pro", "42"]},
        {"property": "live", "op": "equals", "value": True},
    ]
    edit = client.get(f"/scoring/behaviour/{rule.id}/edit", headers=HTML)
    # Read back, the text means the same values again.
    assert 'value="pro, &#34;42&#34;"' in edit.text or 'value="pro, &quot;42&quot;"' in edit.text


def test_a_bad_field_is_named_next_to_it_and_nothing_is_saved(client: Client, db: Session) -> None:
    _signed_in(client, db)
    form = {**PRICING, "points": "ten", "cond-0-op": "gt", "cond-0-value": "lots"}
    answer = post_form(client, "/scoring/behaviour/new", form)
    assert answer.status_code == 422
    assert _count(db, BehaviourRule) == 0
    page = answer.text
    points_error = re.search(r'<p class="field-error" id="err-points">([^<]*)</p>', page)
    assert points_error is not None
    assert "must be an integer" in points_error.group(1)
    row_error = re.search(r'id="c0-err">(.*?)</div>', page, re.S)
    assert row_error is not None
    assert "Value: must be a number" in row_error.group(1)
    # What was typed stays in the form.
    assert 'value="ten"' in page
    assert 'value="lots"' in page
    assert 'value="email.clicked"' in page
    assert "Nothing was saved" in page


def test_a_cap_without_its_period_names_the_period(client: Client, db: Session) -> None:
    _signed_in(client, db)
    answer = post_form(client, "/scoring/behaviour/new", {**PRICING, "cap_days": ""})
    assert answer.status_code == 422
    assert re.search(r'id="err-cap_days">is required with cap_points<', answer.text)
    assert _count(db, BehaviourRule) == 0


def test_editing_switching_off_and_deleting_a_rule(client: Client, db: Session) -> None:
    rule_id = behaviour_rule(db, name="Webinar", event_type="webinar.attended", points=15).id
    _signed_in(client, db)
    form = client.get(f"/scoring/behaviour/{rule_id}/edit", headers=HTML)
    assert form.status_code == 200
    assert 'value="webinar.attended"' in form.text
    assert "+15 when webinar.attended" in _text(form.text)
    changed = {"name": "Webinar", "event_type": "webinar.attended", "points": "20", "active": "on"}
    answer = post_form(client, f"/scoring/behaviour/{rule_id}/edit", changed)
    assert answer.status_code == 303
    db.expire_all()
    assert db.get(BehaviourRule, rule_id).points == 20  # type: ignore[union-attr]

    bad = post_form(client, f"/scoring/behaviour/{rule_id}/edit", {**changed, "points": "0"})
    assert bad.status_code == 422
    assert "must not be 0" in bad.text
    db.expire_all()
    assert db.get(BehaviourRule, rule_id).points == 20  # type: ignore[union-attr]

    off = post_form(client, f"/scoring/behaviour/{rule_id}/active", {"active": "false"})
    assert off.status_code == 303
    db.expire_all()
    assert db.get(BehaviourRule, rule_id).active is False  # type: ignore[union-attr]

    gone = post_form(client, f"/scoring/behaviour/{rule_id}/delete")
    assert gone.status_code == 303
    assert "Rule deleted: “Webinar”" in _text(client.get(gone.headers["location"]).text)
    assert _count(db, BehaviourRule) == 0
    assert post_form(client, f"/scoring/behaviour/{rule_id}/delete").status_code == 404


def test_a_fit_rule_from_rows_and_a_field_it_may_not_test(client: Client, db: Session) -> None:
    _signed_in(client, db)
    form = {
        "name": "Big legal firms",
        "points": "15",
        "active": "on",
        "match": "all",
        "cond-0-name": "company.industry",
        "cond-0-op": "equals",
        "cond-0-value": "legal",
        "cond-1-name": "score",
        "cond-1-op": "gt",
        "cond-1-value": "10",
    }
    answer = post_form(client, "/scoring/fit/new", form)
    assert answer.status_code == 422
    row_error = re.search(r'id="c1-err">(.*?)</div>', answer.text, re.S)
    assert row_error is not None
    assert "is not a contact or company field" in row_error.group(1)
    assert _count(db, FitRule) == 0

    form["cond-1-name"], form["cond-1-op"], form["cond-1-value"] = (
        "company.size_band",
        "at_least",
        "51-200",
    )
    assert post_form(client, "/scoring/fit/new", form).status_code == 303
    rule = db.scalar(select(FitRule))
    assert rule is not None
    assert rule.condition == {
        "all": [
            {"field": "company.industry", "op": "equals", "value": "legal"},
            {"field": "company.size_band", "op": "at_least", "value": "51-200"},
        ]
    }


def test_a_fit_rule_needs_a_condition(client: Client, db: Session) -> None:
    _signed_in(client, db)
    answer = post_form(client, "/scoring/fit/new", {"name": "All", "points": "5", "match": "all"})
    assert answer.status_code == 422
    assert "add at least one condition" in answer.text
    assert _count(db, FitRule) == 0


def test_a_nested_fit_condition_is_edited_as_json(client: Client, db: Session) -> None:
    nested = {"not": {"field": "title", "op": "contains", "value": "intern"}}
    rule = fit_rule(db, nested, 5, name="Not an intern")
    _signed_in(client, db)
    page = client.get(f"/scoring/fit/{rule.id}/edit", headers=HTML)
    assert 'name="condition_json"' in page.text
    assert "+5 when not job title contains 'intern'" in _text(page.text)
    bad = post_form(
        client,
        f"/scoring/fit/{rule.id}/edit",
        {"name": "Not an intern", "points": "5", "condition_json": '{"not": {"field": "x"}}'},
    )
    assert bad.status_code == 422
    assert 'id="err-condition">condition.not' in bad.text
    db.expire_all()
    assert db.get(FitRule, rule.id).condition == nested  # type: ignore[union-attr]


def test_settings_are_checked_and_saved(client: Client, db: Session) -> None:
    _signed_in(client, db)
    bad = post_form(
        client,
        "/scoring/settings",
        {"half_life_days": "0", "grade_a": "40", "grade_b": "50", "grade_c": "10"},
    )
    assert bad.status_code == 422
    assert re.search(r'id="err-half-life">must be a number of days above 0', bad.text)
    assert re.search(r'id="err-grade-b">must be below grade_a<', bad.text)
    assert 'value="50"' in bad.text
    db.expire_all()
    assert store.get_settings(db).half_life_days == 30.0
    good = post_form(
        client,
        "/scoring/settings",
        {"half_life_days": "7.5", "grade_a": "60", "grade_b": "30", "grade_c": "5"},
    )
    assert good.status_code == 303
    db.expire_all()
    row = store.get_settings(db)
    assert (row.half_life_days, row.grade_a, row.grade_b, row.grade_c) == (7.5, 60, 30, 5)


def test_the_rescore_button_requests_a_rescore(client: Client, db: Session) -> None:
    settings = store.get_settings(db)
    db.commit()
    assert settings.rules_changed_at is None
    _signed_in(client, db)
    answer = post_form(client, "/scoring/rescore")
    assert answer.status_code == 303
    db.expire_all()
    row = db.get(ScoringSettings, store.SETTINGS_ID)
    assert row is not None
    assert row.rules_changed_at is not None
    actions = db.scalars(select(AuditEntry.action))
    assert "scoring.rescore_requested" in list(actions)
    page = client.get(answer.headers["location"], headers=HTML)
    assert "Rescore requested" in page.text
    assert "A rescore is due" in page.text


def test_sales_may_not_open_the_scoring_page(client: Client, db: Session) -> None:
    _signed_in(client, db, role="sales")
    assert client.get("/scoring", headers=HTML).status_code == 403
    assert 'href="/scoring"' not in client.get("/contacts", headers=HTML).text
