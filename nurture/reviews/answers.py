"""Recording a score from a survey link (once, changes logged) and the follow-up answer."""

from __future__ import annotations
