"""Who may be handed leads: active users with the sales role."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.errors import Problem
from nurture.models import Role, User


def active_sales_ids(session: Session, user_ids: Iterable[int]) -> set[int]:
    """Those of `user_ids` that are active sales users."""
    wanted = list(set(user_ids))
    if not wanted:
        return set()
    return set(
        session.scalars(
            select(User.id).where(
                User.id.in_(wanted), User.role == Role.SALES.value, User.is_active.is_(True)
            )
        )
    )


def sales_user_problems(session: Session, fields: Mapping[str, int | None]) -> list[Problem]:
    """A problem for each field naming a user who is not an active sales user (None is fine)."""
    named = {field: uid for field, uid in fields.items() if uid is not None}
    good = active_sales_ids(session, named.values())
    return [
        Problem(field, f"user {uid} is not an active sales user")
        for field, uid in named.items()
        if uid not in good
    ]
