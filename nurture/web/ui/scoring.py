"""The Scoring page: behaviour and fit rules (list, create, edit, enable, delete), the
half-life and grade thresholds, and a full rescore on demand. Every form posts, redirects
after success, and on a problem shows the form again with what was typed and the
domain's message next to the field it names."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.errors import InvalidInput
from nurture.models import Event, utcnow
from nurture.scoring import schedule, store
from nurture.web.auth import Principal, ui_roles
from nurture.web.ui import scoring_forms as forms
from nurture.web.ui.params import Db, FormData, Me
from nurture.web.ui.render import MARKETING, page
from segments.catalogue import COMMON_EVENTS

GUARD = [ui_roles(*MARKETING)]
RECENT_EVENTS = 5000


def _list_page(
    db: Session,
    principal: Principal,
    *,
    settings_form: forms.SettingsForm | None = None,
    status: int = 200,
    **notices: Any,
) -> Template:
    settings = store.get_settings(db)
    behaviour = store.list_behaviour_rules(db)
    fit = store.list_fit_rules(db)
    pending = settings.rules_changed_at is not None and (
        settings.rescored_at is None or settings.rules_changed_at >= settings.rescored_at
    )
    return page(
        "scoring/rules.html",
        principal,
        "scoring",
        status_code=status,
        behaviour=[(rule, forms.describe_behaviour(rule)) for rule in behaviour],
        fit=[(rule, forms.describe_fit(rule)) for rule in fit],
        settings=settings,
        half_life=f"{settings.half_life_days:g}",
        settings_form=settings_form or forms.settings_form(settings),
        rescore_pending=pending,
        notice=notices.get("notice"),
    )


@get("/scoring", guards=GUARD, sync_to_thread=True)
def scoring_page(db: Db, principal: Me, done: FromQuery[str] = "") -> Template:
    return _list_page(db, principal, notice=_notice(done))


def _notice(done: str) -> str:
    """The line confirming what a redirect came back from (`created:Webinar`)."""
    key, _, name = done.partition(":")
    notices = {
        "created": "Rule created",
        "saved": "Rule saved",
        "deleted": "Rule deleted",
        "enabled": "Rule turned on",
        "disabled": "Rule turned off",
    }
    if key == "settings":
        return "Settings saved: every score and grade is recomputed with them shortly."
    if key == "rescore":
        return "Rescore requested: every contact's score and grade is recomputed shortly."
    if key not in notices:
        return ""
    return f"{notices[key]}: “{name}”. Scores follow at the next rescore, shortly."


def _done(key: str, name: str = "") -> Redirect:
    value = f"{key}:{name}" if name else key
    return Redirect(f"/scoring?{urlencode({'done': value})}", status_code=303)


@post("/scoring/settings", guards=GUARD, sync_to_thread=True)
def change_settings(db: Db, principal: Me, data: FormData) -> Template | Redirect:
    form, document = forms.parse_settings(data)
    try:
        store.update_settings(db, document, actor=principal.actor)
    except InvalidInput as exc:
        db.rollback()
        shown = forms.settings_with_problems(form, exc.problems)
        return _list_page(db, principal, settings_form=shown, status=422)
    return _done("settings")


@post("/scoring/rescore", guards=GUARD, sync_to_thread=True)
def rescore_now(db: Db, principal: Me) -> Redirect:
    schedule.request_rescore(db, now=utcnow(), actor=principal.actor)
    return _done("rescore")


# Behaviour rules


def _event_types(db: Session) -> list[str]:
    """The standard event types and those seen lately, for the picker."""
    recent = select(Event.type).order_by(Event.id.desc()).limit(RECENT_EVENTS).subquery()
    seen = db.scalars(select(recent.c.type).where(recent.c.type.not_like("segment.%")).distinct())
    return sorted({*COMMON_EVENTS, *seen})


def _behaviour_page(
    db: Session, principal: Principal, form: forms.RuleForm, rule_id: int | None, status: int = 200
) -> Template:
    return page(
        "scoring/rule_form.html",
        principal,
        "scoring",
        status_code=status,
        form=form,
        rule_id=rule_id,
        event_types=_event_types(db),
        operators=[(op, forms.OPERATOR_WORDS[op]) for op in forms.PROPERTY_OPERATORS],
        preview=forms.describe_behaviour(store.get_behaviour_rule(db, rule_id))
        if rule_id is not None and status == 200
        else None,
    )


@get("/scoring/behaviour/new", guards=GUARD, sync_to_thread=True)
def new_behaviour_rule(db: Db, principal: Me) -> Template:
    return _behaviour_page(db, principal, forms.blank_behaviour(), None)


@post("/scoring/behaviour/new", guards=GUARD, sync_to_thread=True)
def create_behaviour_rule(db: Db, principal: Me, data: FormData) -> Template | Redirect:
    form, document, origin = forms.parse_behaviour(data)
    try:
        rule = store.create_behaviour_rule(db, document, actor=principal.actor)
    except InvalidInput as exc:
        db.rollback()
        shown = forms.with_problems(form, exc.problems, origin)
        return _behaviour_page(db, principal, shown, None, status=422)
    return _done("created", rule.name)


@get("/scoring/behaviour/{rule_id:int}/edit", guards=GUARD, sync_to_thread=True)
def edit_behaviour_form(db: Db, principal: Me, rule_id: FromPath[int]) -> Template:
    form = forms.behaviour_form(store.get_behaviour_rule(db, rule_id))
    return _behaviour_page(db, principal, form, rule_id)


@post("/scoring/behaviour/{rule_id:int}/edit", guards=GUARD, sync_to_thread=True)
def edit_behaviour_rule(
    db: Db, principal: Me, rule_id: FromPath[int], data: FormData
) -> Template | Redirect:
    store.get_behaviour_rule(db, rule_id)
    form, document, origin = forms.parse_behaviour(data)
    try:
        rule = store.update_behaviour_rule(db, rule_id, document, actor=principal.actor)
    except InvalidInput as exc:
        db.rollback()
        shown = forms.with_problems(form, exc.problems, origin)
        return _behaviour_page(db, principal, shown, rule_id, status=422)
    return _done("saved", rule.name)


@post("/scoring/behaviour/{rule_id:int}/delete", guards=GUARD, sync_to_thread=True)
def delete_behaviour_rule(db: Db, principal: Me, rule_id: FromPath[int]) -> Redirect:
    name = store.get_behaviour_rule(db, rule_id).name
    store.delete_behaviour_rule(db, rule_id, actor=principal.actor)
    return _done("deleted", name)


@post("/scoring/behaviour/{rule_id:int}/active", guards=GUARD, sync_to_thread=True)
def switch_behaviour_rule(
    db: Db, principal: Me, rule_id: FromPath[int], data: FormData
) -> Redirect:
    active = data.get("active") == "true"
    rule = store.update_behaviour_rule(db, rule_id, {"active": active}, actor=principal.actor)
    return _done("enabled" if active else "disabled", rule.name)


# Fit rules


def _fit_page(
    db: Session, principal: Principal, form: forms.RuleForm, rule_id: int | None, status: int = 200
) -> Template:
    return page(
        "scoring/fit_form.html",
        principal,
        "scoring",
        status_code=status,
        form=form,
        rule_id=rule_id,
        fields=forms.FIT_FIELD_CHOICES,
        operators=[(op, forms.OPERATOR_WORDS[op]) for op in forms.FIT_OPERATORS],
        preview=forms.describe_fit(store.get_fit_rule(db, rule_id))
        if rule_id is not None and status == 200
        else None,
    )


@get("/scoring/fit/new", guards=GUARD, sync_to_thread=True)
def new_fit_rule(db: Db, principal: Me) -> Template:
    return _fit_page(db, principal, forms.blank_fit(), None)


@post("/scoring/fit/new", guards=GUARD, sync_to_thread=True)
def create_fit_rule(db: Db, principal: Me, data: FormData) -> Template | Redirect:
    form, document, origin = forms.parse_fit(data)
    problems = forms.fit_needs_a_condition(document)
    if not problems:
        try:
            rule = store.create_fit_rule(db, document, actor=principal.actor)
            return _done("created", rule.name)
        except InvalidInput as exc:
            problems = exc.problems
    db.rollback()
    shown = forms.with_problems(form, problems, origin)
    return _fit_page(db, principal, shown, None, status=422)


@get("/scoring/fit/{rule_id:int}/edit", guards=GUARD, sync_to_thread=True)
def edit_fit_form(db: Db, principal: Me, rule_id: FromPath[int]) -> Template:
    return _fit_page(db, principal, forms.fit_form(store.get_fit_rule(db, rule_id)), rule_id)


@post("/scoring/fit/{rule_id:int}/edit", guards=GUARD, sync_to_thread=True)
def edit_fit_rule(
    db: Db, principal: Me, rule_id: FromPath[int], data: FormData
) -> Template | Redirect:
    store.get_fit_rule(db, rule_id)
    form, document, origin = forms.parse_fit(data)
    problems = forms.fit_needs_a_condition(document)
    if not problems:
        try:
            rule = store.update_fit_rule(db, rule_id, document, actor=principal.actor)
            return _done("saved", rule.name)
        except InvalidInput as exc:
            problems = exc.problems
    db.rollback()
    shown = forms.with_problems(form, problems, origin)
    return _fit_page(db, principal, shown, rule_id, status=422)


@post("/scoring/fit/{rule_id:int}/delete", guards=GUARD, sync_to_thread=True)
def delete_fit_rule(db: Db, principal: Me, rule_id: FromPath[int]) -> Redirect:
    name = store.get_fit_rule(db, rule_id).name
    store.delete_fit_rule(db, rule_id, actor=principal.actor)
    return _done("deleted", name)


@post("/scoring/fit/{rule_id:int}/active", guards=GUARD, sync_to_thread=True)
def switch_fit_rule(db: Db, principal: Me, rule_id: FromPath[int], data: FormData) -> Redirect:
    active = data.get("active") == "true"
    rule = store.update_fit_rule(db, rule_id, {"active": active}, actor=principal.actor)
    return _done("enabled" if active else "disabled", rule.name)


handlers = [
    scoring_page,
    change_settings,
    rescore_now,
    new_behaviour_rule,
    create_behaviour_rule,
    edit_behaviour_form,
    edit_behaviour_rule,
    delete_behaviour_rule,
    switch_behaviour_rule,
    new_fit_rule,
    create_fit_rule,
    edit_fit_form,
    edit_fit_rule,
    delete_fit_rule,
    switch_fit_rule,
]
