"""Predictive web tests reuse the API key headers of the API tests."""

from __future__ import annotations

from tests.api.conftest import headers, headers_for  # noqa: F401  (fixtures)
