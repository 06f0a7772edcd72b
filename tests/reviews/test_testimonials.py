"""Testimonials: requested from a promoter's own words, approved with consent, withdrawn
everywhere (library, case studies, templates)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.content.webinar_context import case_study_view
from campaigns.email.mailconfig import MailConfig
from campaigns.sequences.content_steps import case_study_context
from nurture.config import Settings
from nurture.contacts.erasure import erase_contact
from nurture.errors import Conflict, InvalidInput
from nurture.models import AuditEntry, CaseStudy, Event, NpsSurvey
from nurture.models import Testimonial as Quote  # pytest would collect a Test* name
from nurture.reviews import testimonials
from templates.tokens import TokenExpired, TokenForged
from tests.factories import make_contact
from tests.reviews.advocacy_helpers import SIGNER, answered_survey, client_contact
from tests.webinars.helpers import make_story

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
QUOTE = "They found the bottleneck in a week and fixed it in a month."
WORDING = "I agree that my quote may be published."


def _requested(db: Session) -> Quote:
    contact = client_contact(db)
    answered_survey(db, contact, now=NOW)
    found = testimonials.testimonial_for(db, contact.id, now=NOW)
    db.commit()
    assert found is not None
    return found


def _token(t: Quote) -> str:
    assert t.contact_id is not None
    return SIGNER.testimonial(t.id, t.contact_id, testimonials.expires_on(t))


def _approve(db: Session, t: Quote, attribution: str = "name_company") -> Quote:
    approved = testimonials.approve(
        db,
        _token(t),
        signer=SIGNER,
        quote=f"  {QUOTE}  ",
        attribution=attribution,
        consent=True,
        now=NOW,
        wording=WORDING,
        locale="en",
    )
    db.commit()
    return approved


def test_a_promoter_gets_one_requested_testimonial_drafted_from_their_survey_words(
    db: Session,
) -> None:
    first = _requested(db)
    again = testimonials.testimonial_for(db, first.contact_id or 0, now=NOW + timedelta(hours=1))
    assert again is not None
    assert again.id == first.id
    assert first.status == "requested"
    assert first.quote == "The team found the bottleneck in a week.\n\nWould hire again."
    assert first.industry == "logistics"
    assert db.scalar(select(Quote.id).where(Quote.id != first.id)) is None


def test_a_passive_client_is_not_asked_for_a_testimonial(db: Session) -> None:
    contact = client_contact(db)
    answered_survey(db, contact, score=8, now=NOW)
    assert testimonials.testimonial_for(db, contact.id, now=NOW) is None


def test_approval_keeps_the_words_the_signature_and_the_consent_shown(db: Session) -> None:
    t = _approve(db, _requested(db))
    assert t.status == "approved"
    assert t.quote == QUOTE
    assert t.display_name == "Emma Lawson, Harbor Freight Logistics"
    assert t.consent == {
        "wording": WORDING,
        "attribution": "name_company",
        "display_name": "Emma Lawson, Harbor Freight Logistics",
        "given_at": NOW.isoformat(),
        "locale": "en",
    }
    assert t.approved_at == NOW
    types = db.scalars(select(Event.type).where(Event.contact_id == t.contact_id)).all()
    assert types == ["testimonial.approved"]
    assert testimonials.quote_view(t) == {
        "id": t.id,
        "quote": QUOTE,
        "display_name": "Emma Lawson, Harbor Freight Logistics",
    }


def test_approving_the_same_words_again_changes_nothing(db: Session) -> None:
    t = _approve(db, _requested(db))
    _approve(db, t)
    count = db.scalars(select(Event.id).where(Event.type == "testimonial.approved")).all()
    assert len(count) == 1


@pytest.mark.parametrize(
    ("attribution", "signed"),
    [
        ("name_company", "Emma Lawson, Harbor Freight Logistics"),
        ("title_only", "Head of Operations, a logistics company"),
        ("anonymous", "A client in logistics"),
    ],
)
def test_each_attribution_signs_the_quote_its_own_way(
    db: Session, attribution: str, signed: str
) -> None:
    t = _requested(db)
    view = testimonials.form_view(db, _token(t), signer=SIGNER, today=NOW.date())
    assert view.signatures[attribution] == signed
    assert view.first_name == "Emma"
    assert view.project_name == "Warehouse integration"
    assert _approve(db, t, attribution).display_name == signed


@pytest.mark.parametrize(
    ("quote", "attribution", "consent", "fields"),
    [
        ("Too short.", "anonymous", True, ["quote"]),
        ("x" * 1001, "anonymous", True, ["quote"]),
        (QUOTE, "nickname", True, ["attribution"]),
        (QUOTE, "anonymous", False, ["consent"]),
        ("   ", "", False, ["quote", "attribution", "consent"]),
    ],
)
def test_approval_is_refused_with_every_field_named(
    db: Session, quote: str, attribution: str, consent: bool, fields: list[str]
) -> None:
    t = _requested(db)
    with pytest.raises(InvalidInput) as caught:
        testimonials.approve(
            db,
            _token(t),
            signer=SIGNER,
            quote=quote,
            attribution=attribution,
            consent=consent,
            now=NOW,
        )
    assert [p.field for p in caught.value.problems] == fields
    db.rollback()
    assert db.get(Quote, t.id, populate_existing=True).status == "requested"  # type: ignore[union-attr]


def test_a_link_for_someone_else_or_out_of_date_is_refused(db: Session) -> None:
    t = _requested(db)
    other = client_contact(db, email="other@example.com")
    forged = SIGNER.testimonial(t.id, other.id, testimonials.expires_on(t))
    with pytest.raises(TokenForged):
        testimonials.form_view(db, forged, signer=SIGNER, today=NOW.date())
    late = testimonials.expires_on(t) + timedelta(days=1)
    with pytest.raises(TokenExpired):
        testimonials.form_view(db, _token(t), signer=SIGNER, today=late)


def test_the_client_withdrawing_removes_the_quote_from_library_case_studies_and_templates(
    db: Session,
) -> None:
    t = _approve(db, _requested(db))
    story = make_story(db, "Faster freight", testimonial_quote=QUOTE, testimonial_author="Emma")
    other = make_story(db, "Other story", testimonial_quote="Their own words, kept.")
    testimonials.attach(db, t.id, other.id, actor="marketer@firm.example")
    db.commit()
    assert case_study_view(other)["quote"] == QUOTE
    assert case_study_view(other)["quote_author"] == "Emma Lawson, Harbor Freight Logistics"
    assert [x.id for x in testimonials.library(db, status="approved")] == [t.id]

    # Consent can be taken back after the form link has expired.
    withdrawn = testimonials.withdraw(
        db, _token(t), signer=SIGNER, by="client", now=NOW + timedelta(days=400)
    )
    db.commit()
    assert withdrawn.status == "withdrawn"
    assert withdrawn.quote == ""
    assert withdrawn.display_name is None
    assert withdrawn.withdrawn_by == "client"
    assert withdrawn.consent["given_at"] == NOW.isoformat()
    assert withdrawn.consent["wording"] == WORDING
    assert "display_name" not in withdrawn.consent
    assert testimonials.library(db, status="approved") == []
    assert testimonials.quote_view(withdrawn) == {"id": None, "quote": "", "display_name": ""}
    db.expire_all()
    kept, copied = db.get(CaseStudy, other.id), db.get(CaseStudy, story.id)
    assert kept is not None
    assert copied is not None
    assert kept.testimonial_id is None
    assert case_study_view(kept)["quote"] == "Their own words, kept."
    # A case study that carried a copy of the withdrawn words loses them too.
    assert case_study_view(copied)["quote"] == ""
    assert db.scalar(select(Event.type).where(Event.type == "testimonial.withdrawn"))


def test_staff_withdrawal_names_who_asked_and_is_audited(db: Session) -> None:
    t = _approve(db, _requested(db))
    testimonials.withdraw(db, t.id, by="marketer@firm.example", now=NOW, reason="Asked by phone")
    testimonials.withdraw(db, t.id, by="marketer@firm.example", now=NOW)
    db.commit()
    entries = db.scalars(
        select(AuditEntry).where(AuditEntry.action == "testimonial.withdrawn")
    ).all()
    assert len(entries) == 1
    assert entries[0].changes["reason"] == "Asked by phone"
    with pytest.raises(Conflict):
        testimonials.approve(
            db,
            _token(t),
            signer=SIGNER,
            quote=QUOTE,
            attribution="anonymous",
            consent=True,
            now=NOW,
        )


def test_a_hidden_quote_leaves_case_studies_and_comes_back_when_shown(db: Session) -> None:
    t = _approve(db, _requested(db))
    story = make_story(db, "Story", testimonial_quote="Own quote")
    testimonials.attach(db, t.id, story.id, actor="m")
    testimonials.hide(db, t.id, actor="m")
    db.commit()
    assert case_study_view(story)["quote"] == "Own quote"
    assert testimonials.quote_view(t)["quote"] == ""
    testimonials.show(db, t.id, actor="m")
    db.commit()
    assert case_study_view(story)["quote"] == QUOTE


def test_a_requested_testimonial_cannot_go_on_a_case_study(db: Session) -> None:
    t = _requested(db)
    story = make_story(db, "Story")
    with pytest.raises(Conflict):
        testimonials.attach(db, t.id, story.id, actor="m")


def test_form_links_last_sixty_days_from_the_request() -> None:
    t = Quote(id=5, contact_id=7, created_at=datetime(2026, 1, 1, 12, tzinfo=UTC))
    assert testimonials.expires_on(t) == date(2026, 3, 2)
    url = testimonials.form_url(SIGNER, "https://mail.firm.example/", t)
    token = url.removeprefix("https://mail.firm.example/testimonial/")
    ref = SIGNER.verify_testimonial(token, today=date(2026, 3, 2))
    assert (ref.item_id, ref.contact_id) == (5, 7)


def test_the_case_study_step_mails_the_library_quote_until_it_is_withdrawn(
    db: Session, settings: Settings
) -> None:
    t = _approve(db, _requested(db))
    story = make_story(db, "Faster freight", testimonial_quote="Own words.")
    testimonials.attach(db, t.id, story.id, actor="m")
    db.commit()
    reader = make_contact(db)
    config = MailConfig.from_settings(settings)
    context = case_study_context(db, story.id, reader, config)
    assert context is not None
    assert (context["case_study"]["quote"], context["case_study"]["quote_author"]) == (
        QUOTE,
        "Emma Lawson, Harbor Freight Logistics",
    )
    testimonials.withdraw(db, t.id, by="client", now=NOW)
    db.commit()
    context = case_study_context(db, story.id, reader, config)
    assert context is not None
    assert (context["case_study"]["quote"], context["case_study"]["quote_author"]) == (
        "Own words.",
        "",
    )


def test_a_client_whose_latest_answer_is_not_a_promoters_is_not_asked(db: Session) -> None:
    contact = client_contact(db)
    answered_survey(db, contact, score=10, now=NOW - timedelta(days=200))
    answered_survey(db, contact, score=5, now=NOW)
    assert testimonials.testimonial_for(db, contact.id, now=NOW) is None


def test_erasing_the_client_withdraws_their_quote_and_forgets_the_consent_record(
    db: Session,
) -> None:
    t = _approve(db, _requested(db))
    assert t.contact_id is not None
    erase_contact(db, t.contact_id, actor="admin")
    db.commit()
    db.expire_all()
    gone = db.get(Quote, t.id)
    assert gone is not None
    assert (gone.status, gone.quote, gone.display_name, gone.consent) == ("withdrawn", "", None, {})
    assert testimonials.library(db, status="approved") == []


def test_erasing_the_client_forgets_what_they_wrote_in_surveys_but_keeps_the_score(
    db: Session,
) -> None:
    contact = client_contact(db)
    survey = answered_survey(db, contact, score=10, now=NOW)
    survey.follow_up = "Emma Lawson's team at Harbor was superb"
    survey.comment = "Call me on +44 20 7946 0321"
    db.commit()
    erase_contact(db, contact.id, actor="admin")
    db.commit()
    db.expire_all()
    kept = db.get(NpsSurvey, survey.id)
    assert kept is not None
    assert (kept.follow_up, kept.comment, kept.score, kept.category) == (None, None, 10, "promoter")
