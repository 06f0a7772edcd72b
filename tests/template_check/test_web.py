"""The check over the API and in the editor: the saved version or the unsaved form,
findings pointing at their block and line, nothing saved."""

from __future__ import annotations

from html import unescape

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy.orm import Session

from campaigns.email import brand
from campaigns.email.store import VariantInput, create_template, get_template
from tests.factories import make_api_key
from tests.ui.helpers import HTML, post_form
from tests.web_email.editor_forms import editor_form, sign_in

Client = TestClient[Litestar]
CLEAN = """<mjml>
  <mj-body>
    <mj-section css-class="nb-text">
      <mj-column>
        <mj-text>Hello {{ contact.first_name | default("there", true) }}, our guide.</mj-text>
        <mj-button href="https://example.net/guide">Read the guide</mj-button>
      </mj-column>
    </mj-section>
    <mj-section css-class="nb-footer">
      <mj-column><mj-text><a href="{{ unsubscribe_url }}">Unsubscribe</a></mj-text></mj-column>
    </mj-section>
  </mj-body>
</mjml>
"""
FLAWED = CLEAN.replace(
    '<mj-button href="https://example.net/guide">',
    '<mj-image src="https://example.net/a.png" />\n'
    '        <mj-button href="http://example.net/guide" background-color="#d1d5db">',
)


@pytest.fixture
def db_url(sqlite_db_url: str) -> str:
    """The check reads one saved version and renders it; the database does not matter."""
    return sqlite_db_url


@pytest.fixture
def template_id(db: Session) -> int:
    template = create_template(
        db,
        name="Guide",
        topic="newsletters",
        actor="test",
        variants={
            "en": VariantInput("Your guide", FLAWED),
            "ru": VariantInput("Ваше руководство", CLEAN.replace("Hello", "Здравствуйте")),
        },
    )
    db.commit()
    return template.id


def _key(db: Session, role: str) -> dict[str, str]:
    _, secret = make_api_key(db, role=role)
    db.commit()
    return {"authorization": f"Bearer {secret}"}


def test_api_checks_the_saved_version_and_names_block_and_line(
    client: Client, db: Session, template_id: int
) -> None:
    answer = client.post(
        f"/api/v1/templates/{template_id}/check", json={}, headers=_key(db, "sales")
    )
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert (result["template_id"], result["version"]) == (template_id, 1)
    assert (result["errors"], result["warnings"]) == (2, 2)
    found = {
        (f["code"], f["locale"], f["block"], f["block_kind"], f["line"]) for f in result["findings"]
    }
    assert found == {
        ("image_alt_missing", "en", 0, "raw", 6),
        ("link_not_https", "en", 0, "raw", 7),
        ("contrast_low", "en", 0, "raw", 7),
        ("text_too_little", "en", None, None, None),
    }
    contrast = next(f for f in result["findings"] if f["code"] == "contrast_low")
    assert contrast["message"] == "button text contrast 1.47:1, needs 4.5:1: #ffffff on #d1d5db"


def test_api_checks_given_variants_without_saving_them(
    client: Client, db: Session, template_id: int
) -> None:
    headers = _key(db, "marketer")
    body = {
        "variants": {
            "en": {
                "subject": "Hi",
                "body": CLEAN.replace("{{ unsubscribe_url }}", "https://example.net/u"),
            }
        }
    }
    answer = client.post(f"/api/v1/templates/{template_id}/check", json=body, headers=headers)
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["version"] is None
    assert [(f["code"], f["block"]) for f in result["findings"]] == [("unsubscribe_missing", None)]
    db.expire_all()
    assert get_template(db, template_id).current_version == 1
    saved = {
        "variants": {
            "en": {"subject": "Your guide", "body": FLAWED},
            "ru": {"subject": "Ваше руководство", "body": CLEAN.replace("Hello", "Здравствуйте")},
        }
    }
    same = client.post(f"/api/v1/templates/{template_id}/check", json=saved, headers=headers)
    assert same.json()["version"] == 1


def test_api_names_what_it_cannot_check(client: Client, db: Session, template_id: int) -> None:
    headers = _key(db, "marketer")
    unknown = client.post("/api/v1/templates/999999/check", json={}, headers=headers)
    assert unknown.status_code == 404
    bad_locale = {"variants": {"EN!": {"subject": "Hi", "body": CLEAN}}}
    refused = client.post(
        f"/api/v1/templates/{template_id}/check", json=bad_locale, headers=headers
    )
    assert refused.status_code == 422
    assert "variants" in refused.text
    broken = {
        "variants": {"en": {"subject": "Hi", "body": CLEAN.replace("</mj-text>", "", 1) + "{{ x."}}
    }
    answer = client.post(f"/api/v1/templates/{template_id}/check", json=broken, headers=headers)
    assert answer.status_code == 200, answer.text
    assert "template_error" in {f["code"] for f in answer.json()["findings"]}


def test_editor_loads_the_check_and_lists_the_unsaved_forms_findings(
    client: Client, db: Session, template_id: int
) -> None:
    sign_in(client, db, "marketer")
    page = client.get(f"/content/{template_id}", headers=HTML)
    assert f'hx-post="/content/{template_id}/check"' in page.text
    form = editor_form(FLAWED, name="Guide")
    form.update(active_locale="en", subject__ru="Тема", body__ru=CLEAN)
    shown = post_form(client, f"/content/{template_id}/check", form)
    assert shown.status_code == 200
    text = unescape(shown.text)
    assert "2 errors, 2 warnings." in text
    assert "Error:</strong> image without alt text" in text
    assert 'data-goto-line="6" data-goto-part="body">line 6</button>' in text
    assert "block 1, HTML/MJML" in text
    assert '<h3 class="check-locale">EN</h3>' in text
    assert "RU" not in text

    form["active_locale"] = "ru"
    other = unescape(post_form(client, f"/content/{template_id}/check", form).text)
    assert "data-goto-line" not in other
    assert "line 6)" in other

    form["body__en"] = CLEAN
    clean = post_form(client, f"/content/{template_id}/check", form)
    assert "No problems found in EN, RU." in clean.text
    db.expire_all()
    assert get_template(db, template_id).current_version == 1


def test_sales_reps_may_check_but_not_save(client: Client, db: Session, template_id: int) -> None:
    sign_in(client, db, "sales")
    shown = post_form(client, f"/content/{template_id}/check", editor_form(CLEAN))
    assert shown.status_code == 200
    assert "No problems found in EN." in shown.text


def test_colours_written_with_jinja_are_checked_in_the_brand_saved_under_settings(
    client: Client, db: Session, template_id: int
) -> None:
    brand.save(db, {"color": "#b91c1c"}, actor="test", base_url="https://mail.example")
    db.commit()
    dark = CLEAN.replace(
        "<mj-text>Hello",
        '<mj-text color="{{ brand.color }}" container-background-color="#000">Hello',
    )
    body = {"variants": {"en": {"subject": "Hi", "body": dark}}}
    answer = client.post(
        f"/api/v1/templates/{template_id}/check", json=body, headers=_key(db, "marketer")
    )
    assert answer.status_code == 200, answer.text
    assert [f["message"] for f in answer.json()["findings"]] == [
        "text contrast 3.24:1, needs 4.5:1: #b91c1c on #000000"
    ]
