"""NPS from counts, with its confidence interval (pure arithmetic)."""

from __future__ import annotations
