"""Lead scoring over the API: behaviour and fit rules, the settings, a contact's score
explained and its history, a full rescore on demand.

Marketers and admins change the rules; sales keys may read them and any contact's
explanation (a rep asks "why is this lead 72?").
"""

from __future__ import annotations

from typing import Annotated

from litestar import delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter
from sqlalchemy.orm import Session

from nurture.models import Role, utcnow
from nurture.scoring import schedule, store
from nurture.scoring.explain import explain, score_history
from nurture.web.api.bodies import MAX_ID, json_body_operation, present
from nurture.web.api.responses import errors
from nurture.web.api.scoring_schemas import (
    BehaviourRuleIn,
    BehaviourRuleList,
    BehaviourRuleOut,
    BehaviourRulePatch,
    FitRuleIn,
    FitRuleList,
    FitRuleOut,
    FitRulePatch,
    HistoryOut,
    HistoryPointOut,
    RescoreOut,
    ScoreExplanationOut,
    ScoringSettingsOut,
    SettingsPatch,
    behaviour_out,
    explanation_out,
    fit_out,
    settings_out,
)
from nurture.web.auth import Principal, api_roles

READERS = api_roles(Role.ADMIN, Role.MARKETER, Role.SALES)
WRITERS = api_roles(Role.ADMIN, Role.MARKETER)
# Newest awards listed in an explanation; `by_rule` always covers them all.
MAX_ITEMS = 200

RuleId = Annotated[int, PathParameter(ge=1, le=MAX_ID, description="The rule's id")]
ContactId = Annotated[int, PathParameter(ge=1, le=MAX_ID, description="The contact's id")]


@get("/scoring/settings", guards=[READERS], sync_to_thread=True, responses=errors())
def read_settings(db: NamedDependency[Session]) -> ScoringSettingsOut:
    """The engagement half-life and the grade thresholds."""
    return settings_out(store.get_settings(db))


@patch(
    "/scoring/settings",
    guards=[WRITERS],
    sync_to_thread=True,
    summary="Change the half-life or the grade thresholds",
    operation_class=json_body_operation(SettingsPatch, description="The settings to change"),
    responses=errors(422),
)
def change_settings(
    data: JSONBody[SettingsPatch],
    db: NamedDependency[Session],
    principal: NamedDependency[Principal],
) -> ScoringSettingsOut:
    return settings_out(store.update_settings(db, present(data), actor=principal.actor))


@get("/scoring/behaviour-rules", guards=[READERS], sync_to_thread=True, responses=errors())
def list_behaviour_rules(db: NamedDependency[Session]) -> BehaviourRuleList:
    """Every behaviour rule, active or not, oldest first."""
    return BehaviourRuleList([behaviour_out(r) for r in store.list_behaviour_rules(db)])


@post(
    "/scoring/behaviour-rules",
    guards=[WRITERS],
    sync_to_thread=True,
    status_code=201,
    summary="Create a behaviour rule",
    operation_class=json_body_operation(BehaviourRuleIn, description="The rule"),
    responses=errors(422),
)
def create_behaviour_rule(
    data: JSONBody[BehaviourRuleIn],
    db: NamedDependency[Session],
    principal: NamedDependency[Principal],
) -> BehaviourRuleOut:
    return behaviour_out(store.create_behaviour_rule(db, present(data), actor=principal.actor))


@get(
    "/scoring/behaviour-rules/{rule_id:int}",
    guards=[READERS],
    sync_to_thread=True,
    responses=errors(404),
)
def read_behaviour_rule(db: NamedDependency[Session], rule_id: RuleId) -> BehaviourRuleOut:
    return behaviour_out(store.get_behaviour_rule(db, rule_id))


@patch(
    "/scoring/behaviour-rules/{rule_id:int}",
    guards=[WRITERS],
    sync_to_thread=True,
    summary="Change a behaviour rule",
    operation_class=json_body_operation(BehaviourRulePatch, description="The fields to change"),
    responses=errors(404, 422),
)
def change_behaviour_rule(
    data: JSONBody[BehaviourRulePatch],
    db: NamedDependency[Session],
    principal: NamedDependency[Principal],
    rule_id: RuleId,
) -> BehaviourRuleOut:
    rule = store.update_behaviour_rule(db, rule_id, present(data), actor=principal.actor)
    return behaviour_out(rule)


@delete(
    "/scoring/behaviour-rules/{rule_id:int}",
    guards=[WRITERS],
    sync_to_thread=True,
    summary="Delete a behaviour rule",
    responses=errors(404),
)
def delete_behaviour_rule(
    db: NamedDependency[Session], principal: NamedDependency[Principal], rule_id: RuleId
) -> None:
    store.delete_behaviour_rule(db, rule_id, actor=principal.actor)


@get("/scoring/fit-rules", guards=[READERS], sync_to_thread=True, responses=errors())
def list_fit_rules(db: NamedDependency[Session]) -> FitRuleList:
    """Every fit rule, active or not, oldest first."""
    return FitRuleList([fit_out(r) for r in store.list_fit_rules(db)])


@post(
    "/scoring/fit-rules",
    guards=[WRITERS],
    sync_to_thread=True,
    status_code=201,
    summary="Create a fit rule",
    operation_class=json_body_operation(FitRuleIn, description="The rule"),
    responses=errors(422),
)
def create_fit_rule(
    data: JSONBody[FitRuleIn], db: NamedDependency[Session], principal: NamedDependency[Principal]
) -> FitRuleOut:
    return fit_out(store.create_fit_rule(db, present(data), actor=principal.actor))


@get(
    "/scoring/fit-rules/{rule_id:int}", guards=[READERS], sync_to_thread=True, responses=errors(404)
)
def read_fit_rule(db: NamedDependency[Session], rule_id: RuleId) -> FitRuleOut:
    return fit_out(store.get_fit_rule(db, rule_id))


@patch(
    "/scoring/fit-rules/{rule_id:int}",
    guards=[WRITERS],
    sync_to_thread=True,
    summary="Change a fit rule",
    operation_class=json_body_operation(FitRulePatch, description="The fields to change"),
    responses=errors(404, 422),
)
def change_fit_rule(
    data: JSONBody[FitRulePatch],
    db: NamedDependency[Session],
    principal: NamedDependency[Principal],
    rule_id: RuleId,
) -> FitRuleOut:
    return fit_out(store.update_fit_rule(db, rule_id, present(data), actor=principal.actor))


@delete(
    "/scoring/fit-rules/{rule_id:int}",
    guards=[WRITERS],
    sync_to_thread=True,
    summary="Delete a fit rule",
    responses=errors(404),
)
def delete_fit_rule(
    db: NamedDependency[Session], principal: NamedDependency[Principal], rule_id: RuleId
) -> None:
    store.delete_fit_rule(db, rule_id, actor=principal.actor)


@get(
    "/scoring/contacts/{contact_id:int}",
    guards=[READERS],
    sync_to_thread=True,
    summary="Why a contact has its score and grade",
    description=(
        "Every rule, event and adjustment behind the score with what each is worth now "
        "(decayed); `by_rule` adds up to `total`, whose rounding is `score`."
    ),
    responses=errors(404),
)
def explain_score(db: NamedDependency[Session], contact_id: ContactId) -> ScoreExplanationOut:
    return explanation_out(explain(db, contact_id, now=utcnow()), max_items=MAX_ITEMS)


@get(
    "/scoring/contacts/{contact_id:int}/history",
    guards=[READERS],
    sync_to_thread=True,
    summary="A contact's score at the end of each day it changed",
    responses=errors(404),
)
def score_history_of(db: NamedDependency[Session], contact_id: ContactId) -> HistoryOut:
    points = score_history(db, store.live_contact(db, contact_id))
    return HistoryOut([HistoryPointOut(day, score) for day, score in points])


@post(
    "/scoring/rescore",
    guards=[WRITERS],
    sync_to_thread=True,
    status_code=202,
    summary="Recompute every contact's score and grade now",
    description="The rescore runs in the background within seconds (the next tick sends it).",
    responses=errors(),
)
def request_rescore(
    db: NamedDependency[Session], principal: NamedDependency[Principal]
) -> RescoreOut:
    schedule.request_rescore(db, now=utcnow(), actor=principal.actor)
    return RescoreOut(requested=True)


HANDLERS = [
    read_settings,
    change_settings,
    list_behaviour_rules,
    create_behaviour_rule,
    read_behaviour_rule,
    change_behaviour_rule,
    delete_behaviour_rule,
    list_fit_rules,
    create_fit_rule,
    read_fit_rule,
    change_fit_rule,
    delete_fit_rule,
    explain_score,
    score_history_of,
    request_rescore,
]
