"""brand settings: the firm's name, accent colour, logo, address and font

Revision ID: brd1
Revises: msg1
Create Date: 2026-12-06 05:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import nurture.models.base

revision = "brd1"
down_revision = "msg1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "brand_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("color", sa.String(length=7), nullable=False),
        sa.Column("logo_url", sa.String(length=2000), nullable=False),
        sa.Column("address", sa.String(length=500), nullable=False),
        sa.Column("font", sa.String(length=20), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", nurture.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_brand_settings")),
    )


def downgrade() -> None:
    op.drop_table("brand_settings")
