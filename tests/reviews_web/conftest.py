"""API-key headers for the reviews web tests (the same helpers as the API tests)."""

from __future__ import annotations

from tests.api.conftest import headers, headers_for

__all__ = ["headers", "headers_for"]
