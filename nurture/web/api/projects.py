"""`POST /api/v1/projects` and reading projects (issue 15)."""

from __future__ import annotations

from typing import Any

HANDLERS: list[Any] = []
