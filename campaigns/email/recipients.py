"""Who a message goes to and the plain data its template sees about them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from campaigns.email import brand
from campaigns.email.mailconfig import MailConfig
from nurture.models import Company, Contact, User
from nurture.sqlsets import among
from templates.context import contact_view, rep_view


@dataclass(frozen=True, slots=True)
class Recipient:
    """One addressee. `contact_id` is None for internal mail to a user."""

    email: str
    name: str | None
    locale: str | None
    context: dict[str, Any]
    contact_id: int | None = None


def load_recipients(
    session: Session, contact_ids: Iterable[int], config: MailConfig
) -> dict[int, Recipient]:
    """Live contacts with an address, by id; erased or address-less ones are left out.

    Plain columns rather than ORM objects: bulk sends load hundreds at a time. The
    brand saved under Settings is read once for them all."""
    ids = list(contact_ids)
    if not ids:
        return {}
    config = brand.with_brand(session, config)
    rows = session.execute(
        select(
            Contact.id,
            Contact.email,
            Contact.first_name,
            Contact.last_name,
            Contact.title,
            Contact.locale,
            Contact.time_zone,
            Contact.attributes,
            Company.name,
            Company.industry,
            User.name,
            User.email,
            User.is_active,
        )
        .outerjoin(Company, Company.id == Contact.company_id)
        .outerjoin(User, User.id == Contact.owner_id)
        .where(
            among(session, Contact.id, ids, integers=True),
            Contact.erased_at.is_(None),
            Contact.email.is_not(None),
        )
    )
    default_rep = _default_rep(config)
    found: dict[int, Recipient] = {}
    for (
        cid,
        email,
        first,
        last,
        title,
        locale,
        time_zone,
        attrs,
        company,
        industry,
        rep,
        rep_email,
        active,
    ) in rows:
        rep_value = (
            rep_view(name=rep or rep_email, email=rep_email)
            if rep_email is not None and active
            else default_rep
        )
        found[cid] = _recipient(
            cid,
            email,
            first,
            last,
            title,
            locale,
            attrs,
            company,
            industry,
            rep_value,
            config,
            time_zone=time_zone,
        )
    return found


def contact_recipient(contact: Contact, config: MailConfig) -> Recipient:
    """The recipient for a contact row (its company and owner loaded), with the brand
    saved under Settings (read through the row's session)."""
    if contact.email is None:
        raise RuntimeError("contact.email is None, but only contacts with an address are mailed")
    session = object_session(contact)
    if session is not None:
        config = brand.with_brand(session, config)
    company = contact.company
    owner = contact.owner
    if owner is not None and owner.is_active:
        rep = rep_view(name=owner.name or owner.email, email=owner.email)
    else:
        rep = _default_rep(config)
    return _recipient(
        contact.id,
        contact.email,
        contact.first_name,
        contact.last_name,
        contact.title,
        contact.locale,
        contact.attributes,
        company.name if company else None,
        company.industry if company else None,
        rep,
        config,
        time_zone=contact.time_zone,
    )


def _default_rep(config: MailConfig) -> dict[str, Any]:
    return rep_view(
        name=config.sender.name or str(config.brand.get("name") or ""), email=config.sender.email
    )


def _recipient(
    contact_id: int,
    email: str,
    first_name: str | None,
    last_name: str | None,
    title: str | None,
    locale: str | None,
    attributes: dict[str, Any] | None,
    company_name: str | None,
    industry: str | None,
    rep: dict[str, Any],
    config: MailConfig,
    *,
    time_zone: str | None = None,
) -> Recipient:
    context: dict[str, Any] = {
        "contact": contact_view(
            email=email,
            first_name=first_name,
            last_name=last_name,
            title=title,
            company_name=company_name,
            company_industry=industry,
            attributes=attributes,
            time_zone=time_zone,
        ),
        "rep": rep,
        "brand": config.brand,
    }
    name = " ".join(p for p in (first_name, last_name) if p)
    return Recipient(email, name or None, locale, context, contact_id)
