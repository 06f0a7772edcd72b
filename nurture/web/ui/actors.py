"""Who did something, in words a marketer reads: the audit-style actor strings kept on
versions and audit rows ("user:2", "apikey:3", "cli") as a person's name, an API key's
name or what ran it ("command line")."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.models import ApiKey, User

# Actors that are not a person or a key: what the programme itself calls them.
NAMED = {
    "cli": "command line",
    "demo": "demo data",
    "system": "Nurture (automatic)",
    "qualification": "automatic qualification",
    "broadcast": "a broadcast",
}
UNKNOWN_USER = "a removed user"
UNKNOWN_KEY = "a removed API key"


def _split(actor: str) -> tuple[str, int | None]:
    kind, _, number = actor.partition(":")
    return kind, int(number) if number.isdigit() else None


def actor_names(session: Session, actors: Iterable[str]) -> dict[str, str]:
    """Each distinct actor string -> its plain name (two queries at most, whatever the
    number of actors)."""
    wanted = set(actors)
    ids: dict[str, set[int]] = {"user": set(), "apikey": set()}
    for actor in wanted:
        kind, number = _split(actor)
        if kind in ids and number is not None:
            ids[kind].add(number)
    users: dict[int, str] = {}
    if ids["user"]:
        rows = session.execute(
            select(User.id, User.name, User.email).where(User.id.in_(ids["user"]))
        )
        users = {user_id: name or email for user_id, name, email in rows}
    keys: dict[int, str] = {}
    if ids["apikey"]:
        found = session.execute(select(ApiKey.id, ApiKey.name).where(ApiKey.id.in_(ids["apikey"])))
        keys = {key_id: f"API key “{name}”" for key_id, name in found}
    names: dict[str, str] = {}
    for actor in wanted:
        kind, number = _split(actor)
        if kind == "user" and number is not None:
            names[actor] = users.get(number, UNKNOWN_USER)
        elif kind == "apikey" and number is not None:
            names[actor] = keys.get(number, UNKNOWN_KEY)
        else:
            names[actor] = NAMED.get(actor, actor or "unknown")
    return names
