"""The templates API: CRUD with versions, validation with lines, sandbox refusals, render
for a contact, send through the pipeline to a real SMTP server, and the message view."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy.orm import Session

from nurture.models import Contact
from tests.email.smtpd import Behaviour
from tests.factories import make_contact
from tests.web_email.conftest import BODY, Headers
from tests.web_email.mail import html_of, last_mail

Client = TestClient[Litestar]


def _new(
    name: str = "Welcome", body: str = BODY, subject: str = "Hi {{ contact.first_name }}"
) -> dict[str, Any]:
    return {
        "name": name,
        "topic": "newsletters",
        "variants": {
            "en": {"subject": subject, "body": body, "preheader": "Short"},
            "ru": {"subject": "Привет, {{ contact.first_name }}", "body": body},
        },
    }


def test_marketer_creates_reads_saves_and_archives_a_template_with_versions(
    client: Client, headers: Headers
) -> None:
    created = client.post("/api/v1/templates", json=_new(), headers=headers)
    assert created.status_code == 201, created.text
    template = created.json()
    assert template["current_version"] == 1
    assert {v["locale"] for v in template["variants"]} == {"en", "ru"}
    tid = template["id"]

    saved = client.patch(
        f"/api/v1/templates/{tid}",
        json={"variants": {"en": {"subject": "Hello again", "body": BODY}}},
        headers=headers,
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["current_version"] == 2
    versions = client.get(f"/api/v1/templates/{tid}/versions", headers=headers).json()
    assert [v["number"] for v in versions] == [2, 1]
    first = client.get(f"/api/v1/templates/{tid}/versions/1", headers=headers).json()
    assert {v["locale"] for v in first["variants"]} == {"en", "ru"}
    assert (
        client.get(f"/api/v1/templates/{tid}", headers=headers).json()["variants"][0]["subject"]
        == "Hello again"
    )

    assert client.delete(f"/api/v1/templates/{tid}", headers=headers).status_code == 204
    assert client.get("/api/v1/templates", headers=headers).json() == []
    listed = client.get("/api/v1/templates?include_archived=true", headers=headers).json()
    assert [t["archived"] for t in listed] == [True]


def test_sales_reads_templates_but_may_not_write_or_send(
    client: Client, headers: Headers, headers_for: Callable[[str], Headers], template_id: int
) -> None:
    sales = headers_for("sales")
    assert client.get("/api/v1/templates", headers=sales).status_code == 200
    assert client.get(f"/api/v1/templates/{template_id}", headers=sales).status_code == 200
    assert client.post("/api/v1/templates", json=_new(), headers=sales).status_code == 403
    patch = client.patch(f"/api/v1/templates/{template_id}", json={"name": "X"}, headers=sales)
    assert patch.status_code == 403
    send = client.post(
        f"/api/v1/templates/{template_id}/send", json={"contact_id": 1}, headers=sales
    )
    assert send.status_code == 403
    assert client.get("/api/v1/templates").status_code == 401


def test_template_errors_answer_422_naming_variant_part_and_line(
    client: Client, headers: Headers
) -> None:
    broken = BODY.replace("Join the webinar", "Join {% if %}")
    answer = client.post("/api/v1/templates", json=_new(body=broken), headers=headers)
    assert answer.status_code == 422
    problems = answer.json()["error"]["problems"]
    fields = {p["field"] for p in problems}
    assert "variants.en.body" in fields
    line = next(p["message"] for p in problems if p["field"] == "variants.en.body")
    assert line.startswith("line 7:"), line
    bad_subject = client.post(
        "/api/v1/templates", json=_new(subject="Hi {{ contact.first_name"), headers=headers
    )
    assert bad_subject.status_code == 422
    assert bad_subject.json()["error"]["problems"][0]["field"] == "variants.en.subject"


def test_sandbox_escapes_are_refused_with_a_clear_error(client: Client, headers: Headers) -> None:
    for payload in (
        "{{ ''.__class__.__mro__ }}",
        "{{ config }}",
        "{% include '/etc/passwd' %}",
        "{{ contact.__class__ }}",
    ):
        body = BODY.replace("Join the webinar", payload)
        answer = client.post("/api/v1/templates", json=_new(body=body), headers=headers)
        assert answer.status_code == 422, payload
        messages = [p["message"] for p in answer.json()["error"]["problems"]]
        assert any(m.startswith("line 7:") for m in messages), (payload, messages)
        assert "root:" not in answer.text


def test_duplicate_names_conflict_and_bad_fields_are_named(
    client: Client, headers: Headers
) -> None:
    assert client.post("/api/v1/templates", json=_new(), headers=headers).status_code == 201
    assert client.post("/api/v1/templates", json=_new(), headers=headers).status_code == 409
    odd = {**_new("Other"), "colour": "red"}
    answer = client.post("/api/v1/templates", json=odd, headers=headers)
    assert answer.status_code == 422
    assert answer.json()["error"]["problems"][0]["field"] == "colour"
    no_en = {"name": "Only ru", "variants": {"ru": {"subject": "Привет", "body": BODY}}}
    assert client.post("/api/v1/templates", json=no_en, headers=headers).status_code == 422


def test_render_answers_what_the_contact_would_get_in_their_language(
    client: Client, db: Session, headers: Headers, template_id: int, contact: Contact
) -> None:
    answer = client.post(
        f"/api/v1/templates/{template_id}/render", json={"contact_id": contact.id}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    rendered = answer.json()
    assert rendered["subject"] == "Your guide, Ada"
    assert "Hello Ada," in rendered["html"]
    assert "Hello Ada," in rendered["text"]
    assert rendered["links"] == ["https://example.net/guide?c=1", "https://example.net/webinar"]
    assert "/u/" in rendered["html"]
    russian = make_contact(db, first_name="Иван", locale="ru")
    db.commit()
    ru = client.post(
        f"/api/v1/templates/{template_id}/render", json={"contact_id": russian.id}, headers=headers
    ).json()
    assert ru["locale"] == "ru"
    assert ru["subject"] == "Ваше руководство, Иван"
    missing = client.post(
        f"/api/v1/templates/{template_id}/render", json={"contact_id": 999999}, headers=headers
    )
    assert missing.status_code == 404
    bad = client.post(f"/api/v1/templates/{template_id}/render", json={}, headers=headers)
    assert bad.status_code == 422
    assert bad.json()["error"]["problems"][0]["field"] == "contact_id"


def test_render_failure_names_the_part_and_line(
    client: Client, headers: Headers, contact: Contact
) -> None:
    body = BODY.replace("Join the webinar", "{{ webinar.title | upper }}")
    created = client.post("/api/v1/templates", json=_new(body=body), headers=headers).json()
    answer = client.post(
        f"/api/v1/templates/{created['id']}/render",
        json={"contact_id": contact.id},
        headers=headers,
    )
    assert answer.status_code == 422, answer.text
    problem = answer.json()["error"]["problems"][0]
    assert problem["field"] == "body"
    assert problem["message"].startswith("line 7:")
    with_value = client.post(
        f"/api/v1/templates/{created['id']}/render",
        json={"contact_id": contact.id, "extra": {"webinar": {"title": "Contracts 101"}}},
        headers=headers,
    )
    assert "CONTRACTS 101" in with_value.json()["html"]


def test_send_goes_through_the_pipeline_to_smtp_and_the_message_shows_its_events(
    client: Client,
    headers: Headers,
    template_id: int,
    contact: Contact,
    behaviour: Behaviour,
) -> None:
    answer = client.post(
        f"/api/v1/templates/{template_id}/send",
        json={"contact_id": contact.id, "idempotency_key": "welcome-ada"},
        headers=headers,
    )
    assert answer.status_code == 202, answer.text
    sent = answer.json()
    assert sent["status"] == "sent"
    mail = last_mail(behaviour)
    assert "ada@client.example" in mail["To"]
    assert mail["Subject"] == "Your guide, Ada"
    assert "/t/c/" in html_of(mail)
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    again = client.post(
        f"/api/v1/templates/{template_id}/send",
        json={"contact_id": contact.id, "idempotency_key": "welcome-ada"},
        headers=headers,
    )
    assert again.json()["message_id"] == sent["message_id"]
    assert len(behaviour.received) == 1

    shown = client.get(f"/api/v1/messages/{sent['message_id']}", headers=headers)
    assert shown.status_code == 200
    message = shown.json()
    assert message["status"] == "sent"
    assert message["to_email"] == "ada@client.example"
    assert message["template_version"] == 1
    assert [e["type"] for e in message["events"]] == ["email.sent"]
    assert client.get("/api/v1/messages/987654", headers=headers).status_code == 404


def test_a_refused_address_is_a_bounced_message(
    client: Client, headers: Headers, template_id: int, contact: Contact, behaviour: Behaviour
) -> None:
    behaviour.refuse.add("ada@client.example")
    answer = client.post(
        f"/api/v1/templates/{template_id}/send", json={"contact_id": contact.id}, headers=headers
    )
    assert answer.json()["status"] == "bounced"
    again = client.post(
        f"/api/v1/templates/{template_id}/send", json={"contact_id": contact.id}, headers=headers
    )
    assert again.json()["status"] == "suppressed"
