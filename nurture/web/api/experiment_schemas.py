"""What the experiments API accepts and answers (documented in /schema), and builders
from the models. The names carry "Experiment" because the broadcasts API has variants
too, and two bodies with one name would share one /schema component."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

import msgspec
from msgspec import UNSET, Meta, UnsetType

from campaigns.experiments.store import VariantInput
from nurture.models import (
    AllocationMode,
    Experiment,
    ExperimentKind,
    ExperimentVariant,
    Metric,
)
from nurture.web.api.bodies import Id

Name = Annotated[str, Meta(max_length=200, examples=["Case study: subject line"])]
Key = Annotated[str, Meta(max_length=20, examples=["b"])]
Share = Annotated[float, Meta(ge=0, le=1)]
Rate = Annotated[float, Meta(gt=0, lt=1)]
Amount = Annotated[int, Meta(ge=0, le=10_000)]


class ExperimentDelayIn(msgspec.Struct, forbid_unknown_fields=True):
    """Send this much later than the control (measured from the step's start)."""

    days: Amount | UnsetType = UNSET
    hours: Amount | UnsetType = UNSET
    minutes: Amount | UnsetType = UNSET


class ExperimentContentIn(msgspec.Struct, forbid_unknown_fields=True):
    """What the variant changes; a field left out is the same as the control's."""

    template_id: Id | UnsetType = UNSET
    version: Annotated[int, Meta(ge=1, le=2**31 - 1)] | UnsetType = UNSET
    subject: Annotated[str, Meta(max_length=500)] | UnsetType = UNSET
    preheader: Annotated[str, Meta(max_length=500)] | UnsetType = UNSET
    from_name: Annotated[str, Meta(max_length=200)] | UnsetType = UNSET
    delay: ExperimentDelayIn | UnsetType = UNSET


class ExperimentVariantIn(msgspec.Struct, forbid_unknown_fields=True):
    """One arm: "a", "b"... on a mail step ("a" is the step's own e-mail), "0", "1"...
    on a split (the path index). Weights add up to 1; leave all out for equal shares."""

    key: Key
    name: Annotated[str, Meta(max_length=200)] = ""
    weight: Share | None = None
    content: ExperimentContentIn = msgspec.field(default_factory=ExperimentContentIn)


Variants = Annotated[list[ExperimentVariantIn], Meta(min_length=1, max_length=26)]


class ExperimentIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A new experiment, created as a draft. Name its place: `sequence_id` and `step_key`
    (kind "step" or "split") or `broadcast_id` (kind "broadcast")."""

    name: Name
    kind: ExperimentKind
    variants: Variants
    sequence_id: Id | None = None
    step_key: Annotated[str, Meta(max_length=40)] | None = None
    broadcast_id: Id | None = None
    metric: Metric = Metric.CLICKS
    conversion_event: Annotated[str, Meta(max_length=100)] | None = None
    window_days: Annotated[int, Meta(ge=1, le=365)] = 14
    mode: AllocationMode = AllocationMode.FIXED
    bandit_floor: Annotated[float, Meta(ge=0, le=0.5)] = 0.1
    baseline_rate: Rate | None = None
    min_effect: Annotated[float, Meta(gt=0, le=10)] = 0.2
    alpha: Rate = 0.05
    power: Rate = 0.8
    guardrail_stop: bool = False
    default_variant: Key | None = None


class ExperimentPatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The fields to change; left out keeps. `variants` replaces all of them. A running
    experiment may change only its name, guardrail_stop and default_variant."""

    name: Name | UnsetType = UNSET
    variants: Variants | UnsetType = UNSET
    metric: Metric | UnsetType = UNSET
    conversion_event: Annotated[str, Meta(max_length=100)] | UnsetType | None = UNSET
    window_days: Annotated[int, Meta(ge=1, le=365)] | UnsetType = UNSET
    mode: AllocationMode | UnsetType = UNSET
    bandit_floor: Annotated[float, Meta(ge=0, le=0.5)] | UnsetType = UNSET
    baseline_rate: Rate | UnsetType | None = UNSET
    min_effect: Annotated[float, Meta(gt=0, le=10)] | UnsetType = UNSET
    alpha: Rate | UnsetType = UNSET
    power: Rate | UnsetType = UNSET
    guardrail_stop: bool | UnsetType = UNSET
    default_variant: Key | UnsetType = UNSET


class ExperimentDeclareIn(msgspec.Struct, forbid_unknown_fields=True):
    """The variant to declare the winner, and why (kept in the audit log)."""

    variant_key: Key
    reason: Annotated[str, Meta(max_length=500)] = ""


class ExperimentVariantOut(msgspec.Struct):
    key: str
    name: str
    position: int
    weight: float
    content: dict[str, Any]
    allocation: float | None
    stopped_at: datetime | None
    stopped_reason: str | None


class ExperimentOut(msgspec.Struct):
    """The definition, and the results document as the results page shows it (null until
    the first refresh): per arm the counts, rate with its Wilson interval, the lift
    against the control, the probability to be best; the plan; the decision and why."""

    id: int
    name: str
    kind: str
    status: str
    sequence_id: int | None
    step_key: str | None
    broadcast_id: int | None
    metric: str
    conversion_event: str | None
    window_days: int
    mode: str
    bandit_floor: float
    baseline_rate: float | None
    min_effect: float
    alpha: float
    power: float
    planned_per_variant: int | None
    guardrail_stop: bool
    default_variant: str
    winner_variant: str | None
    decision_reason: str | None
    decided_by: str | None
    started_at: datetime | None
    decided_at: datetime | None
    results_at: datetime | None
    created_at: datetime
    variants: list[ExperimentVariantOut]
    results: dict[str, Any] | None


class ExperimentSummaryOut(msgspec.Struct):
    id: int
    name: str
    kind: str
    status: str
    sequence_id: int | None
    step_key: str | None
    broadcast_id: int | None
    metric: str
    mode: str
    winner_variant: str | None
    # The decision's state in the last results ("collecting", "winner"...), if any.
    decision: str | None
    started_at: datetime | None
    created_at: datetime


class ExperimentList(msgspec.Struct):
    items: list[ExperimentSummaryOut]


def variant_inputs(variants: Sequence[ExperimentVariantIn]) -> list[VariantInput]:
    """The decoded arms as the store takes them (content without the fields left out)."""
    return [
        VariantInput(
            key=v.key,
            name=v.name,
            weight=v.weight,
            content=msgspec.to_builtins(v.content),
        )
        for v in variants
    ]


def experiment_out(experiment: Experiment, variants: Sequence[ExperimentVariant]) -> ExperimentOut:
    return ExperimentOut(
        id=experiment.id,
        name=experiment.name,
        kind=experiment.kind,
        status=experiment.status,
        sequence_id=experiment.sequence_id,
        step_key=experiment.step_key,
        broadcast_id=experiment.broadcast_id,
        metric=experiment.metric,
        conversion_event=experiment.conversion_event,
        window_days=experiment.window_days,
        mode=experiment.mode,
        bandit_floor=experiment.bandit_floor,
        baseline_rate=experiment.baseline_rate,
        min_effect=experiment.min_effect,
        alpha=experiment.alpha,
        power=experiment.power,
        planned_per_variant=experiment.planned_per_variant,
        guardrail_stop=experiment.guardrail_stop,
        default_variant=experiment.default_variant,
        winner_variant=experiment.winner_variant,
        decision_reason=experiment.decision_reason,
        decided_by=experiment.decided_by,
        started_at=experiment.started_at,
        decided_at=experiment.decided_at,
        results_at=experiment.results_at,
        created_at=experiment.created_at,
        variants=[
            ExperimentVariantOut(
                key=v.key,
                name=v.name,
                position=v.position,
                weight=v.weight,
                content=dict(v.content or {}),
                allocation=v.allocation,
                stopped_at=v.stopped_at,
                stopped_reason=v.stopped_reason,
            )
            for v in variants
        ],
        results=experiment.results,
    )


def summary_out(experiment: Experiment) -> ExperimentSummaryOut:
    decision = (experiment.results or {}).get("decision")
    state = decision.get("state") if isinstance(decision, dict) else None
    return ExperimentSummaryOut(
        id=experiment.id,
        name=experiment.name,
        kind=experiment.kind,
        status=experiment.status,
        sequence_id=experiment.sequence_id,
        step_key=experiment.step_key,
        broadcast_id=experiment.broadcast_id,
        metric=experiment.metric,
        mode=experiment.mode,
        winner_variant=experiment.winner_variant,
        decision=state if isinstance(state, str) else None,
        started_at=experiment.started_at,
        created_at=experiment.created_at,
    )
