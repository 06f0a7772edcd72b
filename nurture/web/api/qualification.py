"""Qualification settings, routing rules, sales teams and reps over the API.

Any API key may read them (a CRM integration mirrors who owns what); marketers and
admins change the qualification settings (the MQL rule is a marketing decision);
only admins change teams, reps and routing. Bodies are decoded by hand so the domain
functions name every bad field at once; nothing is saved unless all of it is valid.
"""

from __future__ import annotations

from typing import Annotated

from litestar import delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import PathParameter, RawBody
from sqlalchemy.orm import Session

from nurture.models import Role
from nurture.qualification import routing_rules, settings, teams
from nurture.web.api.bodies import MAX_ID, json_body_operation, json_object
from nurture.web.api.qualification_schemas import (
    QualificationSettingsOut,
    RepIn,
    RepList,
    RepOut,
    RuleIn,
    RuleList,
    RuleOut,
    SettingsIn,
    TeamIn,
    TeamList,
    TeamOut,
    rep_out,
    rule_out,
    settings_out,
    team_out,
)
from nurture.web.api.responses import errors
from nurture.web.auth import Principal, api_roles

READERS = api_roles(Role.ADMIN, Role.MARKETER, Role.SALES)
MARKETING = api_roles(Role.ADMIN, Role.MARKETER)
ADMINS = api_roles(Role.ADMIN)

RuleId = Annotated[int, PathParameter(ge=1, le=MAX_ID, description="The routing rule's id")]
TeamId = Annotated[int, PathParameter(ge=1, le=MAX_ID, description="The sales team's id")]
UserId = Annotated[int, PathParameter(ge=1, le=MAX_ID, description="The sales user's id")]


@get(
    "/qualification/settings",
    guards=[READERS],
    sync_to_thread=True,
    summary="The qualification settings (MQL rule, SLA, working hours, fallback, recycling)",
    responses=errors(),
)
def read_settings(db: NamedDependency[Session]) -> QualificationSettingsOut:
    return settings_out(settings.get(db))


@put(
    "/qualification/settings",
    guards=[MARKETING],
    sync_to_thread=True,
    summary="Change the qualification settings",
    description="Fields left out keep their value. A bad field answers 422 and nothing is saved.",
    operation_class=json_body_operation(SettingsIn, description="The settings to change"),
    responses=errors(422),
)
def change_settings(
    body: RawBody, db: NamedDependency[Session], principal: NamedDependency[Principal]
) -> QualificationSettingsOut:
    changed = settings.update(
        db, json_object(body), actor=principal.actor, user_id=_user_id(principal)
    )
    return settings_out(changed)


@get(
    "/routing/rules",
    guards=[READERS],
    sync_to_thread=True,
    summary="Routing rules in the order they are tried",
    responses=errors(),
)
def list_rules(db: NamedDependency[Session]) -> RuleList:
    return RuleList([rule_out(r) for r in routing_rules.list_rules(db)])


@post(
    "/routing/rules",
    guards=[ADMINS],
    sync_to_thread=True,
    status_code=201,
    summary="Add a routing rule (last, or at `position`)",
    operation_class=json_body_operation(RuleIn, description="The rule"),
    responses=errors(422),
)
def create_rule(
    body: RawBody, db: NamedDependency[Session], principal: NamedDependency[Principal]
) -> RuleOut:
    return rule_out(routing_rules.create_rule(db, json_object(body), actor=principal.actor))


@get("/routing/rules/{rule_id:int}", guards=[READERS], sync_to_thread=True, responses=errors(404))
def read_rule(db: NamedDependency[Session], rule_id: RuleId) -> RuleOut:
    return rule_out(routing_rules.get_rule(db, rule_id))


@patch(
    "/routing/rules/{rule_id:int}",
    guards=[ADMINS],
    sync_to_thread=True,
    summary="Change a routing rule, or move it to `position`",
    operation_class=json_body_operation(RuleIn, description="The parts to change"),
    responses=errors(404, 422),
)
def change_rule(
    body: RawBody,
    db: NamedDependency[Session],
    principal: NamedDependency[Principal],
    rule_id: RuleId,
) -> RuleOut:
    return rule_out(
        routing_rules.update_rule(db, rule_id, json_object(body), actor=principal.actor)
    )


@delete(
    "/routing/rules/{rule_id:int}",
    guards=[ADMINS],
    sync_to_thread=True,
    summary="Delete a routing rule",
    responses=errors(404),
)
def delete_rule(
    db: NamedDependency[Session], principal: NamedDependency[Principal], rule_id: RuleId
) -> None:
    routing_rules.delete_rule(db, rule_id, actor=principal.actor)


@get(
    "/sales/teams", guards=[READERS], sync_to_thread=True, summary="Sales teams", responses=errors()
)
def list_teams(db: NamedDependency[Session]) -> TeamList:
    return TeamList([team_out(t) for t in teams.list_teams(db)])


@post(
    "/sales/teams",
    guards=[ADMINS],
    sync_to_thread=True,
    status_code=201,
    summary="Create a sales team",
    operation_class=json_body_operation(TeamIn, description="The team"),
    responses=errors(422),
)
def create_team(
    body: RawBody, db: NamedDependency[Session], principal: NamedDependency[Principal]
) -> TeamOut:
    return team_out(teams.create_team(db, json_object(body), actor=principal.actor))


@get("/sales/teams/{team_id:int}", guards=[READERS], sync_to_thread=True, responses=errors(404))
def read_team(db: NamedDependency[Session], team_id: TeamId) -> TeamOut:
    return team_out(teams.get_team(db, team_id))


@patch(
    "/sales/teams/{team_id:int}",
    guards=[ADMINS],
    sync_to_thread=True,
    summary="Rename a team, set its lead or its members",
    operation_class=json_body_operation(TeamIn, description="The parts to change"),
    responses=errors(404, 422),
)
def change_team(
    body: RawBody,
    db: NamedDependency[Session],
    principal: NamedDependency[Principal],
    team_id: TeamId,
) -> TeamOut:
    return team_out(teams.update_team(db, team_id, json_object(body), actor=principal.actor))


@delete(
    "/sales/teams/{team_id:int}",
    guards=[ADMINS],
    sync_to_thread=True,
    summary="Delete a sales team (and the routing rules that send leads to it)",
    responses=errors(404),
)
def delete_team(
    db: NamedDependency[Session], principal: NamedDependency[Principal], team_id: TeamId
) -> None:
    teams.delete_team(db, team_id, actor=principal.actor)


@get(
    "/sales/reps",
    guards=[READERS],
    sync_to_thread=True,
    summary="Sales users with their time zone and capacity",
    responses=errors(),
)
def list_reps(db: NamedDependency[Session]) -> RepList:
    return RepList([rep_out(r) for r in teams.list_reps(db)])


@get("/sales/reps/{user_id:int}", guards=[READERS], sync_to_thread=True, responses=errors(404))
def read_rep(db: NamedDependency[Session], user_id: UserId) -> RepOut:
    return rep_out(teams.get_rep(db, user_id))


@patch(
    "/sales/reps/{user_id:int}",
    guards=[ADMINS],
    sync_to_thread=True,
    summary="Set a rep's time zone (the SLA clock) and capacity (most pending hand-offs)",
    operation_class=json_body_operation(RepIn, description="The parts to change"),
    responses=errors(404, 422),
)
def change_rep(
    body: RawBody,
    db: NamedDependency[Session],
    principal: NamedDependency[Principal],
    user_id: UserId,
) -> RepOut:
    return rep_out(teams.update_rep(db, user_id, json_object(body), actor=principal.actor))


def _user_id(principal: Principal) -> int | None:
    return principal.id if principal.kind == "user" else None


HANDLERS = [
    read_settings,
    change_settings,
    list_rules,
    create_rule,
    read_rule,
    change_rule,
    delete_rule,
    list_teams,
    create_team,
    read_team,
    change_team,
    delete_team,
    list_reps,
    read_rep,
    change_rep,
]
