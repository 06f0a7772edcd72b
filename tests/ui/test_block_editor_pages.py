"""The block editor's pages: a template opened as blocks, saved from blocks (one locale,
the others kept), a refused save keeping the blocks as typed, blocks added from the
palette, the blank layout, the personalisation picker, and who may do what."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy.orm import Session

from campaigns.email.store import VariantInput, create_template, get_template, get_version
from nurture.models import utcnow
from templates.blocks import Block, read, write
from tests.factories import make_contact, make_user
from tests.ui.block_editor_forms import blocks_form, document_form
from tests.ui.helpers import HTML, Client, login, post_form
from tests.webinars.helpers import make_story

HTMX = {**HTML, "hx-request": "true"}
BODY = """<mjml>
  <mj-body>
    <mj-section>
      <mj-column>
        <mj-text>Hello {{ contact.first_name | default("there", true) }},</mj-text>
        <mj-text><a href="{{ unsubscribe_url }}">Unsubscribe</a></mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>
"""
BODY_RU = BODY.replace("Hello", "Здравствуйте")


@pytest.fixture
def db_url(sqlite_db_url: str) -> str:
    """What the handlers answer is the subject; the store's own tests run on both databases."""
    return sqlite_db_url


@pytest.fixture
def template_id(db: Session) -> int:
    template = create_template(
        db,
        name="Guide",
        actor="test",
        variants={
            "en": VariantInput("Your guide", BODY, "A short read"),
            "ru": VariantInput("Ваше руководство", BODY_RU, "Кратко"),
        },
    )
    db.commit()
    return template.id


def _sign_in(client: Client, db: Session, role: str = "marketer") -> None:
    user = make_user(db, role=role)
    db.commit()
    login(client, user)


def _body(db: Session, template_id: int, locale: str) -> str:
    db.expire_all()
    return next(v.body for v in get_version(db, template_id).variants if v.locale == locale)


def test_a_template_opens_as_blocks_with_what_no_kind_fits_kept_as_html_mjml(
    client: Client, db: Session, template_id: int
) -> None:
    _sign_in(client, db)
    page = client.get(f"/content/{template_id}/blocks?locale=en", headers=HTML)
    assert page.status_code == 200
    assert 'id="block-list"' in page.text
    assert "HTML/MJML" in page.text
    # The raw block's text is in its text area, every character of it.
    raw = read(BODY).blocks[0]
    assert raw.kind == "raw"
    assert raw.get("mjml") in unescape(page.text)
    assert "/static/vendor/sortable/Sortable.min.js" in page.text
    assert client.get("/static/vendor/sortable/Sortable.min.js").status_code == 200


def test_saving_unchanged_blocks_stores_the_same_mjml_and_keeps_the_other_locale(
    client: Client, db: Session, template_id: int
) -> None:
    _sign_in(client, db)
    saved = post_form(
        client, f"/content/{template_id}/blocks", blocks_form(BODY, name="Guide", subject="New")
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == f"/content/{template_id}/blocks?locale=en&saved=1"
    assert get_template(db, template_id).current_version == 2
    assert _body(db, template_id, "en") == BODY
    assert _body(db, template_id, "ru") == BODY_RU
    page = client.get(saved.headers["location"], headers=HTML)
    assert "Saved as version 2" in page.text


def test_blocks_save_in_the_order_posted(client: Client, db: Session, template_id: int) -> None:
    _sign_in(client, db)
    doc = read(BODY)
    heading = Block.make("heading", **{})
    spacer = Block.make("spacer")
    built = doc.__class__(doc.head, (heading, *doc.blocks, spacer), doc.tail)
    form = document_form(built, subject="Ordered")
    form["blocks_order"] = "b2 b0 b1"
    assert post_form(client, f"/content/{template_id}/blocks", form).status_code == 303
    stored = read(_body(db, template_id, "en"))
    assert [b.kind for b in stored.blocks] == ["spacer", "heading", "raw"]


def test_a_refused_save_shows_the_blocks_as_typed_with_the_error_on_the_field(
    client: Client, db: Session, template_id: int
) -> None:
    _sign_in(client, db)
    doc = read(BODY)
    text = Block.make("text").replace(
        **{Block.make("text").fields[0][0]: "Your colour: {{ contact.favourite_colour }}"}
    )
    form = document_form(doc.__class__(doc.head, (text, *doc.blocks), doc.tail), subject="Hi")
    refused = post_form(client, f"/content/{template_id}/blocks", form)
    assert refused.status_code == 422
    assert "Nothing was saved" in refused.text
    field = text.fields[0][0]
    error = re.search(rf'id="err-f-b0-{field}">([^<]*)<', refused.text)
    assert error is not None, refused.text
    assert "favourite_colour" in unescape(error.group(1))
    assert "Your colour: {{ contact.favourite_colour }}" in unescape(refused.text)
    db.expire_all()
    assert get_template(db, template_id).current_version == 1


def test_the_palette_adds_an_empty_block_form_without_storing_anything(
    client: Client, db: Session, template_id: int
) -> None:
    _sign_in(client, db)
    added = client.get("/content/blocks/new?kind=button&locale=en", headers=HTMX)
    assert added.status_code == 200
    key = re.search(r'data-key="([a-z0-9]+)"', added.text)
    assert key is not None
    assert f'name="block_kind__{key.group(1)}" value="button"' in added.text
    assert "Move up" in added.text
    assert "Move down" in added.text
    # Every input has a label.
    ids = re.findall(r'<(?:input|textarea|select) id="([^"]+)"', added.text)
    assert ids
    assert all(f'for="{i}"' in added.text for i in ids)
    assert client.get("/content/blocks/new?kind=nonsense", headers=HTMX).status_code == 422
    assert get_template(db, template_id).current_version == 1


def test_a_blank_layout_from_blocks_has_english_and_russian(client: Client, db: Session) -> None:
    _sign_in(client, db)
    made = post_form(client, "/content/new/blocks", {"name": "Spring news"})
    assert made.status_code == 303
    template_id = int(made.headers["location"].split("/")[2])
    version = get_version(db, template_id)
    assert sorted(v.locale for v in version.variants) == ["en", "ru"]
    for variant in version.variants:
        assert write(read(variant.body)) == variant.body
    assert client.get(made.headers["location"], headers=HTML).status_code == 200


def test_the_picker_writes_a_fallback_as_safe_jinja(client: Client, db: Session) -> None:
    _sign_in(client, db)
    picker = client.get("/content/merge-picker?locale=ru", headers=HTMX)
    assert picker.status_code == 200
    assert "Имя" in picker.text
    assert 'data-fallback="коллега"' in picker.text
    tag = client.get(
        "/content/merge-tag", params={"path": "contact.first_name", "fallback": "it's }}"}
    )
    assert tag.status_code == 200
    assert tag.text.startswith("{{ contact.first_name | default('it")
    assert "'s" not in tag.text
    assert tag.text.count("}}") == 1
    unknown = client.get("/content/merge-tag", params={"path": "contact.favourite_colour"})
    assert unknown.status_code == 422


def test_the_preview_renders_the_unsaved_blocks_for_a_contact(
    client: Client, db: Session, template_id: int
) -> None:
    _sign_in(client, db)
    contact = make_contact(db, first_name="Lena", email="lena@brandt.example")
    db.commit()
    form = {**blocks_form(BODY_RU, locale="ru", subject="Тема"), "contact_id": str(contact.id)}
    shown = post_form(client, f"/content/{template_id}/blocks/preview", form)
    assert shown.status_code == 200
    assert "Здравствуйте Lena," in unescape(shown.text)


def test_a_sales_rep_may_look_but_not_save(client: Client, db: Session, template_id: int) -> None:
    _sign_in(client, db, role="sales")
    page = client.get(f"/content/{template_id}/blocks", headers=HTML)
    assert page.status_code == 200
    assert "Move up" not in page.text
    assert ">Save</button>" not in page.text
    refused = post_form(client, f"/content/{template_id}/blocks", blocks_form(BODY))
    assert refused.status_code == 403


def test_picking_a_case_study_fills_the_card_and_keeps_its_place(
    client: Client, db: Session
) -> None:
    _sign_in(client, db)
    story = make_story(db, "Contract review in half the time", published_at=utcnow())
    db.commit()
    empty = client.get("/content/blocks/new?kind=case_study", headers=HTMX)
    assert "Contract review in half the time" in empty.text
    assert "data-card-ref" in empty.text
    picked = client.get(
        f"/content/blocks/new?kind=case_study&ref={story.id}&key=b3&locale=en", headers=HTMX
    )
    assert picked.status_code == 200
    assert 'data-key="b3"' in picked.text
    assert 'value="Contract review in half the time"' in unescape(picked.text)
    assert f'<option value="{story.id}" selected>' in picked.text
