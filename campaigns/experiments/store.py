"""Experiments: create, edit, start, stop and declare, with validation and audit.

One experiment belongs to a sequence's mail step (kind "step"), a sequence's split
step (kind "split", its variants are the paths "0", "1"...) or a broadcast's test
phase (kind "broadcast"). Every problem with the input comes back in one InvalidInput
whose fields name the place (`variants[1].weight`, `conversion_event`); a change the
experiment's state does not allow is a Conflict; a declaration the data do not support
is a DeclarationRefused (a Conflict) carrying the reason in plain words.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.experiments import decision, results
from campaigns.experiments.validation import (
    Settings,
    Target,
    VariantInput,
    check_name,
    check_settings,
    check_templates,
    check_variants,
    find_target,
)
from nurture import audit
from nurture.errors import Conflict, InvalidInput, NotFound, Problem
from nurture.models import (
    Event,
    Experiment,
    ExperimentKind,
    ExperimentStatus,
    ExperimentVariant,
)

__all__ = [
    "UNSET",
    "DeclarationRefused",
    "VariantInput",
    "conclude",
    "create_experiment",
    "declare_winner",
    "definition",
    "experiment_of_broadcast",
    "experiment_of_step",
    "get_experiment",
    "list_experiments",
    "planned_sample",
    "start_experiment",
    "stop_experiment",
    "stop_variant",
    "update_experiment",
    "variants_of",
]

ENTITY = "experiment"
MAX_REASON = 1000


class DeclarationRefused(Conflict):
    """A winner the data do not support; `reason` says why in plain words."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class _Unset:
    pass


UNSET: Any = _Unset()


def create_experiment(
    session: Session,
    *,
    actor: str,
    name: str,
    kind: str,
    variants: Sequence[VariantInput],
    sequence_id: int | None = None,
    step_key: str | None = None,
    broadcast_id: int | None = None,
    metric: str = "clicks",
    conversion_event: str | None = None,
    window_days: int = 14,
    mode: str = "fixed",
    bandit_floor: float = 0.1,
    baseline_rate: float | None = None,
    min_effect: float = 0.2,
    alpha: float = 0.05,
    power: float = 0.8,
    guardrail_stop: bool = False,
    default_variant: str | None = None,
) -> Experiment:
    """A new draft experiment with its variants; the caller commits.

    Raises InvalidInput naming the fields, or Conflict (the step or broadcast has an
    experiment already)."""
    problems: list[Problem] = []
    name = check_name(name, problems)
    target = find_target(
        session,
        kind,
        sequence_id=sequence_id,
        step_key=step_key,
        broadcast_id=broadcast_id,
        problems=problems,
    )
    control = "0" if kind == ExperimentKind.SPLIT.value else "a"
    settings = Settings(
        kind=kind,
        metric=metric,
        conversion_event=conversion_event,
        window_days=window_days,
        mode=mode,
        bandit_floor=bandit_floor,
        baseline_rate=baseline_rate,
        min_effect=min_effect,
        alpha=alpha,
        power=power,
        default_variant=control if default_variant is None else default_variant,
    )
    weights = _check_all(session, settings, variants, target, problems)
    if problems:
        raise InvalidInput(problems)
    _refuse_second(session, kind, sequence_id, step_key, broadcast_id)
    experiment = Experiment(
        name=name,
        kind=kind,
        status=ExperimentStatus.DRAFT.value,
        salt=secrets.token_hex(16),
        sequence_id=sequence_id if kind != ExperimentKind.BROADCAST.value else None,
        step_key=step_key if kind != ExperimentKind.BROADCAST.value else None,
        broadcast_id=broadcast_id if kind == ExperimentKind.BROADCAST.value else None,
        guardrail_stop=bool(guardrail_stop),
        created_by=actor,
        looks={},
    )
    _apply_settings(experiment, settings)
    session.add(experiment)
    session.flush()
    _replace_variants(session, experiment, variants, weights)
    audit.record(
        session,
        actor=actor,
        action="experiment.created",
        entity_type=ENTITY,
        entity_id=experiment.id,
        changes={"name": name, "kind": kind, "variants": [v.key for v in variants]},
    )
    return experiment


# What a running experiment may still change: nothing the counts or assignment depend on.
_WHILE_RUNNING = frozenset({"name", "guardrail_stop", "default_variant"})
_WHEN_ENDED = frozenset({"name"})


def update_experiment(
    session: Session,
    experiment_id: int,
    *,
    actor: str,
    name: str | None = None,
    variants: Sequence[VariantInput] | None = None,
    metric: str | None = None,
    conversion_event: str | None = UNSET,
    window_days: int | None = None,
    mode: str | None = None,
    bandit_floor: float | None = None,
    baseline_rate: float | None = UNSET,
    min_effect: float | None = None,
    alpha: float | None = None,
    power: float | None = None,
    guardrail_stop: bool | None = None,
    default_variant: str | None = None,
) -> Experiment:
    """Change what is given (None / UNSET: keep). A draft may change anything; a running
    experiment only its name, guardrail_stop and default_variant (the rest would change
    the test under way: Conflict naming the field); an ended one only its name. The
    variants given replace all of them. The caller commits."""
    experiment = get_experiment(session, experiment_id, lock=True)
    given: dict[str, Any] = {
        "name": name,
        "variants": variants,
        "metric": metric,
        "conversion_event": conversion_event,
        "window_days": window_days,
        "mode": mode,
        "bandit_floor": bandit_floor,
        "baseline_rate": baseline_rate,
        "min_effect": min_effect,
        "alpha": alpha,
        "power": power,
        "guardrail_stop": guardrail_stop,
        "default_variant": default_variant,
    }
    changing = {k: v for k, v in given.items() if v is not None and v is not UNSET}
    for k in ("conversion_event", "baseline_rate"):
        if given[k] is None:
            changing[k] = None  # None given explicitly clears these two
    _refuse_in_state(experiment, set(changing))
    problems: list[Problem] = []
    if "name" in changing:
        changing["name"] = check_name(changing["name"], problems)
    current = variants_of(session, experiment.id)
    new_variants = list(variants) if variants is not None else [_as_input(v) for v in current]
    settings = Settings(
        kind=experiment.kind,
        metric=changing.get("metric", experiment.metric),
        conversion_event=changing.get("conversion_event", experiment.conversion_event),
        window_days=changing.get("window_days", experiment.window_days),
        mode=changing.get("mode", experiment.mode),
        bandit_floor=changing.get("bandit_floor", experiment.bandit_floor),
        baseline_rate=changing.get("baseline_rate", experiment.baseline_rate),
        min_effect=changing.get("min_effect", experiment.min_effect),
        alpha=changing.get("alpha", experiment.alpha),
        power=changing.get("power", experiment.power),
        default_variant=changing.get("default_variant", experiment.default_variant),
    )
    target = Target()
    if experiment.status == ExperimentStatus.DRAFT.value:
        target = find_target(
            session,
            experiment.kind,
            sequence_id=experiment.sequence_id,
            step_key=experiment.step_key,
            broadcast_id=experiment.broadcast_id,
            problems=problems,
        )
    weights = _check_all(session, settings, new_variants, target, problems)
    if problems:
        raise InvalidInput(problems)
    if "name" in changing:
        experiment.name = changing["name"]
    if "guardrail_stop" in changing:
        experiment.guardrail_stop = bool(changing["guardrail_stop"])
    _apply_settings(experiment, settings)
    if variants is not None:
        _replace_variants(session, experiment, new_variants, weights)
    audit.record(
        session,
        actor=actor,
        action="experiment.updated",
        entity_type=ENTITY,
        entity_id=experiment.id,
        changes={
            k: ([v.key for v in new_variants] if k == "variants" else v)
            for k, v in changing.items()
        },
    )
    return experiment


def start_experiment(
    session: Session, experiment_id: int, *, actor: str, now: datetime
) -> Experiment:
    """Draft -> running: fixes `planned_per_variant` from the plan and starts exposing.
    Conflict unless a draft. The caller commits."""
    experiment = get_experiment(session, experiment_id, lock=True)
    if experiment.status != ExperimentStatus.DRAFT.value:
        raise Conflict(f"only a draft experiment can be started (this one is {experiment.status})")
    # The step or broadcast may have changed since the draft was saved.
    problems: list[Problem] = []
    target = find_target(
        session,
        experiment.kind,
        sequence_id=experiment.sequence_id,
        step_key=experiment.step_key,
        broadcast_id=experiment.broadcast_id,
        problems=problems,
    )
    variants = variants_of(session, experiment.id)
    check_templates(session, [_as_input(v) for v in variants], target, problems)
    if problems:
        raise InvalidInput(problems)
    experiment.planned_per_variant = planned_sample(
        baseline_rate=experiment.baseline_rate,
        min_effect=experiment.min_effect,
        alpha=experiment.alpha,
        power=experiment.power,
        arms=len(variants),
    )
    experiment.status = ExperimentStatus.RUNNING.value
    experiment.started_at = now
    experiment.looks = {}
    experiment.results = None
    # Nothing before the start can be an outcome of its exposures: the refresh reads on
    # from here rather than through the whole event log.
    experiment.event_watermark = int(session.scalar(select(func.max(Event.id))) or 0)
    experiment.refreshed_at = now
    audit.record(
        session,
        actor=actor,
        action="experiment.started",
        entity_type=ENTITY,
        entity_id=experiment.id,
        changes={"planned_per_variant": experiment.planned_per_variant},
    )
    return experiment


def stop_experiment(
    session: Session, experiment_id: int, *, actor: str, now: datetime, reason: str = ""
) -> Experiment:
    """Running (or draft) -> stopped without a winner: everyone new gets the default
    variant. Conflict when already ended. The caller commits."""
    experiment = get_experiment(session, experiment_id, lock=True)
    if experiment.status not in (ExperimentStatus.DRAFT.value, ExperimentStatus.RUNNING.value):
        raise Conflict(f"the experiment has ended already ({experiment.status})")
    experiment.status = ExperimentStatus.STOPPED.value
    experiment.decided_at = now
    experiment.decided_by = actor
    experiment.decision_reason = (reason.strip() or f"stopped by {actor}")[:MAX_REASON]
    audit.record(
        session,
        actor=actor,
        action="experiment.stopped",
        entity_type=ENTITY,
        entity_id=experiment.id,
        changes={"reason": experiment.decision_reason},
    )
    _refresh_results(session, experiment, now)
    return experiment


def declare_winner(
    session: Session,
    experiment_id: int,
    *,
    variant_key: str,
    actor: str,
    now: datetime,
    reason: str = "",
) -> Experiment:
    """Running -> decided with `variant_key` as the winner, after computing the results
    afresh. DeclarationRefused (with the reason) unless the decision says the data
    support it (`can_declare` and the key in `declarable`). The caller commits."""
    experiment = get_experiment(session, experiment_id, lock=True)
    if experiment.status != ExperimentStatus.RUNNING.value:
        raise Conflict(
            f"only a running experiment can be decided (this one is {experiment.status})"
        )
    keys = [v.key for v in variants_of(session, experiment.id)]
    if variant_key not in keys:
        raise InvalidInput.single("variant_key", f"must be one of {', '.join(keys)}")
    document = results.compute(session, experiment.id, now=now)
    verdict = document.get("decision") or {}
    if not verdict.get("can_declare") or variant_key not in (verdict.get("declarable") or []):
        why = str(verdict.get("reason") or "the data do not support a winner yet")
        raise DeclarationRefused(f"{variant_key!r} cannot be declared the winner: {why}")
    _decide(experiment, variant_key, actor=actor, now=now, reason=reason or str(verdict["reason"]))
    audit.record(
        session,
        actor=actor,
        action="experiment.declared",
        entity_type=ENTITY,
        entity_id=experiment.id,
        changes={"winner": variant_key, "reason": experiment.decision_reason},
    )
    _refresh_results(session, experiment, now)
    return experiment


def conclude(session: Session, experiment_id: int, *, actor: str, now: datetime) -> str:
    """End a running test by its rule (a broadcast's test phase at `decide_at`): decided
    when the final look names a winner, else stopped; answers the variant everyone new
    gets (the winner, or the default). An ended experiment answers its variant as is.
    The caller commits."""
    experiment = get_experiment(session, experiment_id, lock=True)
    if experiment.status != ExperimentStatus.RUNNING.value:
        return experiment.winner_variant or experiment.default_variant
    document = results.compute(session, experiment.id, now=now, final=True)
    verdict = document.get("decision") or {}
    winner = verdict.get("winner")
    reason = str(verdict.get("reason") or "")
    if verdict.get("state") == "winner" and isinstance(winner, str):
        _decide(experiment, winner, actor=actor, now=now, reason=reason)
        action = "experiment.declared"
    else:
        experiment.status = ExperimentStatus.STOPPED.value
        experiment.decided_at = now
        experiment.decided_by = actor
        experiment.decision_reason = (reason or "no winner at the end of the test")[:MAX_REASON]
        action = "experiment.stopped"
    audit.record(
        session,
        actor=actor,
        action=action,
        entity_type=ENTITY,
        entity_id=experiment.id,
        changes={"winner": experiment.winner_variant, "reason": experiment.decision_reason},
    )
    _refresh_results(session, experiment, now)
    return experiment.winner_variant or experiment.default_variant


def stop_variant(
    session: Session,
    experiment_id: int,
    variant_key: str,
    *,
    actor: str,
    now: datetime,
    reason: str,
) -> ExperimentVariant:
    """Stop one arm of a running experiment: no new contact gets it (its exposures
    still count). Conflict when it is the last arm left. The caller commits."""
    experiment = get_experiment(session, experiment_id, lock=True)
    if experiment.status != ExperimentStatus.RUNNING.value:
        raise Conflict(f"only a running experiment's variants can be stopped ({experiment.status})")
    variants = variants_of(session, experiment.id)
    variant = next((v for v in variants if v.key == variant_key), None)
    if variant is None:
        raise NotFound("variant", variant_key)
    if variant.stopped_at is not None:
        return variant
    if sum(1 for v in variants if v.stopped_at is None) <= 1:
        raise Conflict("the last variant left cannot be stopped: stop the experiment instead")
    variant.stopped_at = now
    variant.stopped_reason = (reason.strip() or f"stopped by {actor}")[:500]
    audit.record(
        session,
        actor=actor,
        action="experiment.variant_stopped",
        entity_type=ENTITY,
        entity_id=experiment.id,
        changes={"variant": variant_key, "reason": variant.stopped_reason},
    )
    return variant


def get_experiment(session: Session, experiment_id: int, *, lock: bool = False) -> Experiment:
    """The experiment, or NotFound. `lock` holds its row until the commit (PostgreSQL),
    so two people starting or declaring at once do not both succeed."""
    query = select(Experiment).where(Experiment.id == experiment_id)
    experiment = session.scalars(query.with_for_update() if lock else query).one_or_none()
    if experiment is None:
        raise NotFound(ENTITY, experiment_id)
    return experiment


def variants_of(session: Session, experiment_id: int) -> list[ExperimentVariant]:
    """Its variants in their order (position, key)."""
    return list(
        session.scalars(
            select(ExperimentVariant)
            .where(ExperimentVariant.experiment_id == experiment_id)
            .order_by(ExperimentVariant.position, ExperimentVariant.key)
        )
    )


def list_experiments(
    session: Session,
    *,
    sequence_id: int | None = None,
    broadcast_id: int | None = None,
    status: str | None = None,
) -> list[Experiment]:
    """Experiments filtered by what is given, newest first."""
    query = select(Experiment).order_by(Experiment.id.desc())
    if sequence_id is not None:
        query = query.where(Experiment.sequence_id == sequence_id)
    if broadcast_id is not None:
        query = query.where(Experiment.broadcast_id == broadcast_id)
    if status is not None:
        query = query.where(Experiment.status == status)
    return list(session.scalars(query))


def experiment_of_step(session: Session, *, sequence_id: int, step_key: str) -> Experiment | None:
    """The experiment of a sequence step (step or split kind), if any."""
    return session.scalars(
        select(Experiment).where(
            Experiment.sequence_id == sequence_id, Experiment.step_key == step_key
        )
    ).one_or_none()


def experiment_of_broadcast(session: Session, broadcast_id: int) -> Experiment | None:
    """The experiment of a broadcast's test phase, if any."""
    return session.scalars(
        select(Experiment).where(Experiment.broadcast_id == broadcast_id).order_by(Experiment.id)
    ).first()


def planned_sample(
    *, baseline_rate: float | None, min_effect: float, alpha: float, power: float, arms: int = 2
) -> int | None:
    """Sends (or contacts) per variant the plan needs; None without a baseline rate (the
    first formal look then fixes it from the pooled rate). The forms show it live."""
    if baseline_rate is None or not 0 < baseline_rate < 1 or baseline_rate * (1 + min_effect) >= 1:
        return None
    return decision.planned_per_variant(
        baseline_rate, min_effect, alpha=alpha, power=power, variants=max(arms, 2)
    )


def definition(session: Session, experiment_id: int) -> dict[str, Any]:
    """The experiment and its variants as plain JSON-ready values (the API's
    "definition" part; the results document is `Experiment.results`)."""
    e = get_experiment(session, experiment_id)
    return {
        "id": e.id,
        "name": e.name,
        "kind": e.kind,
        "status": e.status,
        "sequence_id": e.sequence_id,
        "step_key": e.step_key,
        "broadcast_id": e.broadcast_id,
        "metric": e.metric,
        "conversion_event": e.conversion_event,
        "window_days": e.window_days,
        "mode": e.mode,
        "bandit_floor": e.bandit_floor,
        "baseline_rate": e.baseline_rate,
        "min_effect": e.min_effect,
        "alpha": e.alpha,
        "power": e.power,
        "planned_per_variant": e.planned_per_variant,
        "guardrail_stop": e.guardrail_stop,
        "default_variant": e.default_variant,
        "winner_variant": e.winner_variant,
        "decision_reason": e.decision_reason,
        "decided_by": e.decided_by,
        "started_at": _iso(e.started_at),
        "decided_at": _iso(e.decided_at),
        "refreshed_at": _iso(e.refreshed_at),
        "created_by": e.created_by,
        "created_at": _iso(e.created_at),
        "variants": [
            {
                "key": v.key,
                "name": v.name,
                "position": v.position,
                "weight": v.weight,
                "content": dict(v.content or {}),
                "allocation": v.allocation,
                "stopped_at": _iso(v.stopped_at),
                "stopped_reason": v.stopped_reason,
            }
            for v in variants_of(session, e.id)
        ],
    }


def _check_all(
    session: Session,
    settings: Settings,
    variants: Sequence[VariantInput],
    target: Target,
    problems: list[Problem],
) -> list[float]:
    weights = check_variants(settings.kind, variants, target, problems)
    check_settings(settings, [v.key for v in variants], problems)
    if not any(p.field.startswith("variants") for p in problems):
        check_templates(session, variants, target, problems)
    return weights


def _apply_settings(experiment: Experiment, settings: Settings) -> None:
    experiment.metric = settings.metric
    experiment.conversion_event = (
        settings.conversion_event if settings.metric == "conversion" else None
    )
    experiment.window_days = settings.window_days
    experiment.mode = settings.mode
    experiment.bandit_floor = float(settings.bandit_floor)
    experiment.baseline_rate = (
        None if settings.baseline_rate is None else float(settings.baseline_rate)
    )
    experiment.min_effect = float(settings.min_effect)
    experiment.alpha = float(settings.alpha)
    experiment.power = float(settings.power)
    experiment.default_variant = settings.default_variant


def _replace_variants(
    session: Session,
    experiment: Experiment,
    variants: Sequence[VariantInput],
    weights: Sequence[float],
) -> None:
    for old in variants_of(session, experiment.id):
        session.delete(old)
    session.flush()
    for position, (variant, weight) in enumerate(zip(variants, weights, strict=True)):
        session.add(
            ExperimentVariant(
                experiment_id=experiment.id,
                key=variant.key,
                name=variant.name.strip(),
                position=position,
                weight=weight,
                content={k: v for k, v in dict(variant.content).items() if v is not None},
            )
        )
    session.flush()


def _as_input(variant: ExperimentVariant) -> VariantInput:
    return VariantInput(
        key=variant.key, name=variant.name, weight=variant.weight, content=variant.content or {}
    )


def _refuse_in_state(experiment: Experiment, changing: set[str]) -> None:
    status = experiment.status
    if status == ExperimentStatus.DRAFT.value:
        return
    allowed = _WHILE_RUNNING if status == ExperimentStatus.RUNNING.value else _WHEN_ENDED
    refused = sorted(changing - allowed)
    if refused:
        raise InvalidInput(
            [Problem(f, f"cannot change once the experiment is {status}") for f in refused]
        )


def _refuse_second(
    session: Session,
    kind: str,
    sequence_id: int | None,
    step_key: str | None,
    broadcast_id: int | None,
) -> None:
    if kind == ExperimentKind.BROADCAST.value and broadcast_id is not None:
        if experiment_of_broadcast(session, broadcast_id) is not None:
            raise Conflict(f"broadcast {broadcast_id} has an experiment already")
    elif (
        sequence_id is not None
        and step_key is not None
        and experiment_of_step(session, sequence_id=sequence_id, step_key=step_key) is not None
    ):
        raise Conflict(f"step {step_key!r} of sequence {sequence_id} has an experiment already")


def _decide(experiment: Experiment, winner: str, *, actor: str, now: datetime, reason: str) -> None:
    experiment.status = ExperimentStatus.DECIDED.value
    experiment.winner_variant = winner
    experiment.decided_at = now
    experiment.decided_by = actor
    experiment.decision_reason = reason.strip()[:MAX_REASON] or None


def _refresh_results(session: Session, experiment: Experiment, now: datetime) -> None:
    # The stored document's decision state follows the experiment's (decided, stopped).
    if experiment.started_at is not None:
        results.compute(session, experiment.id, now=now)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
