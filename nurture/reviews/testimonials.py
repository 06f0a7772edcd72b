"""Testimonials: the request, the client's approval with consent, the library, withdrawal.

A promoter's survey gets at most one testimonial (unique per survey). It starts as
`requested` with a draft made of their own survey words; the client edits and approves
it on the public form, choosing how they are named, and that approval is the consent:
what they were shown, what they chose, when, in which language. The signature
(`display_name`) is fixed at approval, so a later change of job or company does not
rewrite what the client agreed to.

Withdrawal empties the words and the signature and keeps who asked and when; it takes
the quote off every case study that used it. A withdrawn or hidden testimonial is
never shown: `quote_view` and the case study context read the status, not only the row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from nurture import audit
from nurture.errors import Conflict, InvalidInput, NotFound, Problem
from nurture.events import EventInput, ingest
from nurture.models import (
    Attribution,
    CaseStudy,
    Company,
    Contact,
    Event,
    NpsCategory,
    NpsSurvey,
    Project,
    Testimonial,
    TestimonialStatus,
)
from nurture.validation import holds_nul
from templates.tokens import TokenForged, TokenSigner

# How long a testimonial form link works after the request was made.
TESTIMONIAL_VALID_DAYS = 60
QUOTE_MIN = 20
QUOTE_MAX = 1000
MAX_WORDING = 2000
MAX_LIBRARY = 500
_SHOWN = (TestimonialStatus.APPROVED.value,)
_LOCALES = ("en", "ru")

# The consent text recorded when the page does not pass the wording it showed.
DEFAULT_WORDING = {
    "en": (
        "I agree that the firm may publish this quote, signed as I chose above, on its "
        "website and in its marketing. I can withdraw this consent at any time."
    ),
    "ru": (
        "Я согласен(на), что компания может публиковать этот отзыв с выбранной выше "  # noqa: RUF001
        "подписью на своём сайте и в маркетинговых материалах. Я могу отозвать согласие "
        "в любой момент."
    ),
}


@dataclass(frozen=True, slots=True)
class TestimonialForm:
    """What the public testimonial page shows (nothing the client did not give us)."""

    testimonial_id: int
    status: str  # requested | approved | hidden | withdrawn
    locale: str
    first_name: str
    quote: str  # the draft, or the approved words
    attribution: str | None
    # How the quote would be signed under each attribution, for the choice on the form.
    signatures: Mapping[str, str]
    project_name: str | None
    approved_at: datetime | None


def testimonial_for(session: Session, contact_id: int, *, now: datetime) -> Testimonial | None:
    """Get or create the REQUESTED testimonial for the contact's latest promoter survey.

    None when the contact's latest answered survey is not a promoter's, or when its testimonial is
    already approved, hidden or withdrawn (there is nothing left to ask for).
    """
    # The latest answer decides: a client whose newest score is not a promoter's is not
    # asked, whatever they said about an earlier project.
    survey = session.scalar(
        select(NpsSurvey)
        .where(NpsSurvey.contact_id == contact_id, NpsSurvey.answered_at.is_not(None))
        .order_by(NpsSurvey.answered_at.desc(), NpsSurvey.id.desc())
        .limit(1)
    )
    if survey is None or survey.category != NpsCategory.PROMOTER.value:
        return None
    found = _of_survey(session, survey.id)
    if found is None:
        found = _create(session, survey, now)
    return found if found.status == TestimonialStatus.REQUESTED.value else None


def form_url(signer: TokenSigner, base_url: str, t: Testimonial) -> str:
    """`<base>/testimonial/<token>`: the client's form for this testimonial."""
    if t.contact_id is None:
        raise NotFound("contact", None)
    token = signer.testimonial(t.id, t.contact_id, expires_on(t))
    return f"{base_url.rstrip('/')}/testimonial/{token}"


def expires_on(t: Testimonial) -> date:
    """The last day the form link works."""
    return (t.created_at + timedelta(days=TESTIMONIAL_VALID_DAYS)).date()


def form_view(session: Session, token: str, *, signer: TokenSigner, today: date) -> TestimonialForm:
    """The form a token opens (TokenError, NotFound)."""
    t, contact = _by_token(session, signer, token, today=today)
    project = session.get(Project, t.project_id) if t.project_id is not None else None
    locale = locale_of(contact)
    return TestimonialForm(
        testimonial_id=t.id,
        status=t.status,
        locale=locale,
        first_name=contact.first_name or "",
        quote=t.quote,
        attribution=t.attribution,
        signatures={a.value: signature(session, contact, a, locale) for a in Attribution},
        project_name=project.name if project is not None else None,
        approved_at=t.approved_at,
    )


def approve(
    session: Session,
    token: str,
    *,
    signer: TokenSigner,
    quote: str,
    attribution: str,
    consent: bool,
    now: datetime,
    wording: str | None = None,
    locale: str | None = None,
) -> Testimonial:
    """The client approves `quote` under `attribution`; the caller commits.

    InvalidInput naming quote (20 to 1000 characters), attribution, consent (must be
    given) or wording; TokenError for a bad link; Conflict once consent was withdrawn.
    `wording` is the consent text the page showed, `locale` the page's language; both
    are kept in the consent record. Approving the same words and signature again
    changes nothing.
    """
    t, contact = _by_token(session, signer, token, today=now.date())
    text = check_approval(quote=quote, attribution=attribution, consent=consent, wording=wording)
    if t.status == TestimonialStatus.WITHDRAWN.value:
        raise Conflict("consent for this testimonial was withdrawn")
    shown_in = locale if locale in _LOCALES else locale_of(contact)
    name = signature(session, contact, Attribution(attribution), shown_in)
    if t.status != TestimonialStatus.REQUESTED.value and (
        t.quote == text and t.attribution == attribution and t.display_name == name
    ):
        return t
    t.quote = text
    t.attribution = attribution
    t.display_name = name
    t.approved_at = now
    t.consent = {
        "wording": wording if wording is not None else DEFAULT_WORDING[shown_in],
        "attribution": attribution,
        "display_name": name,
        "given_at": now.isoformat(),
        "locale": shown_in,
    }
    if t.status == TestimonialStatus.REQUESTED.value:
        t.status = TestimonialStatus.APPROVED.value
    session.flush()
    _event(session, t, "testimonial.approved", f"{int(now.timestamp() * 1000)}", now)
    return t


def check_approval(*, quote: str, attribution: str, consent: bool, wording: str | None) -> str:
    """The quote as it will be kept; InvalidInput naming every field that is wrong."""
    problems: list[Problem] = []
    text = quote.strip() if isinstance(quote, str) else ""
    if not isinstance(quote, str) or holds_nul(quote):
        problems.append(Problem("quote", "must be text"))
    elif len(text) < QUOTE_MIN:
        problems.append(Problem("quote", f"must be at least {QUOTE_MIN} characters"))
    elif len(text) > QUOTE_MAX:
        problems.append(Problem("quote", f"must be at most {QUOTE_MAX} characters"))
    if attribution not in {a.value for a in Attribution}:
        choices = ", ".join(a.value for a in Attribution)
        problems.append(Problem("attribution", f"must be one of {choices}"))
    if consent is not True:
        problems.append(Problem("consent", "must be given to publish the quote"))
    if wording is not None and (len(wording) > MAX_WORDING or holds_nul(wording)):
        problems.append(Problem("wording", f"must be text of at most {MAX_WORDING} characters"))
    if problems:
        raise InvalidInput(problems)
    return text


def withdraw(
    session: Session,
    testimonial: int | str,
    *,
    by: str,
    now: datetime,
    signer: TokenSigner | None = None,
    reason: str = "",
    actor: str | None = None,
) -> Testimonial:
    """Withdraw consent; the caller commits. By id (staff: `by` names who asked, `actor`
    who recorded it for the audit log) or by
    the client's form token (which then needs `signer`; an expired link still
    withdraws, since consent can be taken back at any time). Idempotent.

    The words and signature are emptied, the case studies that used the quote lose
    it (their own quote too when it was a copy of these words), and a
    `testimonial.withdrawn` event is written on the client.
    """
    by = by.strip()
    if not by or len(by) > 200 or holds_nul(by):
        raise InvalidInput.single("by", "must name who asked, in at most 200 characters")
    if len(reason) > 500 or holds_nul(reason):
        raise InvalidInput.single("reason", "must be text of at most 500 characters")
    if isinstance(testimonial, str):
        if signer is None:
            raise ValueError("a token needs the signer that made it")
        t, _ = _by_token(session, signer, testimonial, today=date.min)
    else:
        t = _get(session, testimonial)
    if t.status == TestimonialStatus.WITHDRAWN.value:
        return t
    old_quote = t.quote
    previous = t.status
    t.status = TestimonialStatus.WITHDRAWN.value
    t.quote = ""
    t.display_name = None
    t.withdrawn_at = now
    t.withdrawn_by = by
    # The consent record keeps what was agreed and when, but not the signature: it
    # names the person, and their words and name are what they took back.
    kept = {k: v for k, v in (t.consent or {}).items() if k != "display_name"}
    t.consent = {
        **kept,
        "withdrawn_at": now.isoformat(),
        "withdrawn_by": by,
        "reason": reason,
    }
    session.execute(
        update(CaseStudy).where(CaseStudy.testimonial_id == t.id).values(testimonial_id=None)
    )
    if old_quote:
        session.execute(
            update(CaseStudy)
            .where(CaseStudy.testimonial_quote == old_quote)
            .values(testimonial_quote=None, testimonial_author=None)
        )
    audit.record(
        session,
        actor=(actor or by)[:200],
        action="testimonial.withdrawn",
        entity_type="testimonial",
        entity_id=t.id,
        changes={"status": [previous, t.status], "by": by, "reason": reason},
    )
    session.flush()
    _event(session, t, "testimonial.withdrawn", "", now)
    return t


def withdrawn_event_id(session: Session, testimonial_id: int) -> int | None:
    """The stored `testimonial.withdrawn` event, for handing to the event workers."""
    key = f"testimonial.withdrawn:{testimonial_id}"
    return session.scalar(select(Event.id).where(Event.idempotency_key == key))


def hide(session: Session, testimonial_id: int, *, actor: str) -> Testimonial:
    """Keep an approved quote out of use (Conflict unless approved)."""
    return _move(
        session, testimonial_id, TestimonialStatus.APPROVED, TestimonialStatus.HIDDEN, actor
    )


def show(session: Session, testimonial_id: int, *, actor: str) -> Testimonial:
    """Put a hidden quote back in use (Conflict unless hidden)."""
    return _move(
        session, testimonial_id, TestimonialStatus.HIDDEN, TestimonialStatus.APPROVED, actor
    )


def attach(session: Session, testimonial_id: int, case_study_id: int, *, actor: str) -> CaseStudy:
    """Show this approved quote on a case study instead of its own (Conflict unless approved)."""
    t = _get(session, testimonial_id)
    if t.status != TestimonialStatus.APPROVED.value:
        raise Conflict("only an approved testimonial can go on a case study")
    story = session.get(CaseStudy, case_study_id)
    if story is None:
        raise NotFound("case study", case_study_id)
    before = story.testimonial_id
    story.testimonial_id = t.id
    audit.record(
        session,
        actor=actor,
        action="case_study.testimonial",
        entity_type="case_study",
        entity_id=story.id,
        changes={"testimonial_id": [before, t.id]},
    )
    session.flush()
    return story


def library(
    session: Session,
    *,
    service_id: int | None = None,
    industry: str | None = None,
    status: str | None = None,
) -> list[Testimonial]:
    """Testimonials newest first; `status` None lists all but the still-requested ones."""
    if industry and holds_nul(industry):
        return []  # no industry holds a NUL (and PostgreSQL refuses one in a string)
    query = select(Testimonial)
    if status is None:
        query = query.where(Testimonial.status != TestimonialStatus.REQUESTED.value)
    else:
        query = query.where(Testimonial.status == status)
    if service_id is not None:
        query = query.where(Testimonial.service_id == service_id)
    if industry:
        query = query.where(Testimonial.industry == industry)
    order = (Testimonial.approved_at.desc().nulls_last(), Testimonial.id.desc())
    return list(session.scalars(query.order_by(*order).limit(MAX_LIBRARY)))


def case_studies_using(session: Session, testimonial_id: int) -> list[CaseStudy]:
    return list(
        session.scalars(
            select(CaseStudy)
            .where(CaseStudy.testimonial_id == testimonial_id)
            .order_by(CaseStudy.id)
        )
    )


def quote_view(t: Testimonial | None) -> dict[str, Any]:
    """{id, quote, display_name} for templates; empty unless approved now."""
    if t is None or t.status not in _SHOWN:
        return {"id": None, "quote": "", "display_name": ""}
    return {"id": t.id, "quote": t.quote, "display_name": t.display_name or ""}


def signature(session: Session, contact: Contact, attribution: Attribution, locale: str) -> str:
    """How a quote is signed: "Emma Lawson, Harbor Freight Logistics" (name_company),
    "Head of Operations, a logistics company" (title_only), "A client in logistics"
    (anonymous). Missing parts fall back to the next more discreet form."""
    company = session.get(Company, contact.company_id) if contact.company_id is not None else None
    industry = (company.industry or "").strip() if company is not None else ""
    russian = locale == "ru"
    if attribution is Attribution.NAME_COMPANY and contact.full_name:
        if company is not None and company.name:
            return f"{contact.full_name}, {company.name}"
        return contact.full_name
    if attribution in (Attribution.NAME_COMPANY, Attribution.TITLE_ONLY) and contact.title:
        if not industry:
            return contact.title
        if russian:
            return f"{contact.title}, компания из отрасли «{industry}»"
        article = "an" if industry[:1].lower() in "aeiou" else "a"
        return f"{contact.title}, {article} {industry.lower()} company"
    if russian:
        return f"Клиент из отрасли «{industry}»" if industry else "Клиент"
    return f"A client in {industry.lower()}" if industry else "A client"


def locale_of(contact: Contact) -> str:
    code = (contact.locale or "").lower()[:2]
    return code if code in _LOCALES else "en"


def _by_token(
    session: Session, signer: TokenSigner, token: str, *, today: date
) -> tuple[Testimonial, Contact]:
    ref = signer.verify_testimonial(token, today=today)
    t = session.get(Testimonial, ref.item_id)
    if t is None:
        raise NotFound("testimonial", ref.item_id)
    if t.contact_id != ref.contact_id:
        raise TokenForged("this link is not for this testimonial")
    contact = session.get(Contact, ref.contact_id)
    if contact is None or contact.erased_at is not None:
        raise NotFound("contact", ref.contact_id)
    return t, contact


def _get(session: Session, testimonial_id: int) -> Testimonial:
    t = session.get(Testimonial, testimonial_id)
    if t is None:
        raise NotFound("testimonial", testimonial_id)
    return t


def _of_survey(session: Session, survey_id: int) -> Testimonial | None:
    return session.scalar(select(Testimonial).where(Testimonial.survey_id == survey_id))


def _create(session: Session, survey: NpsSurvey, now: datetime) -> Testimonial:
    contact = session.get(Contact, survey.contact_id)
    company = (
        session.get(Company, contact.company_id)
        if contact is not None and contact.company_id is not None
        else None
    )
    row = Testimonial(
        survey_id=survey.id,
        contact_id=survey.contact_id,
        project_id=survey.project_id,
        service_id=survey.service_id,
        industry=company.industry if company is not None else None,
        status=TestimonialStatus.REQUESTED.value,
        quote=_draft(survey),
        consent={},
        created_at=now,
    )
    try:
        # Two steps racing for the same survey: the unique survey id keeps one row.
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        found = _of_survey(session, survey.id)
        if found is None:
            raise
        return found
    return row


def _draft(survey: NpsSurvey) -> str:
    """The client's own survey words, as the starting point of their quote."""
    parts = [p.strip() for p in (survey.follow_up, survey.comment) if p and p.strip()]
    return "\n\n".join(parts)[:QUOTE_MAX]


def _move(
    session: Session,
    testimonial_id: int,
    source: TestimonialStatus,
    target: TestimonialStatus,
    actor: str,
) -> Testimonial:
    t = _get(session, testimonial_id)
    if t.status == target.value:
        return t
    if t.status != source.value:
        raise Conflict(f"a {t.status} testimonial cannot be made {target.value}")
    t.status = target.value
    audit.record(
        session,
        actor=actor,
        action=f"testimonial.{target.value}",
        entity_type="testimonial",
        entity_id=t.id,
        changes={"status": [source.value, target.value]},
    )
    session.flush()
    return t


def _event(session: Session, t: Testimonial, kind: str, suffix: str, now: datetime) -> None:
    if t.contact_id is None:
        return
    key = f"{kind}:{t.id}" + (f":{suffix}" if suffix else "")
    item = EventInput(kind, now, {"testimonial_id": t.id}, key, contact_id=t.contact_id)
    ingest(session, [(0, item)], source="reviews")
