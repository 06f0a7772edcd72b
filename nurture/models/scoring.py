"""Lead scoring: behaviour and fit rules, the settings, manual adjustments and score history.

A contact's behaviour score is not stored per event: it is a pure function of the
events, the active rules, the adjustments and the moment it is computed
(`nurture.scoring.engine`), written to `contacts.score`; the fit grade likewise to
`contacts.fit_grade`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from nurture.models.base import Base, BigId, JsonDoc, utcnow


class ScoringSettings(Base):
    """The one row (id 1): the engagement half-life, the fit grade thresholds and the
    bookkeeping of the periodic rescore."""

    __tablename__ = "scoring_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    half_life_days: Mapped[float] = mapped_column(Float, default=30.0)
    # Fit points at or above each threshold earn that grade; below grade_c: D.
    grade_a: Mapped[int] = mapped_column(default=40)
    grade_b: Mapped[int] = mapped_column(default=25)
    grade_c: Mapped[int] = mapped_column(default=10)
    # A rule or setting changed after the last full rescore began: one is due.
    rules_changed_at: Mapped[datetime | None] = mapped_column()
    # When the last full rescore (decay) started, and when one was last sent to a worker.
    rescored_at: Mapped[datetime | None] = mapped_column()
    rescore_claimed_at: Mapped[datetime | None] = mapped_column()
    updated_by: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class BehaviourRule(Base):
    """Points for each event of `event_type` whose properties pass `where` (the segment
    rules' property conditions), optionally capped per period or awarded once per
    window when `threshold_count` such events fall in one window."""

    __tablename__ = "scoring_behaviour_rules"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    event_type: Mapped[str] = mapped_column(String(100))
    where: Mapped[list[dict[str, Any]]] = mapped_column(JsonDoc, default=list)
    points: Mapped[int] = mapped_column()
    cap_points: Mapped[int | None] = mapped_column()
    cap_days: Mapped[int | None] = mapped_column()
    threshold_count: Mapped[int | None] = mapped_column()
    threshold_days: Mapped[int | None] = mapped_column()
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class FitRule(Base):
    """Points for contacts matching `condition`, a segment-rule node over contact and
    company fields and custom attributes."""

    __tablename__ = "scoring_fit_rules"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    condition: Mapped[dict[str, Any]] = mapped_column(default=dict)
    points: Mapped[int] = mapped_column()
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ScoreAdjustment(Base):
    """Points given or taken by hand or by the system (a recycled lead's reset), decaying
    from `occurred_at` like any other points, so the explanation still adds up."""

    __tablename__ = "score_adjustments"
    __table_args__ = (Index("ix_score_adjustments_contact_id", "contact_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    points: Mapped[float] = mapped_column(Float)
    occurred_at: Mapped[datetime] = mapped_column()
    reason: Mapped[str] = mapped_column(String(500), default="")


class ScoreHistory(Base):
    """A contact's score at the end of each day it changed (the contact page's chart)."""

    __tablename__ = "score_history"

    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    score: Mapped[int] = mapped_column()
