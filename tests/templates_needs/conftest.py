"""Fixtures: the web e-mail ones (the app sending through a real SMTP server on loopback),
the starter library loaded, and the review e-mail kinds registered."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from campaigns.email.seed import seed_starter_library
from nurture.reviews import steps as review_steps
from tests.web_email.conftest import behaviour, contact, sendgrid_key, settings, smtp

__all__ = ["behaviour", "contact", "sendgrid_key", "settings", "smtp"]


@pytest.fixture
def starters(db: Session) -> dict[str, int]:
    """The starter library, loaded: starter name -> template id."""
    review_steps.register()
    made = seed_starter_library(db, actor="test")
    db.commit()
    return {t.starter_name or "": t.id for t in made}
