"""Fits of the predictive score: what was asked for, what came out, whether it was published."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from nurture.models.base import Base, BigId, utcnow


class FitStatus(enum.StrEnum):
    # Asked for (button, API, weekly tick) and waiting for a worker.
    PENDING = "pending"
    RUNNING = "running"
    # Fitted, good enough, and its probabilities written to the contacts.
    PUBLISHED = "published"
    # Too few data or a held-out AUC under the floor: kept to show why.
    REFUSED = "refused"
    # The fit itself broke (a bug or a lost database); `reason` says how.
    FAILED = "failed"


class PredictiveModel(Base):
    """One fit of the logistic model. The newest published row is the model in use.

    `spec` holds what scoring a contact needs (feature names, categories kept for
    each attribute, standardisation, coefficients, intercept); `metrics` what the
    page shows (row counts, held-out AUC, the calibration table).
    """

    __tablename__ = "predictive_models"
    __table_args__ = (Index("ix_predictive_models_status_id", "status", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    status: Mapped[str] = mapped_column(String(12), default=FitStatus.PENDING.value)
    # "manual" (the page), "api" or "weekly" (the tick).
    trigger: Mapped[str] = mapped_column(String(20), default="manual")
    requested_by: Mapped[str] = mapped_column(String(200), default="system")
    l2: Mapped[float] = mapped_column(default=1.0)
    reason: Mapped[str | None] = mapped_column(Text)
    spec: Mapped[dict[str, Any]] = mapped_column(default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    contacts_scored: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
