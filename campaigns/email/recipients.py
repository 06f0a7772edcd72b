"""Who a message goes to and the plain data its template sees about them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from campaigns.email.mailconfig import MailConfig
from nurture.models import Contact
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
    """Live contacts with an address, by id; erased or address-less ones are left out."""
    ids = list(contact_ids)
    if not ids:
        return {}
    contacts = session.scalars(
        select(Contact)
        .options(joinedload(Contact.company), joinedload(Contact.owner))
        .where(Contact.id.in_(ids), Contact.erased_at.is_(None), Contact.email.is_not(None))
    ).unique()
    return {c.id: contact_recipient(c, config) for c in contacts}


def contact_recipient(contact: Contact, config: MailConfig) -> Recipient:
    """The recipient for a contact row (its company and owner loaded)."""
    assert contact.email is not None
    company = contact.company
    owner = contact.owner
    if owner is not None and owner.is_active:
        rep = rep_view(name=owner.name or owner.email, email=owner.email)
    else:
        rep = rep_view(
            name=config.sender.name or str(config.brand.get("name") or ""),
            email=config.sender.email,
        )
    context: dict[str, Any] = {
        "contact": contact_view(
            email=contact.email,
            first_name=contact.first_name,
            last_name=contact.last_name,
            title=contact.title,
            company_name=company.name if company else None,
            company_industry=company.industry if company else None,
            attributes=contact.attributes,
        ),
        "rep": rep,
        "brand": config.brand,
    }
    return Recipient(
        email=contact.email,
        name=contact.full_name or None,
        locale=contact.locale,
        context=context,
        contact_id=contact.id,
    )
