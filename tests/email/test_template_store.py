"""Template storage: versions on every save, validation with lines, the starter library."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.email import store
from campaigns.email.seed import seed_starter_library
from campaigns.email.store import VariantInput
from nurture.errors import Conflict, InvalidInput
from nurture.models import EmailTemplate, EmailTemplateVersion
from templates.library import starter_templates
from tests.email.conftest import BODY, make_template


def test_every_save_adds_an_immutable_version(db: Session) -> None:
    template_id = make_template(db)
    first = store.get_version(db, template_id)
    second = store.update_template(
        db,
        template_id,
        actor="test",
        variants={"en": VariantInput("New subject {{ contact.first_name }}", BODY)},
    )
    third = store.update_template(db, template_id, actor="test", tracking=False)
    db.commit()

    assert [v.number for v in store.list_versions(db, template_id)] == [3, 2, 1]
    assert [v.locale for v in first.variants] == ["en", "ru"]
    assert first.variants[0].subject == "Your guide, {{ contact.first_name }}"
    assert [(v.locale, v.subject) for v in second.variants] == [
        ("en", "New subject {{ contact.first_name }}")
    ]
    # Content not given is carried over; the tracking switch is part of the version.
    assert [v.subject for v in third.variants] == ["New subject {{ contact.first_name }}"]
    assert (first.tracking, third.tracking) == (True, False)
    assert store.get_template(db, template_id).current_version == 3


def test_jinja_and_mjml_errors_name_the_variant_part_and_line(db: Session) -> None:
    broken = BODY.replace("<mj-button", "<mj-buton", 1)
    with pytest.raises(InvalidInput) as caught:
        make_template_with(db, {"en": VariantInput("Hi {{ contact.first_name ", BODY)})
    (problem,) = caught.value.problems
    assert problem.field == "variants.en.subject"
    assert problem.message.startswith("line 1: ")
    with pytest.raises(InvalidInput) as caught:
        make_template_with(
            db, {"en": VariantInput("Hi", BODY), "ru": VariantInput("Привет", broken)}
        )
    first = caught.value.problems[0]
    assert (first.field, first.message) == (
        "variants.ru.body",
        "line 7: unknown element <mj-buton>",
    )
    assert {p.field for p in caught.value.problems} == {"variants.ru.body"}


def test_test_render_flags_undefined_variables_with_their_line(db: Session) -> None:
    body = BODY.replace("our guide", "our guide on {{ article.nonexistent_field }}")
    with pytest.raises(InvalidInput) as caught:
        make_template_with(db, {"en": VariantInput("Hi", body)})
    (problem,) = caught.value.problems
    assert problem.field == "variants.en.body"
    assert problem.message.startswith("line 6: ")
    assert "nonexistent_field" in problem.message


def test_sandbox_refusals_come_back_as_invalid_input(db: Session) -> None:
    for payload in ("{{ ''.__class__.__mro__ }}", "{{ config }}", "{% include '/etc/passwd' %}"):
        with pytest.raises(InvalidInput) as caught:
            make_template_with(db, {"en": VariantInput(payload, BODY)})
        assert caught.value.problems[0].field == "variants.en.subject"
    assert db.scalar(select(func.count()).select_from(EmailTemplate)) == 0


def test_english_is_required_and_names_and_topics_are_checked(db: Session) -> None:
    with pytest.raises(InvalidInput, match="English"):
        make_template_with(db, {"ru": VariantInput("Привет", BODY)})
    with pytest.raises(InvalidInput, match="topic"):
        store.create_template(
            db, name="x", topic="gossip", actor="t", variants={"en": VariantInput("Hi", BODY)}
        )
    make_template(db, name="Taken")
    with pytest.raises(Conflict):
        make_template(db, name="Taken")


def test_variant_follows_the_contact_locale_with_english_fallback(db: Session) -> None:
    version = store.get_version(db, make_template(db))
    assert store.pick_variant(version, "ru").locale == "ru"
    assert store.pick_variant(version, "ru-RU").locale == "ru"
    assert store.pick_variant(version, "de").locale == "en"
    assert store.pick_variant(version, None).locale == "en"


def test_seeding_loads_the_starter_library_once(db: Session) -> None:
    created = seed_starter_library(db)
    again = seed_starter_library(db)
    db.commit()
    assert len(created) == len(starter_templates())
    assert again == []
    handoff = next(t for t in created if t.starter_name == "lead_handoff")
    assert handoff.kind == "internal"
    assert handoff.topic is None
    versions = db.scalar(select(func.count()).select_from(EmailTemplateVersion))
    assert versions == len(created)
    assert {v.locale for v in store.get_version(db, created[0].id).variants} == {"en", "ru"}


def make_template_with(db: Session, variants: dict[str, VariantInput]) -> EmailTemplate:
    return store.create_template(db, name="Broken", actor="test", variants=variants)
