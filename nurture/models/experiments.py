"""Experiments (A/B and bandit tests), their variants, who saw which variant, and the
bandit's allocation over time.

An experiment belongs to one sequence step (a mail step's variants, or a split step's
paths) or to one broadcast's test phase. A contact's variant is decided once and kept
as an exposure row; what the exposure led to (delivered, opened, clicked...) is
stamped on that row by the metrics refresh, so results are one grouped count over
the exposures of one experiment.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from nurture.models.base import Base, BigId, utcnow


class ExperimentKind(enum.StrEnum):
    STEP = "step"  # variants of one mail step of a sequence
    SPLIT = "split"  # the paths of a sequence's split step
    BROADCAST = "broadcast"  # the test phase of a broadcast


class ExperimentStatus(enum.StrEnum):
    DRAFT = "draft"  # being set up: contacts get the control and are not exposed
    RUNNING = "running"  # assigning and counting
    DECIDED = "decided"  # a winner was declared: everyone new gets it
    STOPPED = "stopped"  # ended without a winner: everyone new gets the default


class AllocationMode(enum.StrEnum):
    FIXED = "fixed"  # the variants' weights, for the whole test
    BANDIT = "bandit"  # Thompson sampling shifts new contacts to the better variant


class Metric(enum.StrEnum):
    """What decides; every rate is per delivered message except conversion and goal,
    which are per exposed contact."""

    OPENS = "opens"
    CLICKS = "clicks"
    REPLIES = "replies"
    CONVERSION = "conversion"  # `conversion_event` within `window_days` of exposure
    GOAL = "goal"  # the exposure's enrolment reached a goal of its sequence


class Experiment(Base):
    __tablename__ = "experiments"
    __table_args__ = (
        # One experiment per sequence step, whatever the version of the sequence.
        UniqueConstraint("sequence_id", "step_key"),
        Index("ix_experiments_status", "status"),
        Index("ix_experiments_broadcast_id", "broadcast_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default=ExperimentStatus.DRAFT.value)
    # Random per experiment: the key of the assignment hash, so one contact's buckets
    # in two experiments are unrelated.
    salt: Mapped[str] = mapped_column(String(40))
    sequence_id: Mapped[int | None] = mapped_column(ForeignKey("sequences.id", ondelete="CASCADE"))
    step_key: Mapped[str | None] = mapped_column(String(40))
    broadcast_id: Mapped[int | None] = mapped_column(
        ForeignKey("broadcasts.id", ondelete="CASCADE")
    )
    metric: Mapped[str] = mapped_column(String(20), default=Metric.CLICKS.value)
    conversion_event: Mapped[str | None] = mapped_column(String(100))
    window_days: Mapped[int] = mapped_column(default=14)
    mode: Mapped[str] = mapped_column(String(20), default=AllocationMode.FIXED.value)
    bandit_floor: Mapped[float] = mapped_column(default=0.1)
    # The plan: the baseline rate of the deciding metric, the smallest relative lift
    # worth detecting, and the error rates; `planned_per_variant` follows from them.
    baseline_rate: Mapped[float | None] = mapped_column()
    min_effect: Mapped[float] = mapped_column(default=0.2)
    alpha: Mapped[float] = mapped_column(default=0.05)
    power: Mapped[float] = mapped_column(default=0.8)
    planned_per_variant: Mapped[int | None] = mapped_column()
    # Stop a variant whose unsubscribe or complaint rate is significantly worse.
    guardrail_stop: Mapped[bool] = mapped_column(default=False)
    # The variant everyone gets when the test ends without a winner (and in a draft).
    default_variant: Mapped[str] = mapped_column(String(20), default="a")
    winner_variant: Mapped[str | None] = mapped_column(String(20))
    decision_reason: Mapped[str | None] = mapped_column(String(1000))
    decided_by: Mapped[str | None] = mapped_column(String(200))
    started_at: Mapped[datetime | None] = mapped_column()
    decided_at: Mapped[datetime | None] = mapped_column()
    # The metrics refresh has stamped outcomes from every event up to this id.
    event_watermark: Mapped[int] = mapped_column(BigInteger, default=0)
    refreshed_at: Mapped[datetime | None] = mapped_column()
    # The formal looks of the sequential rule so far: {"fractions": [...], "at": [...]}
    # (the share of the planned sample seen at each look, and when), which the next
    # look's boundary depends on.
    looks: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The last computed results (the page and the API read these).
    results: Mapped[dict[str, Any] | None] = mapped_column()
    results_at: Mapped[datetime | None] = mapped_column()
    allocated_at: Mapped[datetime | None] = mapped_column()
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ExperimentVariant(Base):
    """One arm. `key` is "a", "b"... for mail variants ("a" is the step's own content)
    and "0", "1"... for the paths of a split step.

    `content` holds what the variant changes: template_id, version (a pinned version
    number), subject, preheader, from_name, delay (a duration like {"hours": 2})."""

    __tablename__ = "experiment_variants"
    __table_args__ = (UniqueConstraint("experiment_id", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200), default="")
    position: Mapped[int] = mapped_column(default=0)
    # Share of new contacts in fixed mode (the weights of an experiment add up to 1).
    weight: Mapped[float] = mapped_column(default=0.5)
    content: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The bandit's current share (None: not a bandit, or not computed yet).
    allocation: Mapped[float | None] = mapped_column()
    stopped_at: Mapped[datetime | None] = mapped_column()
    stopped_reason: Mapped[str | None] = mapped_column(String(500))


class Exposure(Base):
    """A contact was assigned a variant (and, for mail, sent it). One per contact and
    experiment: the first assignment is the one that counts, forever."""

    __tablename__ = "experiment_exposures"
    __table_args__ = (
        UniqueConstraint("experiment_id", "contact_id"),
        # By message, then experiment: the refresh joins a batch of events to their
        # exposures by message id within one experiment, one index probe per message (an
        # index on the message alone let the planner AND it with the experiment's whole
        # range of exposures, once per message).
        Index("ix_experiment_exposures_message_id", "message_id", "experiment_id"),
        Index("ix_experiment_exposures_message_key", "message_key", "experiment_id"),
        Index("ix_experiment_exposures_contact_id", "contact_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.id", ondelete="CASCADE"))
    variant_key: Mapped[str] = mapped_column(String(20))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    enrolment_id: Mapped[int | None] = mapped_column(BigInteger)
    # The idempotency key of the e-mail this exposure sent, and its message once known.
    message_key: Mapped[str | None] = mapped_column(String(200))
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    exposed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # What it led to, stamped by the metrics refresh (first time each happened).
    delivered_at: Mapped[datetime | None] = mapped_column()
    bounced_at: Mapped[datetime | None] = mapped_column()
    opened_at: Mapped[datetime | None] = mapped_column()
    clicked_at: Mapped[datetime | None] = mapped_column()
    replied_at: Mapped[datetime | None] = mapped_column()
    unsubscribed_at: Mapped[datetime | None] = mapped_column()
    complained_at: Mapped[datetime | None] = mapped_column()
    converted_at: Mapped[datetime | None] = mapped_column()


class ExperimentAllocation(Base):
    """The bandit's shares at one moment (the allocation-over-time chart)."""

    __tablename__ = "experiment_allocations"
    __table_args__ = (Index("ix_experiment_allocations_experiment_at", "experiment_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # Variant key -> share of new contacts, adding up to 1.
    shares: Mapped[dict[str, Any]] = mapped_column(default=dict)
