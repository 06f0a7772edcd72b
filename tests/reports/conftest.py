"""API key headers as the API tests make them, and the live server of the browser tests."""

from __future__ import annotations

from tests.api.conftest import headers, headers_for
from tests.browser.conftest import live_server

__all__ = ["headers", "headers_for", "live_server"]
