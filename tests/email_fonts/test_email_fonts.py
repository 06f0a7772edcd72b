"""E-mail loads no third-party font unless the brand opts in to one, and then uses it."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path
from typing import Any

import pytest

from campaigns.email.mailconfig import MailConfig, default_brand
from nurture.config import Settings, SettingsError
from nurture.web.security_headers import CONTENT_SECURITY_POLICY
from templates.compile import SYSTEM_FONT_STACK
from templates.library import LIBRARY_DIR, StarterTemplate, Variant
from templates.render import RenderedEmail, compile_template
from tests.templates.helpers import mjml
from tests.templates_library.rendering import ALL_VARIANTS, VARIANT_IDS

BASE_URL = "https://mail.nurture.test"
SECRET = b"k" * 32
FONT_URL = "https://fonts.firm.example/css?family=Inter&display=swap"
# Where a web font could come from: a stylesheet link, a CSS import, a font service.
REMOTE_FONT = re.compile(r"<link[^>]*stylesheet|@import|fonts\.(googleapis|gstatic)\.com")
variants = pytest.mark.parametrize(("template", "variant"), ALL_VARIANTS, ids=VARIANT_IDS)


def _families(html: str) -> set[str]:
    styles = [unescape(style) for style in re.findall(r'style="([^"]*)"', html)]
    return {f.strip() for style in styles for f in re.findall(r"font-family:([^;]+)", style)}


def _render(variant: Variant, brand: dict[str, Any], *, fast: bool) -> RenderedEmail:
    compiled = compile_template(variant.subject, variant.preheader, variant.body)
    context = variant.sample_context()
    context.pop("unsubscribe_url", None)
    context["brand"] = brand
    render = compiled.render if fast else compiled.render_slow
    return render(context, message_id=1, base_url=BASE_URL, secret=SECRET, contact_id=2)


@variants
def test_a_starter_template_loads_no_font_and_uses_the_system_stack(
    template: StarterTemplate, variant: Variant
) -> None:
    html = _render(variant, default_brand("Acme Partners"), fast=True).html

    assert not REMOTE_FONT.search(html)
    assert SYSTEM_FONT_STACK in _families(html)


@variants
def test_a_brand_that_opts_in_to_a_web_font_gets_it_in_every_starter_template(
    template: StarterTemplate, variant: Variant
) -> None:
    brand = default_brand("Acme Partners", font_url=FONT_URL, font_family="Inter")
    for fast in (True, False):
        html = _render(variant, brand, fast=fast).html

        links = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
        assert [unescape(link) for link in links] == [FONT_URL]
        assert f"'Inter', {SYSTEM_FONT_STACK}" in _families(html)
        assert "googleapis" not in html


def test_a_template_that_names_no_font_gets_the_system_stack_not_mjmls_web_font() -> None:
    compiled = compile_template("s", "", mjml("<mj-text>Hello</mj-text><mj-button>Go</mj-button>"))
    html = compiled.render({}, message_id=1, base_url=BASE_URL, secret=SECRET).html

    assert not REMOTE_FONT.search(html)
    assert _families(html) == {SYSTEM_FONT_STACK}


def test_a_font_the_template_declares_itself_is_still_loaded() -> None:
    head = '<mj-font name="Lato" href="https://fonts.firm.example/lato.css" />'
    body = mjml('<mj-text font-family="Lato, Arial">Hello</mj-text>', head=head)
    html = (
        compile_template("s", "", body)
        .render({}, message_id=1, base_url=BASE_URL, secret=SECRET)
        .html
    )

    assert "https://fonts.firm.example/lato.css" in html


def test_the_shared_head_falls_back_to_the_same_system_stack() -> None:
    # A brand without font settings (an older copy, a hand-made context) renders the stack.
    head = (LIBRARY_DIR / "_shared" / "head.mjml").read_text()
    assert f"default('{SYSTEM_FONT_STACK}')" in head


def test_the_brand_font_settings_go_together_and_reach_the_brand(tmp_path: Path) -> None:
    env = {"NURTURE_DATA_DIR": str(tmp_path), "NURTURE_SECRET_KEY": "s" * 32}
    plain = MailConfig.from_settings(Settings.from_env(env)).brand
    assert (plain["font_url"], plain["font_family"]) == ("", SYSTEM_FONT_STACK)

    chosen = {**env, "NURTURE_BRAND_FONT_URL": FONT_URL, "NURTURE_BRAND_FONT_FAMILY": "Inter"}
    brand = MailConfig.from_settings(Settings.from_env(chosen)).brand
    assert (brand["font_url"], brand["font_family"]) == (FONT_URL, f"'Inter', {SYSTEM_FONT_STACK}")

    with pytest.raises(SettingsError, match="both"):
        Settings.from_env({**env, "NURTURE_BRAND_FONT_URL": FONT_URL})
    with pytest.raises(SettingsError, match="https"):
        Settings.from_env({**chosen, "NURTURE_BRAND_FONT_URL": "http://fonts.firm.example/a.css"})
    with pytest.raises(SettingsError, match="family"):
        Settings.from_env({**chosen, "NURTURE_BRAND_FONT_FAMILY": "Inter'; color: red"})


def test_the_pages_no_longer_allow_google_fonts() -> None:
    assert "googleapis" not in CONTENT_SECURITY_POLICY
    assert "gstatic" not in CONTENT_SECURITY_POLICY
    directives = dict(d.split(" ", 1) for d in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["font-src"] == "'self' data:"
