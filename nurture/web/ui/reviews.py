"""The Reviews page: NPS by service, team member, industry and period (issue 15)."""

from __future__ import annotations

from typing import Any

handlers: list[Any] = []
