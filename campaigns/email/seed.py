"""Loading the starter library into the database (`nurture demo`, first run)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.email.store import VariantInput, create_template
from nurture.models import EmailTemplate
from templates.library import starter_templates


def seed_starter_library(session: Session, *, actor: str = "system") -> list[EmailTemplate]:
    """Create a template for each starter template not loaded yet; answers the new ones.

    Idempotent (templates remember their starter name); the caller commits. A name
    already used by another template gets " (starter)" appended.
    """
    have = set(session.scalars(select(EmailTemplate.starter_name)))
    names = set(session.scalars(select(EmailTemplate.name)))
    created: list[EmailTemplate] = []
    for starter in starter_templates():
        if starter.name in have:
            continue
        english = starter.variants["en"]
        name = english.title if english.title not in names else f"{english.title} (starter)"
        created.append(
            create_template(
                session,
                name=name,
                description=english.description,
                kind=starter.kind,
                topic=starter.topic,
                starter_name=starter.name,
                actor=actor,
                variants={
                    locale: VariantInput(v.subject, v.body, v.preheader)
                    for locale, v in starter.variants.items()
                },
                sample_context={
                    locale: v.sample_context() for locale, v in starter.variants.items()
                },
            )
        )
        names.add(name)
    return created
