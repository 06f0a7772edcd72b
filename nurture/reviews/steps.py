"""The review e-mail steps and the account-manager assignee, registered with the sequence engine."""

from __future__ import annotations
