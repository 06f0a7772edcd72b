"""The testimonial form a promoter approves (issue 15)."""

from __future__ import annotations

from typing import Any

handlers: list[Any] = []
