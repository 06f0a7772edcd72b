"""exposures are found by message (id or key) within an experiment, in one index probe

Revision ID: exp2
Revises: exp1
Create Date: 2026-12-05 21:00:00
"""

from __future__ import annotations

from alembic import op

revision = "exp2"
down_revision = "exp1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_experiment_exposures_message_id", table_name="experiment_exposures")
    op.drop_index("ix_experiment_exposures_message_key", table_name="experiment_exposures")
    op.create_index(
        "ix_experiment_exposures_message_id",
        "experiment_exposures",
        ["message_id", "experiment_id"],
    )
    op.create_index(
        "ix_experiment_exposures_message_key",
        "experiment_exposures",
        ["message_key", "experiment_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_experiment_exposures_message_id", table_name="experiment_exposures")
    op.drop_index("ix_experiment_exposures_message_key", table_name="experiment_exposures")
    op.create_index("ix_experiment_exposures_message_id", "experiment_exposures", ["message_id"])
    op.create_index("ix_experiment_exposures_message_key", "experiment_exposures", ["message_key"])
