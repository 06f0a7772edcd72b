"""Settings → Brand: marketers save it (errors named by field, nothing half-saved), and a
public page shows the saved brand at once."""

from __future__ import annotations

from sqlalchemy.orm import Session

from campaigns.email import brand
from nurture.config import Settings
from templates.tokens import TokenSigner
from tests.factories import make_user
from tests.ui.helpers import HTML, Client, login, post_form

GOOD = {
    "name": "Keller Brandt",
    "color": "#1d4ed8",
    "logo_url": "https://cdn.keller.example/logo.png",
    "address": "Ring 1, Vienna",
    "font": "verdana",
}


def test_a_marketer_saves_the_brand_and_public_pages_show_it(
    client: Client, db: Session, settings: Settings
) -> None:
    # A test send's unsubscribe link: a public page that names no contact.
    public_page = "/u/" + TokenSigner(settings.secret_key).unsubscribe(0)
    user = make_user(db, role="marketer")
    db.commit()
    login(client, user)
    page = client.get("/settings/brand", headers=HTML)
    assert page.status_code == 200
    assert 'aria-current="page">Brand<' in page.text
    before = client.get(public_page, headers=HTML)
    assert before.status_code == 200
    assert "Keller Brandt" not in before.text

    saved = post_form(client, "/settings/brand", GOOD)
    assert saved.status_code == 303
    assert saved.headers["location"] == "/settings/brand?saved=1"
    shown = client.get(saved.headers["location"], headers=HTML).text
    assert "Brand saved" in shown
    assert 'value="#1d4ed8"' in shown
    assert '<option value="verdana" selected>' in shown
    db.expire_all()
    assert brand.stored(db).name == "Keller Brandt"

    public = client.get(public_page, headers=HTML)
    assert "Keller Brandt" in public.text
    assert "--brand: #1d4ed8" in public.text
    assert "https://cdn.keller.example/logo.png" in public.text


def test_bad_fields_are_named_and_nothing_is_saved(client: Client, db: Session) -> None:
    user = make_user(db, role="admin")
    db.commit()
    login(client, user)
    refused = post_form(
        client,
        "/settings/brand",
        {**GOOD, "color": "#ffcc00", "logo_url": "http://x.example/l.png"},
    )
    assert refused.status_code == 422
    assert "Nothing was saved" in refused.text
    assert "too light for white button text" in refused.text
    assert 'id="berr-color"' in refused.text
    assert "must start with https://" in refused.text
    # What was typed stays in the form.
    assert 'value="Keller Brandt"' in refused.text
    db.expire_all()
    assert brand.stored(db) == brand.BrandForm()


def test_sales_reps_do_not_see_the_brand_tab(client: Client, db: Session) -> None:
    user = make_user(db, role="sales")
    db.commit()
    login(client, user)
    assert client.get("/settings/brand", headers=HTML).status_code == 403
    assert "/settings/brand" not in client.get("/settings", headers=HTML).text
