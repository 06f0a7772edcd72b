"""Helpers for API tests: API keys as request headers."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from tests.factories import make_api_key

Headers = dict[str, str]


@pytest.fixture
def headers_for(db: Session) -> Callable[[str], Headers]:
    """Authorization headers for a new API key of the given role (committed, so the app sees it)."""

    def make(role: str) -> Headers:
        _, secret = make_api_key(db, role=role)
        db.commit()
        return {"Authorization": f"Bearer {secret}"}

    return make


@pytest.fixture
def headers(headers_for: Callable[[str], Headers]) -> Headers:
    """A marketer's API key."""
    return headers_for("marketer")
