"""webinar registrations: who registered for which webinar, and whether they came

Revision ID: web1
Revises: seq2
Create Date: 2026-11-26 16:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import nurture.models.base

revision = "web1"
down_revision = "seq2"
branch_labels = None
# The webinars table comes from the content library branch.
depends_on = ("content1",)

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "webinar_registrations",
        sa.Column("id", _ID, nullable=False),
        sa.Column("webinar_id", _ID, nullable=False),
        sa.Column("contact_id", _ID, nullable=False),
        sa.Column("registered_at", nurture.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attendance", sa.String(length=12), nullable=False),
        sa.Column("attendance_at", nurture.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("minutes_attended", sa.Integer(), nullable=True),
        sa.Column("reminded_hours", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_webinar_registrations_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["webinar_id"],
            ["webinars.id"],
            name=op.f("fk_webinar_registrations_webinar_id_webinars"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webinar_registrations")),
        sa.UniqueConstraint(
            "webinar_id", "contact_id", name=op.f("uq_webinar_registrations_webinar_id")
        ),
    )
    op.create_index("ix_webinar_registrations_contact_id", "webinar_registrations", ["contact_id"])


def downgrade() -> None:
    op.drop_index("ix_webinar_registrations_contact_id", table_name="webinar_registrations")
    op.drop_table("webinar_registrations")
