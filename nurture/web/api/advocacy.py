"""Testimonials and referrals in the API (issue 15)."""

from __future__ import annotations

from typing import Any

HANDLERS: list[Any] = []
