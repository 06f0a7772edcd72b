"""What the template editor posts, and signing in to post it."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy.orm import Session

from tests.factories import make_user
from tests.ui.helpers import login

Client = TestClient[Litestar]


def editor_form(
    body: str, *, name: str = "Guide", subject: str = "Hi {{ contact.first_name }}"
) -> dict[str, str]:
    """The editor's fields with an English variant only."""
    return {
        "name": name,
        "subject__en": subject,
        "preheader__en": "",
        "body__en": body,
        "text_body__en": "",
        "subject__ru": "",
        "preheader__ru": "",
        "body__ru": "",
        "text_body__ru": "",
    }


def sign_in(client: Client, db: Session, role: str, email: str | None = None) -> None:
    user = make_user(db, role=role, email=email)
    db.commit()
    login(client, user)
