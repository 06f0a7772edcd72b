"""The firm's brand as set under Settings → Brand."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from nurture.models.base import Base, utcnow


class BrandSettings(Base):
    """The one brand row (id 1). An empty value keeps the configured default, so a
    firm that never opens the page sends as it did (see campaigns.email.brand)."""

    __tablename__ = "brand_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    # "#rrggbb", dark enough for white button text.
    color: Mapped[str] = mapped_column(String(7), default="")
    logo_url: Mapped[str] = mapped_column(String(2000), default="")
    address: Mapped[str] = mapped_column(String(500), default="")
    # A key of campaigns.email.brand.FONTS.
    font: Mapped[str] = mapped_column(String(20), default="")
    updated_by: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
