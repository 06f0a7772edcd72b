"""indexes under the foreign keys rev1 added that point at contacts, enrolments and
surveys, so deleting those rows finds what refers to them without scanning

Revision ID: rev2
Revises: rev1
Create Date: 2026-12-06 00:30:00

Deleting a contact sets `contacts.referred_by_id` to NULL in whoever it referred; with
no index SQLite scans every contact for each contact deleted (a 100,000-contact delete
took fifteen minutes), and PostgreSQL scans the table per row as well.
"""

from __future__ import annotations

from alembic import op

revision = "rev2"
down_revision = "rev1"
branch_labels = None
depends_on = None

_INDEXES = (
    ("ix_contacts_referred_by_id", "contacts", "referred_by_id"),
    ("ix_nps_surveys_enrolment_id", "nps_surveys", "enrolment_id"),
    ("ix_testimonials_contact_id", "testimonials", "contact_id"),
    ("ix_referral_codes_survey_id", "referral_codes", "survey_id"),
    ("ix_referrals_advocate_id", "referrals", "advocate_id"),
    ("ix_referrals_referred_contact_id", "referrals", "referred_contact_id"),
)


def upgrade() -> None:
    for name, table, column in _INDEXES:
        op.create_index(name, table, [column])


def downgrade() -> None:
    for name, table, _ in reversed(_INDEXES):
        op.drop_index(name, table_name=table)
