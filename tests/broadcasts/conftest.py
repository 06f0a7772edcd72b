"""Fixtures for broadcast tests: a marketing template and an SMTP server on loopback."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.email.conftest import make_template, smtp  # noqa: F401  (the fixture, shared)


@pytest.fixture
def template_id(db: Session) -> int:
    return make_template(db)
