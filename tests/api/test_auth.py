"""Who may call the API: a valid key is required, and only some roles may erase."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy.orm import Session

from nurture import accounts
from tests.api.conftest import Headers
from tests.factories import make_api_key, make_contact

ENDPOINTS = [
    ("GET", "/api/v1/contacts"),
    ("POST", "/api/v1/contacts"),
    ("GET", "/api/v1/contacts/1"),
    ("PATCH", "/api/v1/contacts/1"),
    ("DELETE", "/api/v1/contacts/1"),
    ("GET", "/api/v1/contacts/1/timeline"),
    ("POST", "/api/v1/events"),
]


def test_every_endpoint_answers_401_without_a_valid_key(client: TestClient[Litestar]) -> None:
    wrong = ["", "Bearer not-a-real-key", "Basic dXNlcjpwYXNz", "Bearer ", "nurture_abc"]
    for method, path in ENDPOINTS:
        for authorization in wrong:
            answer = client.request(
                method, path, content=b"{}", headers={"Authorization": authorization}
            )
            assert answer.status_code == 401, (method, path, authorization)
            assert "Bearer" in answer.json()["error"]["message"]


def test_a_revoked_key_is_refused(client: TestClient[Litestar], db: Session) -> None:
    key, secret = make_api_key(db, role="admin")
    accounts.revoke_api_key(db, key_id=key.id, actor="test")
    db.commit()
    answer = client.get("/api/v1/contacts", headers={"Authorization": f"Bearer {secret}"})
    assert answer.status_code == 401


@pytest.mark.parametrize("role", ["admin", "marketer", "sales"])
def test_every_role_may_read_write_and_post_events(
    client: TestClient[Litestar], headers_for: Callable[[str], Headers], role: str
) -> None:
    headers = headers_for(role)
    created = client.post("/api/v1/contacts", json={"email": "ada@example.com"}, headers=headers)
    assert created.status_code == 201
    contact_id = created.json()["id"]
    assert client.get(f"/api/v1/contacts/{contact_id}", headers=headers).status_code == 200
    changed = client.patch(
        f"/api/v1/contacts/{contact_id}", json={"title": "Partner"}, headers=headers
    )
    assert changed.status_code == 200
    posted = client.post(
        "/api/v1/events", json={"type": "page.visited", "contact_id": contact_id}, headers=headers
    )
    assert posted.status_code == 202


def test_sales_may_not_erase_a_contact(
    client: TestClient[Litestar], db: Session, headers_for: Callable[[str], Headers]
) -> None:
    contact = make_contact(db)
    db.commit()
    answer = client.delete(f"/api/v1/contacts/{contact.id}", headers=headers_for("sales"))
    assert answer.status_code == 403
    assert "sales" in answer.json()["error"]["message"]
    assert (
        client.get(f"/api/v1/contacts/{contact.id}", headers=headers_for("sales")).json()["email"]
        == contact.email
    )


@pytest.mark.parametrize("role", ["admin", "marketer"])
def test_admins_and_marketers_may_erase(
    client: TestClient[Litestar], db: Session, headers_for: Callable[[str], Headers], role: str
) -> None:
    contact = make_contact(db)
    db.commit()
    answer = client.delete(f"/api/v1/contacts/{contact.id}", headers=headers_for(role))
    assert answer.status_code == 204
