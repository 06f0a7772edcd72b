"""Experiment web tests use the browser tests' live server (Granian on loopback) and the
API tests' key headers."""

from __future__ import annotations

from tests.api.conftest import headers, headers_for  # noqa: F401  (fixtures)
from tests.browser.conftest import live_server  # noqa: F401  (fixture)
