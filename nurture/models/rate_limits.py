"""Hit counters of the rate limiter when it counts in the database (no Redis configured)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from nurture.models.base import Base


class RateCounter(Base):
    """Hits of one key for one purpose in one fixed window; `key` is a hash, never the address."""

    __tablename__ = "rate_counters"
    __table_args__ = (Index("ix_rate_counters_expires_at", "expires_at"),)

    purpose: Mapped[str] = mapped_column(String(40), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hits: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime] = mapped_column()
