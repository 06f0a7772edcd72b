"""Fixtures shared with the API tests."""

from tests.api.conftest import headers_for  # noqa: F401  (fixture)
