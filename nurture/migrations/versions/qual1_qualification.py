"""lifecycle history, sales teams, routing rules, qualification settings and hand-offs

Revision ID: qual1
Revises: sec1_sessions
Create Date: 2026-12-05 17:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import nurture.models.base

revision = "qual1"
# Hand-offs point at sequences (recycling) and users, both created before sec1_sessions.
down_revision = "sec1_sessions"
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
        "lifecycle_changes",
        sa.Column("id", _ID, nullable=False),
        sa.Column("contact_id", _ID, nullable=False),
        sa.Column("from_stage", sa.String(length=20), nullable=True),
        sa.Column("to_stage", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("changed_by_id", _ID, nullable=True),
        sa.Column("occurred_at", _TIME, nullable=False),
        _fk("lifecycle_changes", "contact_id", "contacts", "CASCADE"),
        _fk("lifecycle_changes", "changed_by_id", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lifecycle_changes")),
    )
    op.create_index(
        "ix_lifecycle_changes_contact_time", "lifecycle_changes", ["contact_id", "occurred_at"]
    )
    op.create_index(
        "ix_lifecycle_changes_to_time", "lifecycle_changes", ["to_stage", "occurred_at"]
    )
    op.create_table(
        "sales_reps",
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("updated_at", _TIME, nullable=False),
        _fk("sales_reps", "user_id", "users", "CASCADE"),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_sales_reps")),
    )
    op.create_table(
        "sales_teams",
        sa.Column("id", _ID, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("lead_id", _ID, nullable=True),
        sa.Column("last_assigned_id", _ID, nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        _fk("sales_teams", "lead_id", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_teams")),
        sa.UniqueConstraint("name", name=op.f("uq_sales_teams_name")),
    )
    op.create_table(
        "sales_team_members",
        sa.Column("team_id", _ID, nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        _fk("sales_team_members", "team_id", "sales_teams", "CASCADE"),
        _fk("sales_team_members", "user_id", "users", "CASCADE"),
        sa.PrimaryKeyConstraint("team_id", "user_id", name=op.f("pk_sales_team_members")),
    )
    op.create_table(
        "routing_rules",
        sa.Column("id", _ID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("match", _JSON, nullable=False),
        sa.Column("team_id", _ID, nullable=True),
        sa.Column("owner_id", _ID, nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        _fk("routing_rules", "team_id", "sales_teams", "CASCADE"),
        _fk("routing_rules", "owner_id", "users", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_rules")),
    )
    op.create_table(
        "qualification_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("mql_rule", _JSON, nullable=False),
        sa.Column("sla_hours", sa.Integer(), nullable=False),
        sa.Column("work_start", sa.String(length=5), nullable=False),
        sa.Column("work_end", sa.String(length=5), nullable=False),
        sa.Column("work_days", _JSON, nullable=False),
        sa.Column("default_time_zone", sa.String(length=64), nullable=False),
        sa.Column("fallback_owner_id", _ID, nullable=True),
        sa.Column("recycle_sequence_id", _ID, nullable=True),
        sa.Column("recycle_score_to", sa.Integer(), nullable=True),
        sa.Column("updated_by_id", _ID, nullable=True),
        sa.Column("updated_at", _TIME, nullable=False),
        _fk("qualification_settings", "fallback_owner_id", "users", "SET NULL"),
        _fk("qualification_settings", "recycle_sequence_id", "sequences", "SET NULL"),
        _fk("qualification_settings", "updated_by_id", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qualification_settings")),
    )
    op.create_table(
        "handoffs",
        sa.Column("id", _ID, nullable=False),
        sa.Column("contact_id", _ID, nullable=False),
        sa.Column("owner_id", _ID, nullable=True),
        sa.Column("team_id", _ID, nullable=True),
        sa.Column("routing_rule_id", _ID, nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("summary", _JSON, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("due_at", _TIME, nullable=True),
        sa.Column("notified_at", _TIME, nullable=True),
        sa.Column("escalated_at", _TIME, nullable=True),
        sa.Column("escalated_to_id", _ID, nullable=True),
        sa.Column("acted_at", _TIME, nullable=True),
        sa.Column("acted_by_id", _ID, nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("recycled_sequence_id", _ID, nullable=True),
        _fk("handoffs", "contact_id", "contacts", "CASCADE"),
        _fk("handoffs", "owner_id", "users", "SET NULL"),
        _fk("handoffs", "team_id", "sales_teams", "SET NULL"),
        _fk("handoffs", "routing_rule_id", "routing_rules", "SET NULL"),
        _fk("handoffs", "escalated_to_id", "users", "SET NULL"),
        _fk("handoffs", "acted_by_id", "users", "SET NULL"),
        _fk("handoffs", "recycled_sequence_id", "sequences", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handoffs")),
    )
    pending = sa.text("state = 'pending'")
    op.create_index(
        "uq_handoffs_pending_contact",
        "handoffs",
        ["contact_id"],
        unique=True,
        postgresql_where=pending,
        sqlite_where=pending,
    )
    op.create_index("ix_handoffs_owner_state", "handoffs", ["owner_id", "state"])
    op.create_index(
        "ix_handoffs_due", "handoffs", ["due_at"], postgresql_where=pending, sqlite_where=pending
    )
    op.create_index("ix_handoffs_contact_id", "handoffs", ["contact_id"])


def downgrade() -> None:
    op.drop_table("handoffs")
    op.drop_table("qualification_settings")
    op.drop_table("routing_rules")
    op.drop_table("sales_team_members")
    op.drop_table("sales_teams")
    op.drop_table("sales_reps")
    op.drop_index("ix_lifecycle_changes_to_time", table_name="lifecycle_changes")
    op.drop_index("ix_lifecycle_changes_contact_time", table_name="lifecycle_changes")
    op.drop_table("lifecycle_changes")
