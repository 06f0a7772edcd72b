"""How people flow through a sequence: counts per step, per state and to the goal.

Every figure is a grouped SQL query over the whole sequence (a handful of
statements whatever the number of enrolments), never a loop over contacts.
Step keys are stable across versions, so one step's counts add up the people
on every version that has it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, case, func, select, union
from sqlalchemy.orm import Session

from campaigns.sequences import failures
from nurture.models import (
    LIVE_ENROLMENT_STATES,
    EmailMessage,
    Enrolment,
    EnrolmentState,
    Event,
    StepRun,
)

OPENED = "email.opened"
CLICKED = "email.clicked"
GOAL_PREFIX = "goal:"


@dataclass(frozen=True, slots=True)
class StepCounts:
    """One step: who reached it, who is there now, what it did and who went on to a goal."""

    key: str
    reached: int = 0
    waiting: int = 0  # live enrolments at this step now (active or paused)
    outcomes: dict[str, int] = field(default_factory=dict)
    opened: int = 0  # e-mail steps: enrolments whose message was opened by a person
    clicked: int = 0
    converted: int = 0  # reached this step and later completed with a goal

    @property
    def conversion(self) -> float | None:
        """Share of the people who reached the step that reached a goal (None: nobody yet)."""
        return self.converted / self.reached if self.reached else None


@dataclass(frozen=True, slots=True)
class Funnel:
    enrolled: int
    states: dict[str, int]
    goals: int  # enrolments completed with a goal (a goal step or an exit goal)
    steps: dict[str, StepCounts]

    def step(self, key: str) -> StepCounts:
        """The counts of `key` (zeros for a step nobody reached)."""
        return self.steps.get(key) or StepCounts(key)

    @property
    def conversion(self) -> float | None:
        return self.goals / self.enrolled if self.enrolled else None


def funnel(session: Session, sequence_id: int) -> Funnel:
    """The per-step funnel of one sequence, over all its versions."""
    in_sequence = Enrolment.sequence_id == sequence_id
    reached_goal = _reached_goal()

    states = {
        state: int(number)
        for state, number in session.execute(
            select(Enrolment.state, func.count()).where(in_sequence).group_by(Enrolment.state)
        )
    }
    goals = int(
        session.scalar(select(func.count()).select_from(Enrolment).where(in_sequence, reached_goal))
        or 0
    )

    # A step is reached once it has a run, or while an enrolment sits at it before its
    # first run; the union keeps each (enrolment, step) pair once.
    visits = union(
        select(StepRun.enrolment_id.label("enrolment_id"), StepRun.step_key.label("step_key"))
        .join(Enrolment, Enrolment.id == StepRun.enrolment_id)
        .where(in_sequence),
        select(Enrolment.id.label("enrolment_id"), Enrolment.step_key.label("step_key")).where(
            in_sequence, Enrolment.step_key.is_not(None)
        ),
    ).subquery()
    reached: dict[str, tuple[int, int]] = {
        key: (int(total), int(converted or 0))
        for key, total, converted in session.execute(
            select(
                visits.c.step_key,
                func.count(),
                func.sum(case((reached_goal, 1), else_=0)),
            )
            .join(Enrolment, Enrolment.id == visits.c.enrolment_id)
            .group_by(visits.c.step_key)
        )
    }

    waiting: dict[str, int] = {
        str(key): int(number)
        for key, number in session.execute(
            select(Enrolment.step_key, func.count())
            .where(
                in_sequence,
                Enrolment.state.in_(LIVE_ENROLMENT_STATES),
                Enrolment.step_key.is_not(None),
            )
            .group_by(Enrolment.step_key)
        )
    }

    # An e-mail step's outcome is what became of its message (a deferred send may have
    # gone out or failed since); "failed" is counted as the sequence list counts it.
    outcome = failures.run_outcome()
    outcomes: dict[str, dict[str, int]] = defaultdict(dict)
    for key, result, number in session.execute(
        select(StepRun.step_key, outcome, func.count())
        .join(Enrolment, Enrolment.id == StepRun.enrolment_id)
        .join(EmailMessage, failures.message_of_run(), isouter=True)
        .where(in_sequence, outcome.is_not(None), outcome != failures.FAILED)
        .group_by(StepRun.step_key, outcome)
    ):
        outcomes[key][str(result)] = int(number)
    for key, number in failures.failed_by_step(session, sequence_id).items():
        outcomes[key][failures.FAILED] = number

    engaged = _engagement(session, in_sequence)

    keys = set(reached) | set(waiting) | set(outcomes)
    steps = {
        key: StepCounts(
            key=key,
            reached=reached.get(key, (0, 0))[0],
            waiting=waiting.get(key, 0),
            outcomes=dict(outcomes.get(key, {})),
            opened=engaged.get((key, OPENED), 0),
            clicked=engaged.get((key, CLICKED), 0),
            converted=reached.get(key, (0, 0))[1],
        )
        for key in keys
    }
    return Funnel(enrolled=sum(states.values()), states=states, goals=goals, steps=steps)


def _reached_goal() -> ColumnElement[bool]:
    return and_(
        Enrolment.state == EnrolmentState.COMPLETED.value,
        Enrolment.exit_reason.startswith(GOAL_PREFIX, autoescape=True),
    )


def _engagement(session: Session, in_sequence: ColumnElement[bool]) -> dict[tuple[str, str], int]:
    """Enrolments per (e-mail step, event type) whose message a person opened or clicked.

    The step run records the id of the message it sent; tracking events carry that
    id in their properties. Events flagged as a machine (scanners, prefetch) do not count.
    """
    message_of_run = StepRun.detail["message_id"].as_integer()
    rows = session.execute(
        select(StepRun.step_key, Event.type, func.count(func.distinct(StepRun.enrolment_id)))
        .join(Enrolment, Enrolment.id == StepRun.enrolment_id)
        .join(
            Event,
            and_(
                Event.contact_id == Enrolment.contact_id,
                Event.type.in_((OPENED, CLICKED)),
                Event.occurred_at >= Enrolment.enrolled_at,
                Event.properties["message_id"].as_integer() == message_of_run,
            ),
        )
        .where(
            in_sequence,
            message_of_run.is_not(None),
            Event.properties["machine"].as_string().is_(None),
        )
        .group_by(StepRun.step_key, Event.type)
    )
    return {(key, kind): int(number) for key, kind, number in rows}
