"""Scoring web tests use the browser tests' live server (Granian on loopback)."""

from __future__ import annotations

from tests.browser.conftest import live_server  # noqa: F401  (fixture)
