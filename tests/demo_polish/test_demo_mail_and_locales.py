"""The demo's contacts read the languages the starter templates are written in, and the
mail its sequences send signs and closes cleanly."""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from email.message import EmailMessage

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.config import Settings
from nurture.demo.content import seed_demo_content
from nurture.demo.data import COUNTRIES
from nurture.demo.loader import load_demo
from nurture.demo.sequences import demo_mailer, seed_demo_sequences
from nurture.models import CapturedEmail, Contact
from templates.library import LOCALES

SMALL = 0.04


def test_every_demo_country_is_written_to_in_a_language_the_templates_have() -> None:
    assert {country.locale for country in COUNTRIES} == set(LOCALES)


def test_demo_contacts_have_english_or_russian_locales(db: Session) -> None:
    load_demo(db, scale=SMALL)

    locales = set(db.scalars(select(Contact.locale).distinct()))
    assert locales <= set(LOCALES)
    assert "en" in locales


def _text(raw: bytes) -> str:
    message = message_from_bytes(raw, policy=policy.SMTP)
    assert isinstance(message, EmailMessage)
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def test_demo_mail_signs_with_the_reps_name_and_ends_without_a_dangling_dot(
    db: Session, settings: Settings
) -> None:
    load_demo(db, scale=SMALL)
    seed_demo_content(db)
    seed_demo_sequences(db, mailer=demo_mailer(settings))

    texts = [_text(raw) for raw in db.scalars(select(CapturedEmail.raw))]
    assert texts
    for text in texts:
        assert not re.search(r"^\s*,", text, re.MULTILINE), text  # "Sam Sales / , Nurture"
        assert not re.search(r"·\s*$", text, re.MULTILINE), text  # "Nurture ·"
        assert "None" not in text.split()
