"""A mailer on the capture mailbox and a marketing template, as the sequence tests have."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from campaigns.delivery.factory import transport_for
from campaigns.email.mailconfig import MailConfig
from campaigns.sequences.engine import Mailer
from nurture.config import Settings
from tests.email.conftest import make_template


@pytest.fixture
def mailer(settings: Settings) -> Mailer:
    return Mailer(transport_for(settings), MailConfig.from_settings(settings))


@pytest.fixture
def template_id(db: Session) -> int:
    return make_template(db)
