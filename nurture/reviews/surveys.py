"""A client's NPS survey for a finished project: made once, its signed links, the 90-day rule."""

from __future__ import annotations
