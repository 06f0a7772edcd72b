"""Sequences: versioned step graphs, enrolments moving through them, step runs and tasks."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column

from nurture.models.base import Base, BigId, utcnow


class SequenceStatus(enum.StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    PAUSED = "paused"
    STOPPED = "stopped"


class EnrolmentState(enum.StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"
    EXITED = "exited"
    FAILED = "failed"


# Live enrolments still run or may run again; the partial unique index (one live
# enrolment per contact and sequence) is written on the same two states.
LIVE_ENROLMENT_STATES = (EnrolmentState.ACTIVE.value, EnrolmentState.PAUSED.value)


class TaskOutcome(enum.StrEnum):
    DONE = "done"
    NO_ANSWER = "no_answer"
    MEETING_BOOKED = "meeting_booked"
    NOT_INTERESTED = "not_interested"


class Sequence(Base):
    __tablename__ = "sequences"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10), default=SequenceStatus.DRAFT.value)
    # The version new enrolments join; older versions keep the people already on them.
    # No foreign key: versions point at their sequence, and a cycle of keys would need
    # constraints added after both tables exist on every database.
    current_version_id: Mapped[int | None] = mapped_column(BigId)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SequenceVersion(Base):
    """An immutable step graph: edits publish a new row, never change this one."""

    __tablename__ = "sequence_versions"
    __table_args__ = (UniqueConstraint("sequence_id", "number"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    sequence_id: Mapped[int] = mapped_column(ForeignKey("sequences.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column()
    definition: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Enrolment(Base):
    """One contact's walk through one version; the database, not the queue, holds the state."""

    __tablename__ = "sequence_enrolments"
    __table_args__ = (
        Index("ix_sequence_enrolments_sequence_contact", "sequence_id", "contact_id"),
        Index("ix_sequence_enrolments_contact_id", "contact_id"),
        # One live enrolment per contact and sequence, even when two triggers race:
        # a second one would have its own effect keys and send everything twice.
        Index(
            "uq_sequence_enrolments_live",
            "sequence_id",
            "contact_id",
            unique=True,
            postgresql_where=text("state IN ('active', 'paused')"),
            sqlite_where=text("state IN ('active', 'paused')"),
        ),
        # The scheduler's claim reads active enrolments by due time.
        Index(
            "ix_sequence_enrolments_due",
            "next_run_at",
            postgresql_where=text("state = 'active'"),
            sqlite_where=text("state = 'active'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    sequence_id: Mapped[int] = mapped_column(ForeignKey("sequences.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(ForeignKey("sequence_versions.id"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(10), default=EnrolmentState.ACTIVE.value)
    step_key: Mapped[str | None] = mapped_column(String(40))
    next_run_at: Mapped[datetime | None] = mapped_column()
    enrolled_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()
    exit_reason: Mapped[str | None] = mapped_column(String(100))
    # A scheduler claim: the message carrying this id is in flight until claimed_until.
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_until: Mapped[datetime | None] = mapped_column()


class StepRun(Base):
    """What a step did for an enrolment; branches read these, effects are keyed by them."""

    __tablename__ = "sequence_step_runs"
    __table_args__ = (UniqueConstraint("enrolment_id", "step_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(
        ForeignKey("sequence_enrolments.id", ondelete="CASCADE")
    )
    step_key: Mapped[str] = mapped_column(String(40))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()
    outcome: Mapped[str | None] = mapped_column(String(40))
    # The idempotency key of the outward effect (e-mail, task), written before it happens.
    effect_key: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Task(Base):
    """A personal touch for a sales rep (LinkedIn, call, meeting) created by a sequence."""

    __tablename__ = "sequence_tasks"
    __table_args__ = (
        Index("ix_sequence_tasks_assignee_due", "assignee_id", "due_at"),
        # The escalation sweep reads only the tasks that may still escalate.
        Index(
            "ix_sequence_tasks_escalation",
            "due_at",
            postgresql_where=text("escalate AND escalated_at IS NULL AND outcome IS NULL"),
            sqlite_where=text("escalate AND escalated_at IS NULL AND outcome IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    enrolment_id: Mapped[int | None] = mapped_column(
        ForeignKey("sequence_enrolments.id", ondelete="SET NULL")
    )
    step_key: Mapped[str | None] = mapped_column(String(40))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(30))
    instructions: Mapped[str] = mapped_column(Text, default="")
    due_at: Mapped[datetime] = mapped_column()
    outcome: Mapped[str | None] = mapped_column(String(20))
    outcome_at: Mapped[datetime | None] = mapped_column()
    # A task whose step asks for it alerts the assignee's team lead once it is overdue
    # with no outcome (the escalation sweep sets escalated_at and escalated_to_id).
    escalate: Mapped[bool] = mapped_column(default=False, server_default=false())
    escalated_at: Mapped[datetime | None] = mapped_column()
    escalated_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
