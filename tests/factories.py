"""Small builders for test data: real rows through the domain functions."""

from __future__ import annotations

from itertools import count

from sqlalchemy.orm import Session

from nurture import accounts
from nurture.contacts import upsert_contact
from nurture.models import ApiKey, Contact, User

_seq = count(1)
PASSWORD = "correct horse battery"


def make_user(db: Session, *, role: str = "marketer", email: str | None = None) -> User:
    n = next(_seq)
    return accounts.create_user(
        db,
        email=email or f"user{n}@nurture.test",
        password=PASSWORD,
        role=role,
        name=f"User {n}",
        actor="test",
    )


def make_api_key(db: Session, *, role: str = "marketer") -> tuple[ApiKey, str]:
    return accounts.create_api_key(db, name=f"key {next(_seq)}", role=role, actor="test")


def make_contact(db: Session, **fields: object) -> Contact:
    n = next(_seq)
    data: dict[str, object] = {"email": f"person{n}@example.com", "first_name": f"Person{n}"}
    data.update(fields)
    contact, _ = upsert_contact(db, data, actor="test")
    return contact
