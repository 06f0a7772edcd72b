"""email images: uploaded pictures for e-mail, stored once per content hash

Revision ID: img1
Revises: msg1
Create Date: 2026-12-06 05:00:00

Kept in the database (BYTEA on PostgreSQL) rather than on one machine's disk, so that
every web process on every machine serves every image.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import nurture.models.base

revision = "img1"
down_revision = "msg1"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "email_images",
        sa.Column("id", _ID, nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=20), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("frames", sa.Integer(), nullable=False),
        sa.Column("byte_size", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("uploaded_by", sa.String(length=60), nullable=False),
        sa.Column("created_at", nurture.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_images")),
        sa.UniqueConstraint("digest", name=op.f("uq_email_images_digest")),
    )


def downgrade() -> None:
    op.drop_table("email_images")
