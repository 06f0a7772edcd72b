"""predictive score: fitted models and each contact's predicted probability

Revision ID: pred1
Revises: qual1
Create Date: 2026-12-05 17:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import nurture.models.base

revision = "pred1"
down_revision = "qual1"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = nurture.models.base.UTCDateTime(timezone=True)
_JSON = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "predictive_models",
        sa.Column("id", _ID, nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("l2", sa.Double(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("spec", _JSON, nullable=False),
        sa.Column("metrics", _JSON, nullable=False),
        sa.Column("contacts_scored", sa.Integer(), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("started_at", _TIME, nullable=True),
        sa.Column("finished_at", _TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_predictive_models")),
    )
    op.create_index("ix_predictive_models_status_id", "predictive_models", ["status", "id"])
    op.add_column("contacts", sa.Column("predicted_probability", sa.Double(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("predicted_probability")
    op.drop_index("ix_predictive_models_status_id", table_name="predictive_models")
    op.drop_table("predictive_models")
