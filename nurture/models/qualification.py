"""Lifecycle history, sales teams and routing, qualification settings and hand-offs to sales."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from nurture.models.base import Base, BigId, utcnow


class LifecycleChange(Base):
    """One move of a contact between lifecycle stages, with who or what moved it and why.

    The funnel report reads these (time in stage, conversion between stages); the
    matching `lifecycle.changed` event is what segments and sequence goals see.
    """

    __tablename__ = "lifecycle_changes"
    __table_args__ = (
        Index("ix_lifecycle_changes_contact_time", "contact_id", "occurred_at"),
        Index("ix_lifecycle_changes_to_time", "to_stage", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    from_stage: Mapped[str | None] = mapped_column(String(20))
    to_stage: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(500), default="")
    # What moved it: "qualification", "rep", "api", "ui", "import", "demo"...
    source: Mapped[str] = mapped_column(String(40), default="system")
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)


class SalesRep(Base):
    """What routing and the SLA need to know about a sales user beyond the account."""

    __tablename__ = "sales_reps"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    # IANA zone of the rep's working hours (the SLA clock); None: the firm's default.
    time_zone: Mapped[str | None] = mapped_column(String(64))
    # Most open (pending) hand-offs routing gives this rep; None: no limit.
    capacity: Mapped[int | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SalesTeam(Base):
    __tablename__ = "sales_teams"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # Alerted when a hand-off of this team breaches its SLA.
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Round-robin cursor: the member id that was given the last lead.
    last_assigned_id: Mapped[int | None] = mapped_column(BigId)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SalesTeamMember(Base):
    __tablename__ = "sales_team_members"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("sales_teams.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )


class RoutingRule(Base):
    """Rules are tried in `position` order; the first that matches and has a rep with
    room takes the lead. `match` is e.g. {"country": ["DE", "AT"]} or
    {"industry": ["legal"]}; an empty match takes everyone."""

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    position: Mapped[int] = mapped_column()
    name: Mapped[str] = mapped_column(String(200))
    match: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Exactly one of the two: a team (round-robin among its members) or one rep.
    team_id: Mapped[int | None] = mapped_column(ForeignKey("sales_teams.id", ondelete="CASCADE"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class QualificationSettings(Base):
    """The one row (id 1) of qualification settings: the MQL rule, the SLA, recycling."""

    __tablename__ = "qualification_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    # A segment rule document ({"version": 1, "rule": {...}}) a lead must match to be an MQL.
    mql_rule: Mapped[dict[str, Any]] = mapped_column(default=dict)
    sla_hours: Mapped[int] = mapped_column(default=8)
    # Working hours the SLA counts, in each rep's time zone: "09:00".."17:00", 0 = Monday.
    work_start: Mapped[str] = mapped_column(String(5), default="09:00")
    work_end: Mapped[str] = mapped_column(String(5), default="17:00")
    work_days: Mapped[dict[str, Any]] = mapped_column(default=dict)
    default_time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    fallback_owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    # Where a rejected lead is recycled to, and what its score becomes (None: kept).
    recycle_sequence_id: Mapped[int | None] = mapped_column(
        ForeignKey("sequences.id", ondelete="SET NULL")
    )
    recycle_score_to: Mapped[int | None] = mapped_column()
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class HandoffState(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    # The lead left the funnel some other way while pending (erased, suppressed, closed).
    CANCELLED = "cancelled"


class Handoff(Base):
    """A qualified lead handed to a rep. At most one pending hand-off per contact: the
    partial unique index is what makes qualification happen exactly once when events
    for the same lead are processed concurrently."""

    __tablename__ = "handoffs"
    __table_args__ = (
        Index(
            "uq_handoffs_pending_contact",
            "contact_id",
            unique=True,
            postgresql_where=text("state = 'pending'"),
            sqlite_where=text("state = 'pending'"),
        ),
        Index("ix_handoffs_owner_state", "owner_id", "state"),
        Index(
            "ix_handoffs_due",
            "due_at",
            postgresql_where=text("state = 'pending'"),
            sqlite_where=text("state = 'pending'"),
        ),
        Index("ix_handoffs_contact_id", "contact_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("sales_teams.id", ondelete="SET NULL"))
    routing_rule_id: Mapped[int | None] = mapped_column(
        ForeignKey("routing_rules.id", ondelete="SET NULL")
    )
    state: Mapped[str] = mapped_column(String(12), default=HandoffState.PENDING.value)
    # Everything the rep needs to call today, frozen at hand-off time.
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # End of the SLA in working hours; past it the team lead is alerted.
    due_at: Mapped[datetime | None] = mapped_column()
    notified_at: Mapped[datetime | None] = mapped_column()
    escalated_at: Mapped[datetime | None] = mapped_column()
    escalated_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    acted_at: Mapped[datetime | None] = mapped_column()
    acted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(Text)
    recycled_sequence_id: Mapped[int | None] = mapped_column(
        ForeignKey("sequences.id", ondelete="SET NULL")
    )
