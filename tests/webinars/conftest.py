"""Fixtures for webinar tests: a mailer on a real loopback SMTP server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from campaigns.sequences.engine import Mailer
from nurture.config import Settings
from tests.email.smtpd import Behaviour
from tests.sequences.conftest import mailer, template_id
from tests.webinars.helpers import sink_mailer

__all__ = ["mailer", "template_id"]


@pytest.fixture
def sink(settings: Settings) -> Iterator[tuple[Mailer, Behaviour]]:
    with sink_mailer(settings) as pair:
        yield pair
