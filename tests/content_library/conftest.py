"""API keys as request headers, for the content library API tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from tests.factories import make_api_key

Headers = dict[str, str]


@pytest.fixture
def headers_for(db: Session) -> Callable[[str], Headers]:
    """Authorization headers for a new, committed API key of the given role."""

    def make(role: str) -> Headers:
        _, secret = make_api_key(db, role=role)
        db.commit()
        return {"Authorization": f"Bearer {secret}"}

    return make
