"""lead scoring: rules, settings, adjustments and score history

Revision ID: score1
Revises: qual1
Create Date: 2026-12-05 17:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import nurture.models.base

revision = "score1"
down_revision = "qual1"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = nurture.models.base.UTCDateTime(timezone=True)
_JSON = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "scoring_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("half_life_days", sa.Float(), nullable=False),
        sa.Column("grade_a", sa.Integer(), nullable=False),
        sa.Column("grade_b", sa.Integer(), nullable=False),
        sa.Column("grade_c", sa.Integer(), nullable=False),
        sa.Column("rules_changed_at", _TIME, nullable=True),
        sa.Column("rescored_at", _TIME, nullable=True),
        sa.Column("rescore_claimed_at", _TIME, nullable=True),
        sa.Column("updated_by", sa.String(length=100), nullable=True),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scoring_settings")),
    )
    op.create_table(
        "scoring_behaviour_rules",
        sa.Column("id", _ID, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("where", _JSON, nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("cap_points", sa.Integer(), nullable=True),
        sa.Column("cap_days", sa.Integer(), nullable=True),
        sa.Column("threshold_count", sa.Integer(), nullable=True),
        sa.Column("threshold_days", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scoring_behaviour_rules")),
    )
    op.create_table(
        "scoring_fit_rules",
        sa.Column("id", _ID, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("condition", _JSON, nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scoring_fit_rules")),
    )
    op.create_table(
        "score_adjustments",
        sa.Column("id", _ID, nullable=False),
        sa.Column("contact_id", _ID, nullable=False),
        sa.Column("points", sa.Float(), nullable=False),
        sa.Column("occurred_at", _TIME, nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_score_adjustments_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_score_adjustments")),
    )
    op.create_index("ix_score_adjustments_contact_id", "score_adjustments", ["contact_id"])
    op.create_table(
        "score_history",
        sa.Column("contact_id", _ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_score_history_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("contact_id", "day", name=op.f("pk_score_history")),
    )


def downgrade() -> None:
    op.drop_table("score_history")
    op.drop_index("ix_score_adjustments_contact_id", table_name="score_adjustments")
    op.drop_table("score_adjustments")
    op.drop_table("scoring_fit_rules")
    op.drop_table("scoring_behaviour_rules")
    op.drop_table("scoring_settings")
