"""Experiments: create, edit, start, stop and declare, with validation and audit.

One experiment belongs to a sequence's mail step (kind "step"), a sequence's split
step (kind "split", its variants are the paths "0", "1"...) or a broadcast's test
phase (kind "broadcast"). Every problem with the input comes back in one InvalidInput
whose fields name the place (`variants[1].weight`, `conversion_event`); a change the
experiment's state does not allow is a Conflict; a declaration the data do not support
is a DeclarationRefused (a Conflict) carrying the reason in plain words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from nurture.errors import Conflict
from nurture.models import Experiment, ExperimentVariant


class DeclarationRefused(Conflict):
    """A winner the data do not support; `reason` says why in plain words."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True, slots=True)
class VariantInput:
    """One arm as the marketer set it. `weight` None everywhere: equal shares.
    `content` keys: template_id, version, subject, preheader, from_name, delay."""

    key: str
    name: str = ""
    weight: float | None = None
    content: Mapping[str, Any] = field(default_factory=dict)


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

    Raises InvalidInput naming the fields, NotFound (the sequence or broadcast), or
    Conflict (the step or broadcast has an experiment already)."""
    raise NotImplementedError


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
    raise NotImplementedError


def start_experiment(
    session: Session, experiment_id: int, *, actor: str, now: datetime
) -> Experiment:
    """Draft -> running: fixes `planned_per_variant` from the plan and starts exposing.
    Conflict unless a draft. The caller commits."""
    raise NotImplementedError


def stop_experiment(
    session: Session, experiment_id: int, *, actor: str, now: datetime, reason: str = ""
) -> Experiment:
    """Running (or draft) -> stopped without a winner: everyone new gets the default
    variant. Conflict when already ended. The caller commits."""
    raise NotImplementedError


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
    raise NotImplementedError


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
    raise NotImplementedError


def get_experiment(session: Session, experiment_id: int) -> Experiment:
    """The experiment, or NotFound."""
    raise NotImplementedError


def variants_of(session: Session, experiment_id: int) -> list[ExperimentVariant]:
    """Its variants in their order (position, key)."""
    raise NotImplementedError


def list_experiments(
    session: Session,
    *,
    sequence_id: int | None = None,
    broadcast_id: int | None = None,
    status: str | None = None,
) -> list[Experiment]:
    """Experiments filtered by what is given, newest first."""
    raise NotImplementedError


def experiment_of_step(session: Session, *, sequence_id: int, step_key: str) -> Experiment | None:
    """The experiment of a sequence step (step or split kind), if any."""
    raise NotImplementedError


def experiment_of_broadcast(session: Session, broadcast_id: int) -> Experiment | None:
    """The experiment of a broadcast's test phase, if any."""
    raise NotImplementedError


def planned_sample(
    *, baseline_rate: float | None, min_effect: float, alpha: float, power: float, arms: int = 2
) -> int | None:
    """Sends (or contacts) per variant the plan needs; None without a baseline rate.
    The forms show it live before the start."""
    raise NotImplementedError


def definition(session: Session, experiment_id: int) -> dict[str, Any]:
    """The experiment and its variants as plain JSON-ready values (the API's
    "definition" part; the results document is `Experiment.results`)."""
    raise NotImplementedError
