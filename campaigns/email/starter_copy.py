"""A new template made from one starter template, for a marketer who wants a starting point
rather than a blank page ("New template" on the Content page)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.email.store import MAX_NAME, VariantInput, create_template
from nurture.models import EmailTemplate
from templates.library import starter_template


def unique_name(session: Session, wanted: str) -> str:
    """`wanted` if no template has that name yet, else the first free "wanted (2)", "(3)"..."""
    taken = set(
        session.scalars(
            select(EmailTemplate.name).where(EmailTemplate.name.startswith(wanted, autoescape=True))
        )
    )
    if wanted not in taken:
        return wanted
    n = 2
    while f"{wanted} ({n})" in taken:
        n += 1
    return f"{wanted} ({n})"


def create_from_starter(session: Session, *, starter: str, actor: str) -> EmailTemplate:
    """A new template with every language of the starter called `starter` as its first
    version, named after the starter's English title (made unique). The caller commits.

    The template remembers its starter only while no other template does (the column is
    unique: it is how the starter library knows what is loaded already), so loading the
    library afterwards does not add a second copy of it. NotFound for an unknown starter.
    """
    source = starter_template(starter)
    english = source.variants["en"]
    remembered = session.scalar(
        select(EmailTemplate.id).where(EmailTemplate.starter_name == source.name)
    )
    return create_template(
        session,
        name=unique_name(session, english.title[: MAX_NAME - 10]),
        description=english.description,
        kind=source.kind,
        topic=source.topic,
        starter_name=source.name if remembered is None else None,
        actor=actor,
        variants={
            locale: VariantInput(v.subject, v.body, v.preheader)
            for locale, v in source.variants.items()
        },
        sample_context={locale: v.sample_context() for locale, v in source.variants.items()},
    )
