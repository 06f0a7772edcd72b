"""Fixtures for sequence tests: a mailer on the capture mailbox and a marketing template."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from dramatiq.brokers.stub import StubBroker
from sqlalchemy.orm import Session

from campaigns.delivery.factory import transport_for
from campaigns.email.mailconfig import MailConfig
from campaigns.sequences.engine import Mailer
from nurture.config import Settings
from tests.email.conftest import make_template
from tests.stub_worker import stub_worker


@pytest.fixture
def mailer(settings: Settings) -> Mailer:
    return Mailer(transport_for(settings), MailConfig.from_settings(settings))


@pytest.fixture
def template_id(db: Session) -> int:
    return make_template(db)


@pytest.fixture
def worker(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[StubBroker]:
    with stub_worker(settings, monkeypatch) as stub:
        yield stub
