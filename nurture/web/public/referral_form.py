"""The referral page a referred colleague fills in (issue 15)."""

from __future__ import annotations

from typing import Any

handlers: list[Any] = []
