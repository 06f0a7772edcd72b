"""NPS reports in JSON (issue 15)."""

from __future__ import annotations

from typing import Any

HANDLERS: list[Any] = []
