"""The editable default survey sequence: completion, survey, reminder, routing by category."""

from __future__ import annotations
