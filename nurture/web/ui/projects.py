"""Reviews > Projects: the projects the project tool reported (issue 15)."""

from __future__ import annotations

from typing import Any

handlers: list[Any] = []
