"""Segments web tests reuse the API key headers of the API tests and sign-in of the UI tests."""

from __future__ import annotations

from tests.api.conftest import headers, headers_for  # noqa: F401  (fixtures)
