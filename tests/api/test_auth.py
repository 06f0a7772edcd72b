"""What a key's role lets it do to contacts and events, and that a refusal changes nothing.

Which caller gets past which guard, on every route, is test_access_matrix.py.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy.orm import Session

from nurture import accounts
from nurture.web.auth import api_key_cache
from tests.api.conftest import Headers
from tests.factories import make_api_key, make_contact


def test_a_key_that_worked_is_refused_once_revoked(
    client: TestClient[Litestar], db: Session
) -> None:
    key, secret = make_api_key(db, role="admin")
    db.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/contacts", headers=headers).status_code == 200

    accounts.revoke_api_key(db, key_id=key.id, actor="test")
    db.commit()
    # A verified key is trusted for API_KEY_CACHE_SECONDS; emptying the cache stands
    # for that time passing.
    api_key_cache.clear()

    assert client.get("/api/v1/contacts", headers=headers).status_code == 401


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
