"""Saving a template that reads a field no send gives is refused, naming part and field,
through the store and the API alike; names a step gives are left to the step checks."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy.orm import Session

from campaigns.email import store
from campaigns.email.store import VariantInput
from nurture.errors import InvalidInput
from tests.email.conftest import BODY
from tests.factories import make_api_key
from tests.ui.helpers import post_form
from tests.web_email.editor_forms import editor_form, sign_in

TYPO_BODY = BODY.replace(
    'contact.first_name | default("there", true)',
    'contact.favourite_colour | default("blue", true)',
)


def _create(db: Session, variants: dict[str, VariantInput]) -> int:
    template = store.create_template(
        db, name="Fields", topic="newsletters", actor="test", variants=variants
    )
    db.commit()
    return template.id


def test_an_unknown_field_is_refused_with_its_part_line_and_name(db: Session) -> None:
    with pytest.raises(InvalidInput) as caught:
        _create(
            db,
            {
                "en": VariantInput("Hi", TYPO_BODY),
                "ru": VariantInput("Привет {{ rep.mobile }}", BODY, text_body="{{ brand.slogan }}"),
            },
        )
    described = [(p.field, p.message) for p in caught.value.problems]
    hint = " (the Personalisation list has the fields a send gives)"
    assert described == [
        ("variants.en.body", "line 5: unknown field contact.favourite_colour" + hint),
        ("variants.ru.subject", "line 1: unknown field rep.mobile" + hint),
        ("variants.ru.text_body", "line 1: unknown field brand.slogan" + hint),
    ]
    assert "variants.en.body: line 5: unknown field contact.favourite_colour" in str(caught.value)


def test_saving_a_new_version_is_checked_too(db: Session) -> None:
    template_id = _create(db, {"en": VariantInput("Hi {{ contact.first_name }}", BODY)})
    with pytest.raises(InvalidInput) as caught:
        store.update_template(
            db,
            template_id,
            actor="test",
            variants={"en": VariantInput("Hi {{ contact.frist_name | default('x') }}", BODY)},
        )
    (problem,) = caught.value.problems
    assert problem.field == "variants.en.subject"
    assert "unknown field contact.frist_name" in problem.message


def test_known_fields_and_names_a_step_gives_are_saved(db: Session) -> None:
    subject = (
        "{{ contact.company.name | default('you') }} {{ rep.title }} {{ brand.name }} "
        "{{ contact.attributes.plan | default('') }} {{ case_study.title }}"
    )
    template_id = _create(db, {"en": VariantInput(subject, BODY)})
    assert store.get_version(db, template_id).variants[0].subject == subject


def test_the_api_answers_422_naming_part_and_field(
    client: TestClient[Litestar], db: Session
) -> None:
    _, secret = make_api_key(db, role="marketer")
    db.commit()
    payload = {
        "name": "Fields",
        "topic": "newsletters",
        "variants": {"en": {"subject": "Hi", "body": TYPO_BODY}},
    }
    answer = client.post(
        "/api/v1/templates", json=payload, headers={"Authorization": f"Bearer {secret}"}
    )
    assert answer.status_code == 422, answer.text
    (problem,) = answer.json()["error"]["problems"]
    assert problem["field"] == "variants.en.body"
    assert "unknown field contact.favourite_colour" in problem["message"]


def test_the_editor_keeps_the_form_and_names_the_field(
    client: TestClient[Litestar], db: Session
) -> None:
    template_id = _create(db, {"en": VariantInput("Hi {{ contact.first_name }}", BODY)})
    sign_in(client, db, "marketer")
    answer = post_form(client, f"/content/{template_id}", editor_form(TYPO_BODY))
    assert answer.status_code == 422
    assert "unknown field contact.favourite_colour" in answer.text
    assert "favourite_colour | default" in answer.text
    assert store.get_template(db, template_id).current_version == 1
