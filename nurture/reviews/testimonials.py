"""Testimonials: the request, the client's approval with consent, the library, withdrawal."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from nurture.models import Testimonial
from templates.tokens import TokenSigner

# How long a testimonial form link works after the request was made.
TESTIMONIAL_VALID_DAYS = 60
QUOTE_MIN = 20
QUOTE_MAX = 1000


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
    """Get or create the REQUESTED testimonial for the contact's latest promoter survey."""
    raise NotImplementedError


def form_url(signer: TokenSigner, base_url: str, t: Testimonial) -> str:
    """`<base>/testimonial/<token>`: the client's form for this testimonial."""
    raise NotImplementedError


def form_view(session: Session, token: str, *, signer: TokenSigner, today: date) -> TestimonialForm:
    """The form a token opens (TokenError, NotFound)."""
    raise NotImplementedError


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
    """The client approves `quote` under `attribution` (InvalidInput naming quote,
    attribution or consent). `wording` is the consent text the page showed."""
    raise NotImplementedError


def withdraw(
    session: Session,
    testimonial: int | str,
    *,
    by: str,
    now: datetime,
    signer: TokenSigner | None = None,
    reason: str = "",
) -> Testimonial:
    """Withdraw consent: by id (staff; `by` names who asked) or by the client's token."""
    raise NotImplementedError


def hide(session: Session, testimonial_id: int, *, actor: str) -> Testimonial:
    raise NotImplementedError


def show(session: Session, testimonial_id: int, *, actor: str) -> Testimonial:
    raise NotImplementedError


def library(
    session: Session,
    *,
    service_id: int | None = None,
    industry: str | None = None,
    status: str | None = None,
) -> list[Testimonial]:
    raise NotImplementedError


def quote_view(t: Testimonial) -> dict[str, Any]:
    """{quote, display_name} for templates; empty strings unless approved."""
    raise NotImplementedError
