"""'²' is a digit to str.isdigit() and no number to int(): every id, owner and cursor says so."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy.orm import Session

from tests.api.conftest import Headers
from tests.email.conftest import make_template
from tests.factories import make_contact, make_user
from tests.sequences.helpers import make_sequence
from tests.ui.helpers import HTML, login, post_form

DIGIT = "²"


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/tasks?assignee={DIGIT}",
        f"/api/v1/contacts?cursor={DIGIT}",
        f"/api/v1/case-studies?cursor={DIGIT}",
        f"/api/v1/sequences/{{sequence}}/enrolments?cursor={DIGIT}",
    ],
)
def test_api_queries_with_a_non_ascii_digit_are_refused_naming_the_parameter(
    client: TestClient[Litestar],
    headers_for: Callable[[str], Headers],
    db: Session,
    template_id: int,
    path: str,
) -> None:
    sequence = make_sequence(db, [{"key": "a", "type": "email", "template_id": template_id}])
    answer = client.get(path.format(sequence=sequence), headers=headers_for("admin"))
    assert answer.status_code in (400, 422), answer.text
    fields = [p["field"] for p in answer.json()["error"]["problems"]]
    assert fields, answer.text
    assert fields[0] in ("assignee", "cursor"), answer.text


def test_ui_forms_and_filters_with_a_non_ascii_digit_answer_4xx_not_500(
    client: TestClient[Litestar], db: Session, template_id: int
) -> None:
    contact = make_contact(db)
    user = make_user(db, role="admin")
    sequence = make_sequence(db, [{"key": "a", "type": "email", "template_id": template_id}])
    db.commit()
    login(client, user)

    listing = client.get(f"/contacts?owner={DIGIT}", headers=HTML)
    edited = post_form(client, f"/contacts/{contact.id}/edit", {"owner_id": DIGIT})
    preview = post_form(client, f"/content/{template_id}/preview", {"contact_id": DIGIT})
    sent = post_form(client, f"/content/{template_id}/test-send", {"contact_id": DIGIT})
    mapped = post_form(client, f"/sequences/{sequence}/mapping", {"from_version_id": DIGIT})

    assert listing.status_code == 422
    assert edited.status_code == 422
    assert preview.status_code == 200  # the preview says to pick a contact
    assert "Add a contact first" in preview.text
    assert sent.status_code == 422
    assert 400 <= mapped.status_code < 500


@pytest.fixture
def template_id(db: Session) -> int:
    return make_template(db)
