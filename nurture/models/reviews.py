"""After the project: projects, NPS surveys and their answers, testimonials, referrals.

A project names its client contacts and the firm's people; when it completes, each
client contact gets at most one survey for it (`nps_surveys`, unique per project and
contact). A survey keeps its latest answer; every answer and change of score is a row
of `nps_answers`, so the history is kept and each answer is stored exactly once.
Testimonials are the promoters' own words with the consent they gave; a withdrawn
one keeps the consent record (who, when) but not the words. A referral code belongs to
one advocate; each submission on its public page is a `referrals` row, refused ones
included (with the reason), so the firm sees what was turned away.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from nurture.models.base import Base, BigId, JsonDoc, utcnow


class ProjectStatus(enum.StrEnum):
    PLANNED = "planned"
    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class NpsCategory(enum.StrEnum):
    PROMOTER = "promoter"  # 9-10
    PASSIVE = "passive"  # 7-8
    DETRACTOR = "detractor"  # 0-6


class Attribution(enum.StrEnum):
    """How an approved testimonial names its author."""

    NAME_COMPANY = "name_company"  # "Emma Lawson, Harbor Freight Logistics"
    TITLE_ONLY = "title_only"  # "Head of Operations, a logistics company"
    ANONYMOUS = "anonymous"  # "A client in logistics"


class TestimonialStatus(enum.StrEnum):
    REQUESTED = "requested"  # asked; the client has not approved a text yet
    APPROVED = "approved"  # the client approved these words and this attribution
    HIDDEN = "hidden"  # approved, but the firm chose not to use it
    WITHDRAWN = "withdrawn"  # consent withdrawn: the words are gone, the record stays


class ReferralStatus(enum.StrEnum):
    LEAD = "lead"  # the colleague left their details: a new lead
    QUALIFIED = "qualified"  # the lead qualified (lead.qualified)
    WON = "won"  # became a customer
    REWARDED = "rewarded"  # a person approved the advocate's reward
    REFUSED = "refused"  # self-referral, duplicate or already known: see `refusal`


class ReferralRefusal(enum.StrEnum):
    SELF = "self"  # the advocate's own address
    DUPLICATE = "duplicate"  # this person was referred before
    KNOWN = "known"  # already in the database by other means


class RewardState(enum.StrEnum):
    NONE = "none"  # not due yet
    PENDING = "pending"  # due (the referral was won): waits for a person
    APPROVED = "approved"
    DECLINED = "declined"


def nps_category(score: int) -> NpsCategory:
    """The NPS category of a 0-10 score."""
    if score >= 9:
        return NpsCategory.PROMOTER
    if score >= 7:
        return NpsCategory.PASSIVE
    return NpsCategory.DETRACTOR


class Project(Base):
    """A piece of work for a client, reported by the firm's project tool."""

    __tablename__ = "projects"
    __table_args__ = (Index("ix_projects_status_completed", "status", "completed_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # The project tool's own id: a second report with it updates this row.
    external_id: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    company_id: Mapped[int | None] = mapped_column(
        ForeignKey("companies.id", ondelete="SET NULL"), index=True
    )
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id", ondelete="SET NULL"))
    account_manager_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(12), default=ProjectStatus.ACTIVE.value)
    started_on: Mapped[date | None] = mapped_column()
    ends_on: Mapped[date | None] = mapped_column()
    # When it was reported completed (the moment `project.completed` was written).
    completed_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ProjectContact(Base):
    """A client contact of a project: who gets its survey."""

    __tablename__ = "project_contacts"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class ProjectMember(Base):
    """Someone of the firm who worked on a project (NPS by team member)."""

    __tablename__ = "project_members"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class NpsSurvey(Base):
    """One client's survey about one project, and its latest answer.

    `service_id` and `account_manager_id` are copied from the project when the survey
    is made, so reports group by who and what it was about at the time.
    """

    __tablename__ = "nps_surveys"
    __table_args__ = (
        UniqueConstraint("project_id", "contact_id"),
        Index("ix_nps_surveys_contact_created", "contact_id", "created_at"),
        Index("ix_nps_surveys_answered", "answered_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="SET NULL"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id", ondelete="SET NULL"))
    account_manager_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    enrolment_id: Mapped[int | None] = mapped_column(
        ForeignKey("sequence_enrolments.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Its links stop working after this.
    expires_at: Mapped[datetime] = mapped_column()
    sent_at: Mapped[datetime | None] = mapped_column()
    reminded_at: Mapped[datetime | None] = mapped_column()
    score: Mapped[int | None] = mapped_column()
    category: Mapped[str | None] = mapped_column(String(10))
    answered_at: Mapped[datetime | None] = mapped_column()
    # The answer to the follow-up question and an optional comment.
    follow_up: Mapped[str | None] = mapped_column(Text)
    comment: Mapped[str | None] = mapped_column(Text)
    commented_at: Mapped[datetime | None] = mapped_column()


class NpsAnswer(Base):
    """Each score given: the first answer and every change, in order."""

    __tablename__ = "nps_answers"
    __table_args__ = (UniqueConstraint("survey_id", "number"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("nps_surveys.id", ondelete="CASCADE"))
    # 1 for the first answer, 2 for the first change...: two racing first answers
    # cannot both be number 1.
    number: Mapped[int] = mapped_column()
    score: Mapped[int] = mapped_column()
    previous_score: Mapped[int | None] = mapped_column()
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)


class Testimonial(Base):
    """A client's quote with the consent they gave for it.

    `quote` holds the words the client approved (a draft before). `consent` keeps
    what they agreed to (the wording shown, the attribution chosen, when); a withdrawal
    empties `quote` and `display_name` and keeps who withdrew and when.
    """

    __tablename__ = "testimonials"
    __table_args__ = (Index("ix_testimonials_status", "status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    survey_id: Mapped[int | None] = mapped_column(
        ForeignKey("nps_surveys.id", ondelete="SET NULL"), unique=True
    )
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="SET NULL"))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id", ondelete="SET NULL"))
    industry: Mapped[str | None] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(12), default=TestimonialStatus.REQUESTED.value)
    quote: Mapped[str] = mapped_column(Text, default="")
    attribution: Mapped[str | None] = mapped_column(String(20))
    # How the quote is signed, fixed when it was approved ("Emma Lawson, Harbor...").
    display_name: Mapped[str | None] = mapped_column(String(300))
    consent: Mapped[dict[str, Any]] = mapped_column(default=dict)
    approved_at: Mapped[datetime | None] = mapped_column()
    withdrawn_at: Mapped[datetime | None] = mapped_column()
    withdrawn_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ReferralCode(Base):
    """An advocate's personal referral code (their link is /r/<code>)."""

    __tablename__ = "referral_codes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), unique=True
    )
    code: Mapped[str] = mapped_column(String(20), unique=True)
    survey_id: Mapped[int | None] = mapped_column(
        ForeignKey("nps_surveys.id", ondelete="SET NULL"), index=True
    )
    # When the invitation e-mail went: the advocate is "invited".
    invited_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Referral(Base):
    """One submission on an advocate's referral page and where it led."""

    __tablename__ = "referrals"
    __table_args__ = (
        Index("ix_referrals_code", "code_id"),
        Index("ix_referrals_status", "status"),
        # One credited referral per referred person, even when two submissions race.
        Index(
            "uq_referrals_referred_live",
            "referred_contact_id",
            unique=True,
            postgresql_where=text("status <> 'refused'"),
            sqlite_where=text("status <> 'refused'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code_id: Mapped[int] = mapped_column(ForeignKey("referral_codes.id", ondelete="CASCADE"))
    advocate_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    # The new lead; None for refused submissions (nothing of them is kept but why).
    referred_contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(12), default=ReferralStatus.LEAD.value)
    refusal: Mapped[str | None] = mapped_column(String(12))
    sequence_id: Mapped[int | None] = mapped_column(ForeignKey("sequences.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    qualified_at: Mapped[datetime | None] = mapped_column()
    won_at: Mapped[datetime | None] = mapped_column()
    rewarded_at: Mapped[datetime | None] = mapped_column()
    reward_state: Mapped[str] = mapped_column(String(10), default=RewardState.NONE.value)
    reward_note: Mapped[str | None] = mapped_column(String(500))
    reward_decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    reward_decided_at: Mapped[datetime | None] = mapped_column()


class ReviewSettings(Base):
    """The one settings row of the reviews features (id 1)."""

    __tablename__ = "review_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The sequence a referred colleague enters (None: none).
    referral_sequence_id: Mapped[int | None] = mapped_column(
        ForeignKey("sequences.id", ondelete="SET NULL")
    )
    # Referral statuses at which the advocate is thanked by e-mail, e.g. ["lead", "won"].
    thank_stages: Mapped[list[str]] = mapped_column(JsonDoc, default=list)
    thank_template_id: Mapped[int | None] = mapped_column(
        ForeignKey("email_templates.id", ondelete="SET NULL")
    )
    reward_text: Mapped[str] = mapped_column(String(500), default="")
    updated_by: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
