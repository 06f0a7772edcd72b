"""Contacts (people) and the companies they work for."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from nurture.models.base import Base, BigId, utcnow

if TYPE_CHECKING:
    from nurture.models.accounts import User


class LifecycleStage(enum.StrEnum):
    SUBSCRIBER = "subscriber"
    LEAD = "lead"
    MQL = "mql"
    SQL = "sql"
    OPPORTUNITY = "opportunity"
    CUSTOMER = "customer"
    FORMER_CUSTOMER = "former_customer"
    OTHER = "other"


class SizeBand(enum.StrEnum):
    S1_10 = "1-10"
    S11_50 = "11-50"
    S51_200 = "51-200"
    S201_1000 = "201-1000"
    S1001_5000 = "1001-5000"
    S5001_PLUS = "5001+"


class Company(Base):
    __tablename__ = "companies"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    domain: Mapped[str | None] = mapped_column(String(253), unique=True)
    industry: Mapped[str | None] = mapped_column(String(80), index=True)
    size_band: Mapped[str | None] = mapped_column(String(20))
    country: Mapped[str | None] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    contacts: Mapped[list[Contact]] = relationship(back_populates="company")


class Contact(Base):
    """A person. `email` is stored lower-cased, which makes it unique case-insensitively.

    An erased contact (GDPR) keeps its row with every personal field emptied, so
    the anonymous history (event counts, sequence statistics) still adds up.
    """

    __tablename__ = "contacts"
    __table_args__ = (Index("ix_contacts_company_id", "company_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    title: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(50))
    time_zone: Mapped[str | None] = mapped_column(String(64))
    locale: Mapped[str | None] = mapped_column(String(16))
    lifecycle_stage: Mapped[str] = mapped_column(
        String(20), default=LifecycleStage.LEAD.value, index=True
    )
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id", ondelete="SET NULL"))
    # The advocate whose referral brought this contact in (see nurture.reviews.referrals).
    # Indexed: deleting a contact looks up who it referred (SET NULL), and without the
    # index SQLite scans every contact for each one deleted.
    referred_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    notes: Mapped[str | None] = mapped_column(Text)
    last_activity_at: Mapped[datetime | None] = mapped_column()
    # Lead score and fit grade (A best .. D), read by segment rules; scoring sets them.
    score: Mapped[int] = mapped_column(default=0, server_default="0")
    fit_grade: Mapped[str | None] = mapped_column(String(2))
    # Chance of becoming a customer from the published predictive model; None: no model.
    predicted_probability: Mapped[float | None] = mapped_column()
    erased_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    company: Mapped[Company | None] = relationship(back_populates="contacts")
    owner: Mapped[User | None] = relationship()

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)
