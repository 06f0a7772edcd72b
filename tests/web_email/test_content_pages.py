"""The Content pages: template list with the starter library, the editor's save, preview,
test send and version history, and what a sales rep may not do."""

from __future__ import annotations

import re
from html import unescape

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy.orm import Session

from campaigns.email.store import get_template
from nurture.models import Contact
from tests.email.smtpd import Behaviour
from tests.ui.helpers import HTML, post_form
from tests.web_email.conftest import BODY
from tests.web_email.editor_forms import editor_form, sign_in

Client = TestClient[Litestar]


def _srcdoc(page: str) -> str:
    found = re.search(r'srcdoc="([^"]*)"', page)
    assert found is not None, page[:500]
    return unescape(found.group(1))


def test_marketer_loads_the_starter_library_and_sees_it_listed(client: Client, db: Session) -> None:
    sign_in(client, db, "marketer")
    before = client.get("/content", headers=HTML)
    assert before.status_code == 200
    assert "Load starter templates" in before.text
    loaded = post_form(client, "/content/starters")
    assert loaded.status_code == 303
    after = client.get(loaded.headers["location"], headers=HTML)
    assert "starter templates loaded" in after.text
    assert "Webinar" in after.text
    assert "Load starter templates" not in after.text


def test_editor_saves_versions_and_keeps_typed_text_when_a_save_fails(
    client: Client, db: Session, template_id: int
) -> None:
    sign_in(client, db, "marketer")
    page = client.get(f"/content/{template_id}", headers=HTML)
    assert page.status_code == 200
    assert 'class="code-input"' in page.text
    assert "Desktop 600 px" in page.text
    assert "Phone 375 px" in page.text

    broken = BODY.replace("Join the webinar", "{% if %}")
    refused = post_form(client, f"/content/{template_id}", editor_form(name="Guide", body=broken))
    assert refused.status_code == 422
    assert "Nothing was saved" in refused.text
    assert "line 7" in refused.text
    assert "{% if %}" in unescape(refused.text)
    db.expire_all()
    assert get_template(db, template_id).current_version == 1

    saved = post_form(
        client,
        f"/content/{template_id}",
        editor_form(name="Guide v2", body=BODY, subject="New subject"),
    )
    assert saved.status_code == 303
    db.expire_all()
    assert get_template(db, template_id).current_version == 2
    old = client.get(f"/content/{template_id}/versions/1", headers=HTML)
    assert "Restore version 1" in old.text
    restored = post_form(client, f"/content/{template_id}/versions/1/restore")
    assert restored.status_code == 303
    db.expire_all()
    assert get_template(db, template_id).current_version == 3
    current = client.get(f"/content/{template_id}", headers=HTML).text
    assert "Your guide, {{ contact.first_name }}" in unescape(current)


def test_preview_renders_the_unsaved_source_for_the_contact_and_shows_lines_of_errors(
    client: Client, db: Session, template_id: int, contact: Contact
) -> None:
    sign_in(client, db, "sales")
    form = editor_form(name="Guide", body=BODY.replace("Hello", "Good morning"))
    form.update(active_locale="en", contact_id=str(contact.id))
    shown = post_form(client, f"/content/{template_id}/preview", form)
    assert shown.status_code == 200
    assert 'sandbox=""' in shown.text
    assert "Good morning Ada," in _srcdoc(shown.text)
    assert "Hi Ada" in shown.text

    form["body__en"] = BODY.replace("Join the webinar", "{{ ''.__class__ }}")
    refused = post_form(client, f"/content/{template_id}/preview", form)
    assert "line 7" in refused.text
    assert "srcdoc" not in refused.text


def test_test_send_goes_to_the_signed_in_user_through_smtp(
    client: Client, db: Session, template_id: int, contact: Contact, behaviour: Behaviour
) -> None:
    sign_in(client, db, "marketer", "me@firm.example")
    answer = post_form(client, f"/content/{template_id}/test-send", {"contact_id": contact.id})
    assert answer.status_code == 200, answer.text
    assert "Sent to me@firm.example" in answer.text
    assert [r.rcpt_tos for r in behaviour.received] == [["me@firm.example"]]
    assert "Your guide, Ada" in str(behaviour.received[0].parsed()["Subject"])


def test_sales_reps_read_templates_but_cannot_change_them(
    client: Client, db: Session, template_id: int
) -> None:
    sign_in(client, db, "sales")
    assert client.get("/content", headers=HTML).status_code == 200
    page = client.get(f"/content/{template_id}", headers=HTML)
    assert page.status_code == 200
    assert "read only" in page.text
    assert ">Save</button>" not in page.text
    assert (
        post_form(client, f"/content/{template_id}", editor_form(name="X", body=BODY)).status_code
        == 403
    )
    assert post_form(client, "/content/starters").status_code == 403
    assert client.get("/content/new", headers=HTML).status_code == 403
    db.expire_all()
    assert get_template(db, template_id).name == "Guide"
