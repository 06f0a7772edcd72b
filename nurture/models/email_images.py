"""Images uploaded for e-mail, kept in the database so that every web process serves them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from nurture.models.base import Base, BigId, utcnow


class EmailImage(Base):
    """One stored image, found by `digest` (the SHA-256 of `data`, in hex): the same
    bytes uploaded twice are one row, and its public address never changes meaning.

    `uploaded_by` names the first uploader as the audit log does ("user:3",
    "apikey:7"); every upload, a repeated one too, also has an audit entry.
    """

    __tablename__ = "email_images"
    __table_args__ = (UniqueConstraint("digest"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    media_type: Mapped[str] = mapped_column(String(20))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    frames: Mapped[int] = mapped_column(Integer, default=1)
    byte_size: Mapped[int] = mapped_column(Integer)
    # The name of the file first uploaded with these bytes, for people to recognise it.
    filename: Mapped[str] = mapped_column(String(255), default="")
    uploaded_by: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # BYTEA on PostgreSQL, BLOB on SQLite; loaded only when the bytes are served.
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
