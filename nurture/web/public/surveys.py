"""The NPS answer pages clients reach from the survey e-mail (issue 15)."""

from __future__ import annotations

from typing import Any

handlers: list[Any] = []
