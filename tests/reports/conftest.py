"""API key headers, as the API tests make them."""

from __future__ import annotations

from tests.api.conftest import headers, headers_for

__all__ = ["headers", "headers_for"]
