"""Rendering budgets through the editor: preview, save and test send refuse a template
that would exhaust the server, naming the limit and the line (issue 12, finding 2)."""

from __future__ import annotations

from html import unescape

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy.orm import Session

from campaigns.email.store import get_template
from nurture.models import Contact
from tests.email.smtpd import Behaviour
from tests.ui.helpers import post_form
from tests.web_email.conftest import BODY
from tests.web_email.editor_forms import editor_form, sign_in

Client = TestClient[Litestar]

PAYLOADS = [
    pytest.param(
        '{{ ("x"*10000)|replace("x","x"*2000)|length }}',
        "a value over 1,000,000 characters or items",
        id="replace",
    ),
    pytest.param(
        '{{ ("%050000000d"|format(1))|length }}',
        "a value over 1,000,000 characters or items",
        id="format",
    ),
    pytest.param(
        '{% for i in "x"*6000 %}{% for j in "x"*6000 %}{% endfor %}{% endfor %}',
        "loop iterations and calls (the budget)",
        id="loops",
    ),
]


@pytest.mark.parametrize(("payload", "message"), PAYLOADS)
def test_sales_rep_preview_of_a_payload_is_refused_with_the_limit_and_line(
    client: Client, db: Session, template_id: int, contact: Contact, payload: str, message: str
) -> None:
    sign_in(client, db, "sales")
    form = editor_form(BODY.replace("Join the webinar", payload), subject="Hi")
    form.update(active_locale="en", contact_id=str(contact.id))
    refused = post_form(client, f"/content/{template_id}/preview", form)
    assert refused.status_code < 500
    assert "line 7" in refused.text
    assert message in unescape(refused.text)
    assert "srcdoc" not in refused.text


@pytest.mark.parametrize(("payload", "message"), PAYLOADS)
def test_saving_a_payload_is_refused_and_nothing_is_stored(
    client: Client, db: Session, template_id: int, payload: str, message: str
) -> None:
    sign_in(client, db, "marketer")
    refused = post_form(
        client,
        f"/content/{template_id}",
        editor_form(BODY.replace("Join the webinar", payload), subject="Hi"),
    )
    assert refused.status_code == 422
    assert "line 7" in refused.text
    assert message in unescape(refused.text)
    db.expire_all()
    assert get_template(db, template_id).current_version == 1


def test_a_template_with_an_ordinary_loop_saves_and_test_sends(
    client: Client, db: Session, template_id: int, contact: Contact, behaviour: Behaviour
) -> None:
    sign_in(client, db, "marketer", "me@firm.example")
    loop = '{% for i in "x"*500 %}{{ i }}{% endfor %}'
    saved = post_form(
        client,
        f"/content/{template_id}",
        editor_form(BODY.replace("Join the webinar", loop), subject="Hi"),
    )
    assert saved.status_code == 303
    for _ in range(3):
        sent = post_form(client, f"/content/{template_id}/test-send", {"contact_id": contact.id})
        assert sent.status_code == 200, sent.text
    assert len(behaviour.received) == 3
