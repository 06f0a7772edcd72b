"""The experiment of a sequence step: what each variant of a mail step sends, which path
of a split step a contact takes, and the builder's list and creation of them.

An experiment belongs to (sequence, step key), whatever the version, so a contact keeps
its variant when the sequence is edited. The variant is chosen through
`assign.choose` (a keyed hash, kept as an exposure), and the engine also keeps the key
in the step run's detail under `VARIANT`: a re-run of the step (a retry, a worker
restarted, a delay or send window that postponed it) sends what the first run chose,
even if the experiment was decided meanwhile.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.email.overrides import Overrides
from campaigns.experiments.assign import Member, choose
from campaigns.sequences import waits
from campaigns.sequences.conditions import effect_key
from campaigns.sequences.definition import MAIL_STEPS, Step
from campaigns.sequences.versions import current_version, flow_of, get_sequence
from nurture.errors import InvalidInput
from nurture.models import Experiment, ExperimentKind, ExperimentVariant

# Where a step run keeps the variant its contact was given.
VARIANT = "variant"


@dataclass(frozen=True, slots=True)
class MailVariant:
    """What one contact's e-mail of a mail step is: the step's own content, or a
    variant's. `key` is None when the step runs no experiment."""

    key: str | None
    template_id: int
    overrides: Overrides | None
    delay: timedelta


@dataclass(frozen=True, slots=True)
class StepExperiment:
    id: int
    kind: str
    status: str
    # Variant key -> its content (ExperimentVariant.content).
    contents: Mapping[str, Mapping[str, Any]]

    def mail(self, step: Step, key: str | None) -> MailVariant:
        """The e-mail variant `key` sends; an absent field, or a key the experiment no
        longer has, is the step's own."""
        return mail_variant(step, key, self.contents.get(key) if key is not None else None)

    def choose(
        self, session: Session, members: Sequence[tuple[int, int, str | None]], *, now: datetime
    ) -> dict[int, str]:
        """(enrolment id, contact id, message key) -> variant key by enrolment id, in one
        call (exposures written for a running experiment; the caller commits)."""
        if not members:
            return {}
        picked = choose(
            session,
            self.id,
            [Member(contact_id, enrolment_id, key) for enrolment_id, contact_id, key in members],
            now=now,
        )
        return {
            enrolment_id: picked[contact_id].variant_key
            for enrolment_id, contact_id, _ in members
            if contact_id in picked
        }


def mail_variant(step: Step, key: str | None, content: Mapping[str, Any] | None) -> MailVariant:
    own = int(step.spec["template_id"])
    if not content:
        return MailVariant(key, own, None, timedelta(0))
    template_id = content.get("template_id")
    delay = content.get("delay")
    return MailVariant(
        key,
        int(template_id) if isinstance(template_id, int) else own,
        Overrides.from_json(content),
        waits.duration(delay) if isinstance(delay, Mapping) and delay else timedelta(0),
    )


def of_step(session: Session, sequence_id: int, step: Step) -> StepExperiment | None:
    """The experiment of this step when it has one that fits its type (variants for a
    mail step, paths for a split), in one query."""
    if step.type in MAIL_STEPS:
        kind = ExperimentKind.STEP.value
    elif step.type == "split":
        kind = ExperimentKind.SPLIT.value
    else:
        return None
    rows = session.execute(
        select(Experiment.id, Experiment.status, ExperimentVariant.key, ExperimentVariant.content)
        .outerjoin(ExperimentVariant, ExperimentVariant.experiment_id == Experiment.id)
        .where(
            Experiment.sequence_id == sequence_id,
            Experiment.step_key == step.key,
            Experiment.kind == kind,
        )
    ).all()
    if not rows:
        return None
    contents = {str(key): dict(content or {}) for _, _, key, content in rows if key is not None}
    return StepExperiment(int(rows[0][0]), kind, str(rows[0][1]), contents)


def split_path(step: Step, key: str | None) -> int | None:
    """The path index a split experiment's variant key names, when this version of the
    step has that path."""
    if key is None or not key.isdigit():
        return None
    index = int(key)
    return index if index < len(step.spec["paths"]) else None


def message_key(enrolment_id: int, step: Step) -> str | None:
    """What an exposure remembers of its e-mail: the step's effect key (None for a split,
    which sends nothing)."""
    return effect_key(enrolment_id, step.key) if step.type in MAIL_STEPS else None


# The builder ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Summary:
    id: int
    step_key: str
    kind: str
    status: str
    name: str
    variants: int


def of_sequence(session: Session, sequence_id: int) -> dict[str, Summary]:
    """The experiments of a sequence's steps, by step key (for the builder)."""
    out: dict[str, Summary] = {}
    for experiment in session.scalars(
        select(Experiment).where(Experiment.sequence_id == sequence_id).order_by(Experiment.id)
    ):
        count = len(
            session.scalars(
                select(ExperimentVariant.id).where(ExperimentVariant.experiment_id == experiment.id)
            ).all()
        )
        out[str(experiment.step_key)] = Summary(
            experiment.id,
            str(experiment.step_key),
            experiment.kind,
            experiment.status,
            experiment.name,
            count,
        )
    return out


def create_for_step(
    session: Session,
    sequence_id: int,
    step_key: str,
    *,
    variants: Sequence[Mapping[str, Any]] = (),
    name: str | None = None,
    created_by: str = "",
) -> Experiment:
    """A draft experiment for a step of the sequence's current version.

    A mail step gets the variants given (each {"name", "weight", "content"}; "a", the
    control, first, added when missing); a split step gets one variant per path, "0",
    "1"..., weighted by the paths' percents. The caller commits. InvalidInput names
    the field: a step that does not exist or cannot run an experiment, one that has an
    experiment already.
    """
    sequence = get_sequence(session, sequence_id)
    flow = flow_of(session, current_version(session, sequence).id)
    step = flow.steps.get(step_key)
    if step is None:
        raise InvalidInput.single("step_key", f"the sequence has no step {step_key!r}")
    if step.type not in (*MAIL_STEPS, "split"):
        raise InvalidInput.single("step_key", f"a {step.type} step cannot run an experiment")
    if of_step(session, sequence_id, step) is not None:
        raise InvalidInput.single("step_key", "this step has an experiment already")
    kind = ExperimentKind.SPLIT if step.type == "split" else ExperimentKind.STEP
    if kind is ExperimentKind.SPLIT:
        arms: list[Mapping[str, Any]] = [
            {"name": f"Path {i + 1}", "weight": int(p["percent"]) / 100, "content": {}}
            for i, p in enumerate(step.spec["paths"])
        ]
        keys = [str(i) for i in range(len(arms))]
        default = "0"
    else:
        arms = list(variants) or [{"name": "Control", "weight": 1.0, "content": {}}]
        keys = [chr(ord("a") + i) for i in range(len(arms))]
        default = "a"
    experiment = Experiment(
        name=name or f"{sequence.name}: {step_key}",
        kind=kind.value,
        salt=secrets.token_hex(16),
        sequence_id=sequence_id,
        step_key=step_key,
        default_variant=default,
        created_by=created_by,
    )
    session.add(experiment)
    session.flush()
    for position, (key, arm) in enumerate(zip(keys, arms, strict=True)):
        session.add(
            ExperimentVariant(
                experiment_id=experiment.id,
                key=key,
                name=str(arm.get("name") or key),
                position=position,
                weight=float(arm.get("weight", 1 / len(arms))),
                content=dict(arm.get("content") or {}),
            )
        )
    session.flush()
    return experiment
