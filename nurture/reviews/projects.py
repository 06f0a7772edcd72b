"""Projects reported by the firm's project tool, and `project.completed` (issue 15)."""

from __future__ import annotations
