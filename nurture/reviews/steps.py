"""The review e-mail steps and the account-manager assignee, registered with the sequence engine."""

from __future__ import annotations


def register() -> None:
    """Register the four `review_email:<ask>` kinds and the `account_manager` assignee."""
    raise NotImplementedError
