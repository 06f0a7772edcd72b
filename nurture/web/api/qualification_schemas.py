"""What the qualification and routing API answers and accepts (documented in /schema).

Bodies are decoded by hand and checked by the domain functions, which name every bad
field at once; the `...In` structs only document them.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import Meta

from nurture.models import RoutingRule
from nurture.qualification.settings import Settings
from nurture.qualification.teams import Rep, Team


class QualificationSettingsOut(msgspec.Struct):
    enabled: bool
    mql_rule: dict[str, Any]
    sla_hours: int
    work_start: str
    work_end: str
    work_days: list[int]
    default_time_zone: str
    fallback_owner_id: int | None
    recycle_sequence_id: int | None
    recycle_score_to: int | None
    # False while nothing was saved: the defaults, with qualification off.
    stored: bool


class SettingsIn(msgspec.Struct, forbid_unknown_fields=True):
    """The settings to change; those left out keep their value."""

    enabled: bool | None = None
    mql_rule: (
        Annotated[
            dict[str, Any],
            Meta(description="A segment rule document (see GET /api/v1/segments/fields)"),
        ]
        | None
    ) = None
    sla_hours: Annotated[int, Meta(ge=1, le=1000)] | None = None
    work_start: Annotated[str, Meta(examples=["09:00"])] | None = None
    work_end: Annotated[str, Meta(examples=["17:00"])] | None = None
    work_days: Annotated[list[int], Meta(description="0 = Monday … 6 = Sunday")] | None = None
    default_time_zone: Annotated[str, Meta(examples=["Europe/Berlin"])] | None = None
    fallback_owner_id: int | None = None
    recycle_sequence_id: int | None = None
    recycle_score_to: int | None = None


class RuleOut(msgspec.Struct):
    id: int
    position: int
    name: str
    match: dict[str, Any]
    team_id: int | None
    owner_id: int | None
    active: bool


class RuleList(msgspec.Struct):
    items: list[RuleOut]


class RuleIn(msgspec.Struct, forbid_unknown_fields=True):
    """A routing rule: exactly one of `team_id` (round-robin) and `owner_id` (one rep)."""

    name: Annotated[str, Meta(max_length=200, examples=["DACH"])]
    match: (
        Annotated[dict[str, list[str]], Meta(examples=[{"country": ["DE", "AT", "CH"]}])] | None
    ) = None
    team_id: int | None = None
    owner_id: int | None = None
    active: bool = True
    position: Annotated[int, Meta(ge=1, description="1 is tried first")] | None = None


class TeamOut(msgspec.Struct):
    id: int
    name: str
    lead_id: int | None
    member_ids: list[int]


class TeamList(msgspec.Struct):
    items: list[TeamOut]


class TeamIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, Meta(max_length=200, examples=["Inside sales"])]
    lead_id: int | None = None
    member_ids: list[int] | None = None


class RepOut(msgspec.Struct):
    user_id: int
    name: str
    email: str
    active: bool
    time_zone: str | None
    capacity: int | None


class RepList(msgspec.Struct):
    items: list[RepOut]


class RepIn(msgspec.Struct, forbid_unknown_fields=True):
    """Null time zone: the firm's default; null capacity: no limit."""

    time_zone: Annotated[str, Meta(examples=["Europe/Vienna"])] | None = None
    capacity: Annotated[int, Meta(ge=0)] | None = None


def settings_out(settings: Settings) -> QualificationSettingsOut:
    values = settings.as_dict()
    return QualificationSettingsOut(stored=settings.stored, **values)


def rule_out(rule: RoutingRule) -> RuleOut:
    return RuleOut(
        id=rule.id,
        position=rule.position,
        name=rule.name,
        match=rule.match,
        team_id=rule.team_id,
        owner_id=rule.owner_id,
        active=rule.active,
    )


def team_out(team: Team) -> TeamOut:
    return TeamOut(team.id, team.name, team.lead_id, list(team.member_ids))


def rep_out(rep: Rep) -> RepOut:
    return RepOut(rep.user_id, rep.name, rep.email, rep.active, rep.time_zone, rep.capacity)
