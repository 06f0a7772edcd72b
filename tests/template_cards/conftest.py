"""The cards' tests run on SQLite only: what they test (words copied from the library, a
date shown per reader, a signed link) does not depend on the database."""

from __future__ import annotations

import pytest


@pytest.fixture
def db_url(sqlite_db_url: str) -> str:
    return sqlite_db_url
