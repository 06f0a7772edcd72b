"""E-mail templates and their immutable versions, one variant per locale."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from nurture.models.base import Base, BigId, utcnow


class TemplateKind(enum.StrEnum):
    # Marketing mail honours suppressions and topic opt-outs and carries an
    # unsubscribe link; internal mail (a handoff to a rep) goes to our own users.
    MARKETING = "marketing"
    INTERNAL = "internal"


class EmailTemplate(Base):
    """What a marketer names and edits. The content lives in versions: every save
    adds an `EmailTemplateVersion`, and `current_version` is the newest number."""

    __tablename__ = "email_templates"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str | None] = mapped_column(String(2000))
    kind: Mapped[str] = mapped_column(String(20), default=TemplateKind.MARKETING.value)
    # The preference topic a recipient can opt out of (None: no topic, e.g. internal mail).
    topic: Mapped[str | None] = mapped_column(String(40))
    tracking: Mapped[bool] = mapped_column(default=True)
    current_version: Mapped[int] = mapped_column(default=0)
    # Set when made from the starter library (its stable slug), so seeding is idempotent.
    starter_name: Mapped[str | None] = mapped_column(String(80), unique=True)
    archived_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    versions: Mapped[list[EmailTemplateVersion]] = relationship(
        back_populates="template", order_by="EmailTemplateVersion.number"
    )


class EmailTemplateVersion(Base):
    """One saved state of a template, never changed after it is written; messages
    point at the version they were rendered from."""

    __tablename__ = "email_template_versions"
    __table_args__ = (UniqueConstraint("template_id", "number"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("email_templates.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column()
    # Snapshots of the template's settings at the time of the save.
    tracking: Mapped[bool] = mapped_column(default=True)
    topic: Mapped[str | None] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20), default=TemplateKind.MARKETING.value)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    template: Mapped[EmailTemplate] = relationship(back_populates="versions")
    variants: Mapped[list[EmailTemplateVariant]] = relationship(
        back_populates="version", order_by="EmailTemplateVariant.locale"
    )


class EmailTemplateVariant(Base):
    """The content of one version in one language (`locale` like "en" or "ru")."""

    __tablename__ = "email_template_variants"
    __table_args__ = (UniqueConstraint("version_id", "locale"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("email_template_versions.id", ondelete="CASCADE")
    )
    locale: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(1000))
    preheader: Mapped[str] = mapped_column(String(1000), default="")
    body: Mapped[str] = mapped_column(Text)
    text_body: Mapped[str | None] = mapped_column(Text)

    version: Mapped[EmailTemplateVersion] = relationship(back_populates="variants")
