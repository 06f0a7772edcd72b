"""What the scoring API answers and accepts (documented in /schema)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import msgspec
from msgspec import UNSET, Meta, UnsetType

from nurture.models import BehaviourRule, FitRule, ScoringSettings
from nurture.scoring.explain import Contribution, Explanation, FitMatch, RuleShare


class BehaviourRuleIn(msgspec.Struct, forbid_unknown_fields=True):
    """Points per event of `event_type` whose properties pass every `where` condition
    (the segment rules' property conditions). Optional: a cap (at most `cap_points`
    per `cap_days`) and a threshold (`threshold_count` events in `threshold_days`
    award the points once per window)."""

    name: Annotated[str, Meta(examples=["Clicked a pricing link"])]
    event_type: Annotated[str, Meta(examples=["email.clicked"])]
    points: Annotated[int, Meta(examples=[10])]
    where: Annotated[
        list[dict[str, Any]],
        Meta(examples=[[{"property": "url", "op": "contains", "value": "pricing"}]]),
    ] = msgspec.field(default_factory=list)
    cap_points: int | None = None
    cap_days: int | None = None
    threshold_count: int | None = None
    threshold_days: int | None = None
    active: bool = True


class BehaviourRulePatch(msgspec.Struct, forbid_unknown_fields=True):
    """The fields to change: left out keeps, null clears (caps and thresholds)."""

    name: str | UnsetType = UNSET
    event_type: str | UnsetType = UNSET
    points: int | UnsetType = UNSET
    where: list[dict[str, Any]] | UnsetType = UNSET
    cap_points: int | UnsetType | None = UNSET
    cap_days: int | UnsetType | None = UNSET
    threshold_count: int | UnsetType | None = UNSET
    threshold_days: int | UnsetType | None = UNSET
    active: bool | UnsetType = UNSET


class FitRuleIn(msgspec.Struct, forbid_unknown_fields=True):
    """Points for contacts matching `condition`: a segment-rule node over contact and
    company fields and custom attributes."""

    name: Annotated[str, Meta(examples=["Partner or director"])]
    condition: Annotated[
        dict[str, Any], Meta(examples=[{"field": "title", "op": "contains", "value": "partner"}])
    ]
    points: Annotated[int, Meta(examples=[20])]
    active: bool = True


class FitRulePatch(msgspec.Struct, forbid_unknown_fields=True):
    """The fields to change; left out keeps."""

    name: str | UnsetType = UNSET
    condition: dict[str, Any] | UnsetType = UNSET
    points: int | UnsetType = UNSET
    active: bool | UnsetType = UNSET


class SettingsPatch(msgspec.Struct, forbid_unknown_fields=True):
    """Engagement half-life in days (above 0) and the fit points each grade needs."""

    half_life_days: float | UnsetType = UNSET
    grade_a: int | UnsetType = UNSET
    grade_b: int | UnsetType = UNSET
    grade_c: int | UnsetType = UNSET


class ScoringSettingsOut(msgspec.Struct):
    half_life_days: float
    grade_a: int
    grade_b: int
    grade_c: int
    rules_changed_at: datetime | None
    rescored_at: datetime | None


class BehaviourRuleOut(msgspec.Struct):
    id: int
    name: str
    event_type: str
    where: list[dict[str, Any]]
    points: int
    cap_points: int | None
    cap_days: int | None
    threshold_count: int | None
    threshold_days: int | None
    active: bool
    created_at: datetime
    updated_at: datetime


class BehaviourRuleList(msgspec.Struct):
    items: list[BehaviourRuleOut]


class FitRuleOut(msgspec.Struct):
    id: int
    name: str
    condition: dict[str, Any]
    points: int
    active: bool
    created_at: datetime
    updated_at: datetime


class FitRuleList(msgspec.Struct):
    items: list[FitRuleOut]


class ContributionOut(msgspec.Struct):
    kind: str
    points: float
    contribution: float
    occurred_at: datetime
    rule_id: int | None
    rule_name: str | None
    event_id: int | None
    event_type: str | None
    reason: str | None


class RuleShareOut(msgspec.Struct):
    rule_id: int | None
    name: str
    awards: int
    points: float
    contribution: float


class FitMatchOut(msgspec.Struct):
    rule_id: int
    name: str
    points: int


class ScoreExplanationOut(msgspec.Struct):
    """Why the contact has its score: `by_rule` adds up to `total`, and `score` is
    `total` rounded (halves away from zero); `items` lists the newest awards."""

    contact_id: int
    now: datetime
    half_life_days: float
    score: int
    total: float
    by_rule: list[RuleShareOut]
    items: list[ContributionOut]
    items_total: int
    fit_points: int
    grade: str | None
    fit_matches: list[FitMatchOut]
    thresholds: dict[str, int]


class HistoryPointOut(msgspec.Struct):
    day: date
    score: int


class HistoryOut(msgspec.Struct):
    items: list[HistoryPointOut]


class RescoreOut(msgspec.Struct):
    requested: bool


def settings_out(row: ScoringSettings) -> ScoringSettingsOut:
    return ScoringSettingsOut(
        half_life_days=row.half_life_days,
        grade_a=row.grade_a,
        grade_b=row.grade_b,
        grade_c=row.grade_c,
        rules_changed_at=row.rules_changed_at,
        rescored_at=row.rescored_at,
    )


def behaviour_out(rule: BehaviourRule) -> BehaviourRuleOut:
    return BehaviourRuleOut(
        id=rule.id,
        name=rule.name,
        event_type=rule.event_type,
        where=list(rule.where),
        points=rule.points,
        cap_points=rule.cap_points,
        cap_days=rule.cap_days,
        threshold_count=rule.threshold_count,
        threshold_days=rule.threshold_days,
        active=rule.active,
        created_at=rule.created_at,
        updated_at=rule.updated_at,
    )


def fit_out(rule: FitRule) -> FitRuleOut:
    return FitRuleOut(
        id=rule.id,
        name=rule.name,
        condition=dict(rule.condition),
        points=rule.points,
        active=rule.active,
        created_at=rule.created_at,
        updated_at=rule.updated_at,
    )


def explanation_out(explanation: Explanation, *, max_items: int) -> ScoreExplanationOut:
    return ScoreExplanationOut(
        contact_id=explanation.contact_id,
        now=explanation.now,
        half_life_days=explanation.half_life_days,
        score=explanation.score,
        total=explanation.total,
        by_rule=[_share(s) for s in explanation.by_rule],
        items=[_item(i) for i in explanation.items[:max_items]],
        items_total=len(explanation.items),
        fit_points=explanation.fit_points,
        grade=explanation.grade,
        fit_matches=[_fit(m) for m in explanation.fit_matches],
        thresholds=dict(explanation.thresholds),
    )


def _share(share: RuleShare) -> RuleShareOut:
    return RuleShareOut(share.rule_id, share.name, share.awards, share.points, share.contribution)


def _item(item: Contribution) -> ContributionOut:
    return ContributionOut(
        kind=item.kind,
        points=item.points,
        contribution=item.contribution,
        occurred_at=item.occurred_at,
        rule_id=item.rule_id,
        rule_name=item.rule_name,
        event_id=item.event_id,
        event_type=item.event_type,
        reason=item.reason,
    )


def _fit(match: FitMatch) -> FitMatchOut:
    return FitMatchOut(match.rule_id, match.name, match.points)
