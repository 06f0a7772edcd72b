"""projects, NPS surveys and answers, testimonials, referrals and their settings; who
referred a contact; task escalation; a case study's library quote

Revision ID: rev1
Revises: exp2, content1, mail1
Create Date: 2026-12-05 23:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import nurture.models.base

revision = "rev1"
down_revision = ("exp2", "content1", "mail1")
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = nurture.models.base.UTCDateTime(timezone=True)
_JSON = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")
_ESCALATING = "escalate AND escalated_at IS NULL AND outcome IS NULL"


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "projects",
        sa.Column("id", _ID, nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("company_id", _ID, nullable=True),
        sa.Column("service_id", _ID, nullable=True),
        sa.Column("account_manager_id", _ID, nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("completed_at", _TIME, nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        _fk("projects", "company_id", "companies", "SET NULL"),
        _fk("projects", "service_id", "services", "SET NULL"),
        _fk("projects", "account_manager_id", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
        sa.UniqueConstraint("external_id", name=op.f("uq_projects_external_id")),
    )
    op.create_index("ix_projects_company_id", "projects", ["company_id"])
    op.create_index("ix_projects_status_completed", "projects", ["status", "completed_at"])
    op.create_table(
        "project_contacts",
        sa.Column("project_id", _ID, nullable=False),
        sa.Column("contact_id", _ID, nullable=False),
        _fk("project_contacts", "project_id", "projects", "CASCADE"),
        _fk("project_contacts", "contact_id", "contacts", "CASCADE"),
        sa.PrimaryKeyConstraint("project_id", "contact_id", name=op.f("pk_project_contacts")),
    )
    op.create_index("ix_project_contacts_contact_id", "project_contacts", ["contact_id"])
    op.create_table(
        "project_members",
        sa.Column("project_id", _ID, nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        _fk("project_members", "project_id", "projects", "CASCADE"),
        _fk("project_members", "user_id", "users", "CASCADE"),
        sa.PrimaryKeyConstraint("project_id", "user_id", name=op.f("pk_project_members")),
    )
    op.create_index("ix_project_members_user_id", "project_members", ["user_id"])
    op.create_table(
        "nps_surveys",
        sa.Column("id", _ID, nullable=False),
        sa.Column("project_id", _ID, nullable=True),
        sa.Column("contact_id", _ID, nullable=False),
        sa.Column("service_id", _ID, nullable=True),
        sa.Column("account_manager_id", _ID, nullable=True),
        sa.Column("enrolment_id", _ID, nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("expires_at", _TIME, nullable=False),
        sa.Column("sent_at", _TIME, nullable=True),
        sa.Column("reminded_at", _TIME, nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("category", sa.String(length=10), nullable=True),
        sa.Column("answered_at", _TIME, nullable=True),
        sa.Column("follow_up", sa.Text(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("commented_at", _TIME, nullable=True),
        _fk("nps_surveys", "project_id", "projects", "SET NULL"),
        _fk("nps_surveys", "contact_id", "contacts", "CASCADE"),
        _fk("nps_surveys", "service_id", "services", "SET NULL"),
        _fk("nps_surveys", "account_manager_id", "users", "SET NULL"),
        _fk("nps_surveys", "enrolment_id", "sequence_enrolments", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nps_surveys")),
        sa.UniqueConstraint("project_id", "contact_id", name=op.f("uq_nps_surveys_project_id")),
    )
    op.create_index("ix_nps_surveys_contact_created", "nps_surveys", ["contact_id", "created_at"])
    op.create_index("ix_nps_surveys_answered", "nps_surveys", ["answered_at"])
    op.create_table(
        "nps_answers",
        sa.Column("id", _ID, nullable=False),
        sa.Column("survey_id", _ID, nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("previous_score", sa.Integer(), nullable=True),
        sa.Column("answered_at", _TIME, nullable=False),
        _fk("nps_answers", "survey_id", "nps_surveys", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nps_answers")),
        sa.UniqueConstraint("survey_id", "number", name=op.f("uq_nps_answers_survey_id")),
    )
    op.create_table(
        "testimonials",
        sa.Column("id", _ID, nullable=False),
        sa.Column("survey_id", _ID, nullable=True),
        sa.Column("contact_id", _ID, nullable=True),
        sa.Column("project_id", _ID, nullable=True),
        sa.Column("service_id", _ID, nullable=True),
        sa.Column("industry", sa.String(length=80), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("quote", sa.Text(), nullable=False),
        sa.Column("attribution", sa.String(length=20), nullable=True),
        sa.Column("display_name", sa.String(length=300), nullable=True),
        sa.Column("consent", _JSON, nullable=False),
        sa.Column("approved_at", _TIME, nullable=True),
        sa.Column("withdrawn_at", _TIME, nullable=True),
        sa.Column("withdrawn_by", sa.String(length=200), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        _fk("testimonials", "survey_id", "nps_surveys", "SET NULL"),
        _fk("testimonials", "contact_id", "contacts", "SET NULL"),
        _fk("testimonials", "project_id", "projects", "SET NULL"),
        _fk("testimonials", "service_id", "services", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_testimonials")),
        sa.UniqueConstraint("survey_id", name=op.f("uq_testimonials_survey_id")),
    )
    op.create_index("ix_testimonials_status", "testimonials", ["status"])
    op.create_table(
        "referral_codes",
        sa.Column("id", _ID, nullable=False),
        sa.Column("contact_id", _ID, nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("survey_id", _ID, nullable=True),
        sa.Column("invited_at", _TIME, nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        _fk("referral_codes", "contact_id", "contacts", "CASCADE"),
        _fk("referral_codes", "survey_id", "nps_surveys", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_codes")),
        sa.UniqueConstraint("contact_id", name=op.f("uq_referral_codes_contact_id")),
        sa.UniqueConstraint("code", name=op.f("uq_referral_codes_code")),
    )
    op.create_table(
        "referrals",
        sa.Column("id", _ID, nullable=False),
        sa.Column("code_id", _ID, nullable=False),
        sa.Column("advocate_id", _ID, nullable=False),
        sa.Column("referred_contact_id", _ID, nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("refusal", sa.String(length=12), nullable=True),
        sa.Column("sequence_id", _ID, nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("qualified_at", _TIME, nullable=True),
        sa.Column("won_at", _TIME, nullable=True),
        sa.Column("rewarded_at", _TIME, nullable=True),
        sa.Column("reward_state", sa.String(length=10), nullable=False),
        sa.Column("reward_note", sa.String(length=500), nullable=True),
        sa.Column("reward_decided_by_id", _ID, nullable=True),
        sa.Column("reward_decided_at", _TIME, nullable=True),
        _fk("referrals", "code_id", "referral_codes", "CASCADE"),
        _fk("referrals", "advocate_id", "contacts", "CASCADE"),
        _fk("referrals", "referred_contact_id", "contacts", "SET NULL"),
        _fk("referrals", "sequence_id", "sequences", "SET NULL"),
        _fk("referrals", "reward_decided_by_id", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
    )
    op.create_index("ix_referrals_code", "referrals", ["code_id"])
    op.create_index("ix_referrals_status", "referrals", ["status"])
    op.create_index(
        "uq_referrals_referred_live",
        "referrals",
        ["referred_contact_id"],
        unique=True,
        postgresql_where=sa.text("status <> 'refused'"),
        sqlite_where=sa.text("status <> 'refused'"),
    )
    op.create_table(
        "review_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referral_sequence_id", _ID, nullable=True),
        sa.Column("thank_stages", _JSON, nullable=False),
        sa.Column("thank_template_id", _ID, nullable=True),
        sa.Column("reward_text", sa.String(length=500), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        _fk("review_settings", "referral_sequence_id", "sequences", "SET NULL"),
        _fk("review_settings", "thank_template_id", "email_templates", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_settings")),
    )
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("referred_by_id", _ID, nullable=True))
        batch.create_foreign_key(
            op.f("fk_contacts_referred_by_id_contacts"),
            "contacts",
            ["referred_by_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("case_studies") as batch:
        batch.add_column(sa.Column("testimonial_id", _ID, nullable=True))
        batch.create_foreign_key(
            op.f("fk_case_studies_testimonial_id_testimonials"),
            "testimonials",
            ["testimonial_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("sequence_tasks") as batch:
        batch.add_column(
            sa.Column("escalate", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("escalated_at", _TIME, nullable=True))
        batch.add_column(sa.Column("escalated_to_id", _ID, nullable=True))
        batch.create_foreign_key(
            op.f("fk_sequence_tasks_escalated_to_id_users"),
            "users",
            ["escalated_to_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.create_index(
        "ix_sequence_tasks_escalation",
        "sequence_tasks",
        ["due_at"],
        postgresql_where=sa.text(_ESCALATING),
        sqlite_where=sa.text(_ESCALATING),
    )


def downgrade() -> None:
    op.drop_index("ix_sequence_tasks_escalation", table_name="sequence_tasks")
    with op.batch_alter_table("sequence_tasks") as batch:
        batch.drop_constraint(op.f("fk_sequence_tasks_escalated_to_id_users"), type_="foreignkey")
        batch.drop_column("escalated_to_id")
        batch.drop_column("escalated_at")
        batch.drop_column("escalate")
    with op.batch_alter_table("case_studies") as batch:
        batch.drop_constraint(
            op.f("fk_case_studies_testimonial_id_testimonials"), type_="foreignkey"
        )
        batch.drop_column("testimonial_id")
    with op.batch_alter_table("contacts") as batch:
        batch.drop_constraint(op.f("fk_contacts_referred_by_id_contacts"), type_="foreignkey")
        batch.drop_column("referred_by_id")
    for table in (
        "review_settings",
        "referrals",
        "referral_codes",
        "testimonials",
        "nps_answers",
        "nps_surveys",
        "project_members",
        "project_contacts",
        "projects",
    ):
        op.drop_table(table)
