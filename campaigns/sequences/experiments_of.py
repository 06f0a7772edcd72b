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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.email.overrides import Overrides
from campaigns.experiments import store
from campaigns.experiments.assign import Member, choose
from campaigns.experiments.validation import VariantInput
from campaigns.sequences import waits
from campaigns.sequences.conditions import effect_key
from campaigns.sequences.definition import MAIL_STEPS, Step
from campaigns.sequences.versions import current_version, flow_of, get_sequence
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
    found = store.list_experiments(session, sequence_id=sequence_id)
    counts: dict[int, int] = {
        int(experiment_id): int(n)
        for experiment_id, n in session.execute(
            select(ExperimentVariant.experiment_id, func.count())
            .where(ExperimentVariant.experiment_id.in_([e.id for e in found]))
            .group_by(ExperimentVariant.experiment_id)
        )
    }
    return {
        str(e.step_key): Summary(
            e.id, str(e.step_key), e.kind, e.status, e.name, counts.get(e.id, 0)
        )
        for e in found
        if e.step_key is not None
    }


def create_for_step(
    session: Session,
    sequence_id: int,
    step_key: str,
    *,
    actor: str,
    variants: Sequence[VariantInput] = (),
    name: str | None = None,
    **settings: Any,
) -> Experiment:
    """A draft experiment for a step of the sequence's current version, through the
    experiments store (validation naming fields, audit); the caller commits.

    The kind follows from the step: a split's experiment ("split") has its paths as
    variants, "0", "1"..., weighted by the paths' percents when none are given; a mail
    step's ("step") needs the variants. `settings` are `store.create_experiment`'s
    (metric, mode, plan...)."""
    sequence = get_sequence(session, sequence_id)
    flow = flow_of(session, current_version(session, sequence).id)
    step = flow.steps.get(step_key)
    split = step is not None and step.type == "split"
    if split and step is not None and not variants:
        variants = [
            VariantInput(key=str(i), name=f"Path {i + 1}") for i in range(len(step.spec["paths"]))
        ]
    return store.create_experiment(
        session,
        actor=actor,
        name=name or f"{sequence.name}: {step_key}",
        kind=(ExperimentKind.SPLIT if split else ExperimentKind.STEP).value,
        variants=variants,
        sequence_id=sequence_id,
        step_key=step_key,
        **settings,
    )
