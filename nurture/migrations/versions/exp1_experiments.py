"""experiments, variants, exposures, bandit allocations; broadcasts and their recipients;
the variant overrides of a message

Revision ID: exp1
Revises: qual1
Create Date: 2026-12-05 20:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import nurture.models.base

revision = "exp1"
down_revision = "qual1"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = nurture.models.base.UTCDateTime(timezone=True)
_JSON = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "broadcasts",
        sa.Column("id", _ID, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("template_id", _ID, nullable=True),
        sa.Column("segment_id", _ID, nullable=True),
        sa.Column("contact_ids", _JSON, nullable=True),
        sa.Column("send_at", _TIME, nullable=True),
        sa.Column("local_time", sa.String(length=5), nullable=True),
        sa.Column("cap_policy", sa.String(length=10), nullable=False),
        sa.Column("quiet_hours", _JSON, nullable=True),
        sa.Column("test_percent", sa.Integer(), nullable=True),
        sa.Column("test_hours", sa.Double(), nullable=True),
        sa.Column("decide_at", _TIME, nullable=True),
        sa.Column("rest_variant", sa.String(length=20), nullable=True),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("started_at", _TIME, nullable=True),
        sa.Column("finished_at", _TIME, nullable=True),
        sa.Column("cancelled_at", _TIME, nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        _fk("broadcasts", "template_id", "email_templates", "SET NULL"),
        _fk("broadcasts", "segment_id", "segments", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_broadcasts")),
    )
    op.create_index("ix_broadcasts_status", "broadcasts", ["status"])
    op.create_table(
        "broadcast_recipients",
        sa.Column("broadcast_id", _ID, nullable=False),
        sa.Column("contact_id", _ID, nullable=False),
        sa.Column("phase", sa.String(length=10), nullable=False),
        sa.Column("variant_key", sa.String(length=20), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("due_at", _TIME, nullable=True),
        sa.Column("claim_token", sa.String(length=40), nullable=True),
        sa.Column("claimed_until", _TIME, nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("outcome", sa.String(length=40), nullable=True),
        _fk("broadcast_recipients", "broadcast_id", "broadcasts", "CASCADE"),
        _fk("broadcast_recipients", "contact_id", "contacts", "CASCADE"),
        sa.PrimaryKeyConstraint("broadcast_id", "contact_id", name=op.f("pk_broadcast_recipients")),
    )
    op.create_index(
        "ix_broadcast_recipients_due", "broadcast_recipients", ["broadcast_id", "state", "due_at"]
    )
    op.create_table(
        "experiments",
        sa.Column("id", _ID, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("salt", sa.String(length=40), nullable=False),
        sa.Column("sequence_id", _ID, nullable=True),
        sa.Column("step_key", sa.String(length=40), nullable=True),
        sa.Column("broadcast_id", _ID, nullable=True),
        sa.Column("metric", sa.String(length=20), nullable=False),
        sa.Column("conversion_event", sa.String(length=100), nullable=True),
        sa.Column("window_days", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("bandit_floor", sa.Double(), nullable=False),
        sa.Column("baseline_rate", sa.Double(), nullable=True),
        sa.Column("min_effect", sa.Double(), nullable=False),
        sa.Column("alpha", sa.Double(), nullable=False),
        sa.Column("power", sa.Double(), nullable=False),
        sa.Column("planned_per_variant", sa.Integer(), nullable=True),
        sa.Column("guardrail_stop", sa.Boolean(), nullable=False),
        sa.Column("default_variant", sa.String(length=20), nullable=False),
        sa.Column("winner_variant", sa.String(length=20), nullable=True),
        sa.Column("decision_reason", sa.String(length=1000), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("started_at", _TIME, nullable=True),
        sa.Column("decided_at", _TIME, nullable=True),
        sa.Column("event_watermark", sa.BigInteger(), nullable=False),
        sa.Column("refreshed_at", _TIME, nullable=True),
        sa.Column("looks", _JSON, nullable=False),
        sa.Column("results", _JSON, nullable=True),
        sa.Column("results_at", _TIME, nullable=True),
        sa.Column("allocated_at", _TIME, nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        _fk("experiments", "sequence_id", "sequences", "CASCADE"),
        _fk("experiments", "broadcast_id", "broadcasts", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiments")),
        sa.UniqueConstraint("sequence_id", "step_key", name=op.f("uq_experiments_sequence_id")),
    )
    op.create_index("ix_experiments_status", "experiments", ["status"])
    op.create_index("ix_experiments_broadcast_id", "experiments", ["broadcast_id"])
    op.create_table(
        "experiment_variants",
        sa.Column("id", _ID, nullable=False),
        sa.Column("experiment_id", _ID, nullable=False),
        sa.Column("key", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("weight", sa.Double(), nullable=False),
        sa.Column("content", _JSON, nullable=False),
        sa.Column("allocation", sa.Double(), nullable=True),
        sa.Column("stopped_at", _TIME, nullable=True),
        sa.Column("stopped_reason", sa.String(length=500), nullable=True),
        _fk("experiment_variants", "experiment_id", "experiments", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiment_variants")),
        sa.UniqueConstraint(
            "experiment_id", "key", name=op.f("uq_experiment_variants_experiment_id")
        ),
    )
    op.create_table(
        "experiment_exposures",
        sa.Column("id", _ID, nullable=False),
        sa.Column("experiment_id", _ID, nullable=False),
        sa.Column("variant_key", sa.String(length=20), nullable=False),
        sa.Column("contact_id", _ID, nullable=False),
        sa.Column("enrolment_id", sa.BigInteger(), nullable=True),
        sa.Column("message_key", sa.String(length=200), nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("exposed_at", _TIME, nullable=False),
        sa.Column("delivered_at", _TIME, nullable=True),
        sa.Column("bounced_at", _TIME, nullable=True),
        sa.Column("opened_at", _TIME, nullable=True),
        sa.Column("clicked_at", _TIME, nullable=True),
        sa.Column("replied_at", _TIME, nullable=True),
        sa.Column("unsubscribed_at", _TIME, nullable=True),
        sa.Column("complained_at", _TIME, nullable=True),
        sa.Column("converted_at", _TIME, nullable=True),
        _fk("experiment_exposures", "experiment_id", "experiments", "CASCADE"),
        _fk("experiment_exposures", "contact_id", "contacts", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiment_exposures")),
        sa.UniqueConstraint(
            "experiment_id",
            "contact_id",
            name=op.f("uq_experiment_exposures_experiment_id"),
        ),
    )
    op.create_index("ix_experiment_exposures_message_id", "experiment_exposures", ["message_id"])
    op.create_index("ix_experiment_exposures_message_key", "experiment_exposures", ["message_key"])
    op.create_index("ix_experiment_exposures_contact_id", "experiment_exposures", ["contact_id"])
    op.create_table(
        "experiment_allocations",
        sa.Column("id", _ID, nullable=False),
        sa.Column("experiment_id", _ID, nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("shares", _JSON, nullable=False),
        _fk("experiment_allocations", "experiment_id", "experiments", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiment_allocations")),
    )
    op.create_index(
        "ix_experiment_allocations_experiment_at", "experiment_allocations", ["experiment_id", "at"]
    )
    op.add_column("email_messages", sa.Column("overrides", _JSON, nullable=True))


def downgrade() -> None:
    op.drop_column("email_messages", "overrides")
    op.drop_table("experiment_allocations")
    op.drop_table("experiment_exposures")
    op.drop_table("experiment_variants")
    op.drop_table("experiments")
    op.drop_table("broadcast_recipients")
    op.drop_table("broadcasts")
