""" "New template" starts from a choice: a blank page or any starter template, which becomes a
new template of its own (English and Russian, a name no other template has)."""

from __future__ import annotations

import re
from html import unescape

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.email.store import get_template, get_version
from nurture.models import EmailTemplate
from templates.library import starter_template, starter_templates
from tests.ui.helpers import HTML, Client, post_form
from tests.web_email.editor_forms import sign_in


def _made(response_location: str) -> int:
    found = re.fullmatch(r"/content/(\d+)\?saved=1", response_location)
    assert found is not None, response_location
    return int(found.group(1))


def test_new_template_offers_a_blank_page_and_every_starter_with_what_it_is_for(
    client: Client, db: Session
) -> None:
    sign_in(client, db, "marketer")
    page = client.get("/content/new", headers=HTML)
    assert page.status_code == 200
    text = unescape(page.text)
    assert 'href="/content/new/blank"' in text
    for starter in starter_templates():
        english = starter.variants["en"]
        assert f"<h2>{english.title}</h2>" in text
        assert english.description in text
        assert f'name="starter" value="{starter.name}"' in text
    # Each card says who sends it, or that its context comes from a feature not built yet.
    assert "it needs the article, which comes from a feature not built yet" in text.replace(
        "It needs", "it needs"
    )
    assert "Sent by a review e-mail step asking for an NPS score" in text
    # The list page's button leads here.
    assert 'href="/content/new"' in client.get("/content", headers=HTML).text


def test_blank_choice_opens_the_empty_editor_that_creates_a_template(
    client: Client, db: Session
) -> None:
    sign_in(client, db, "marketer")
    page = client.get("/content/new/blank", headers=HTML)
    assert page.status_code == 200
    assert 'id="editor-form"' in page.text
    assert 'action="/content/new"' in page.text
    assert "editor-solo" in page.text


def test_picking_a_starter_makes_a_new_template_in_both_languages_with_a_free_name(
    client: Client, db: Session
) -> None:
    sign_in(client, db, "marketer")
    starter = starter_template("webinar_invitation")

    first = post_form(client, "/content/new/starter", {"starter": starter.name})
    assert first.status_code == 303, first.text
    template_id = _made(first.headers["location"])
    template = get_template(db, template_id)
    assert template.name == "Webinar invitation"
    assert template.topic == starter.topic
    assert template.description == starter.variants["en"].description
    version = get_version(db, template_id)
    by_locale = {v.locale: v for v in version.variants}
    assert sorted(by_locale) == ["en", "ru"]
    for locale, variant in by_locale.items():
        assert variant.subject == starter.variants[locale].subject
        assert variant.body == starter.variants[locale].body
    editor = client.get(first.headers["location"], headers=HTML)
    assert editor.status_code == 200
    assert 'value="Webinar invitation"' in editor.text

    second = post_form(client, "/content/new/starter", {"starter": starter.name})
    third = post_form(client, "/content/new/starter", {"starter": starter.name})
    names = [get_template(db, _made(r.headers["location"])).name for r in (second, third)]
    assert names == ["Webinar invitation (2)", "Webinar invitation (3)"]


def test_the_starter_library_does_not_add_a_second_copy_of_a_starter_already_picked(
    client: Client, db: Session
) -> None:
    sign_in(client, db, "marketer")
    picked = post_form(client, "/content/new/starter", {"starter": "nps"})
    assert picked.status_code == 303
    loaded = post_form(client, "/content/starters")
    assert loaded.status_code == 303
    db.expire_all()
    names = list(db.scalars(select(EmailTemplate.name).where(EmailTemplate.name.like("NPS%"))))
    assert names == ["NPS survey"]


def test_an_unknown_or_missing_starter_is_refused_and_sales_reps_cannot_start_one(
    client: Client, db: Session
) -> None:
    sign_in(client, db, "marketer")
    assert post_form(client, "/content/new/starter", {"starter": "no-such"}).status_code == 404
    assert post_form(client, "/content/new/starter", {}).status_code == 422
    assert db.scalar(select(EmailTemplate.id)) is None
    client.cookies.clear()
    sign_in(client, db, "sales")
    assert client.get("/content/new", headers=HTML).status_code == 403
    assert client.get("/content/new/blank", headers=HTML).status_code == 403
    assert post_form(client, "/content/new/starter", {"starter": "nps"}).status_code == 403
