"""sequences: at most one live enrolment per contact and sequence

Revision ID: seq2
Revises: seq1
Create Date: 2026-11-26 15:14:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "seq2"
down_revision = "seq1"
branch_labels = None
depends_on = None

_LIVE = "state IN ('active', 'paused')"


def upgrade() -> None:
    with op.batch_alter_table("sequence_enrolments", schema=None) as batch_op:
        batch_op.create_index(
            "uq_sequence_enrolments_live",
            ["sequence_id", "contact_id"],
            unique=True,
            postgresql_where=sa.text(_LIVE),
            sqlite_where=sa.text(_LIVE),
        )


def downgrade() -> None:
    with op.batch_alter_table("sequence_enrolments", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_sequence_enrolments_live",
            postgresql_where=sa.text(_LIVE),
            sqlite_where=sa.text(_LIVE),
        )
