"""The pre-save check's findings from MJML source and rendered HTML, each at its block."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from templates.blocks import Block, write_block
from templates.checks import Finding, block_at_line, check_variant
from templates.contrast import luminance, parse_colour, ratio, shown
from templates.library import starter_templates
from tests.template_check.helpers import CONTEXT, document, section


def _check(mjml: str, html: str | None = None, *, marketing: bool = True) -> list[Finding]:
    return check_variant(locale="en", mjml=mjml, html=html, context=CONTEXT, marketing=marketing)


def _codes(findings: list[Finding]) -> list[tuple[str, str, int | None]]:
    return [(f.code, f.severity, f.block) for f in findings]


def test_a_plain_document_with_an_unsubscribe_link_is_clean() -> None:
    assert _check(document()) == []


def test_an_image_without_alt_is_an_error_at_its_block_and_line() -> None:
    image = write_block(Block.make("image", src="https://firm.example/i.png"))
    mjml = document(section("<mj-spacer />"), image)
    findings = _check(mjml)
    assert _codes(findings) == [("image_alt_missing", "error", 2)]
    assert findings[0].block_kind == "image"
    assert findings[0].line == mjml.splitlines().index(image.splitlines()[2]) + 1
    described = write_block(Block.make("image", src="https://firm.example/i.png", alt="A chart"))
    assert _check(document(described)) == []


def test_empty_alt_is_a_warning_unless_marked_decorative_and_an_error_on_a_link() -> None:
    plain = section('<mj-image src="https://f.example/a.png" alt="" />')
    decorative = section(
        '<mj-image src="https://f.example/a.png" alt="" css-class="nb-decorative" />'
    )
    linked = section('<mj-image src="https://f.example/a.png" alt=" " href="https://f.example" />')
    inline = section('<mj-text>See <img src="https://f.example/b.png"> here</mj-text>')
    findings = _check(document(plain, decorative, linked, inline))
    assert _codes(findings) == [
        ("image_alt_empty", "warning", 1),
        ("image_alt_empty", "error", 3),
        ("image_alt_missing", "error", 4),
    ]
    assert "image in the text" in findings[2].message


def test_links_judged_by_their_fixed_start_or_their_sample_value() -> None:
    links = section(
        "<mj-text>"
        '<a href="http://firm.example/x">plain http</a> '
        '<a href="javascript:alert(1)">script</a> '
        '<a href=" JavaScript:alert(1)">script again</a> '
        '<a href="https://firm.example/{{ article.plain }}">fixed https start</a> '
        '<a href="{{ article.url }}">sample https</a> '
        '<a href="{{ article.plain }}">sample http</a> '
        '<a href="mailto:a@firm.example">mail</a> <a href="tel:+4412">call</a> '
        '<a href="/relative">relative</a> <a href="{{ nobody.knows }}">unknown</a>'
        "</mj-text>"
    )
    button = section('<mj-button href="http://{{ article.url }}">Go</mj-button>')
    findings = _check(document(links, button))
    assert _codes(findings) == [
        ("link_not_https", "warning", 1),
        ("link_script", "error", 1),
        ("link_script", "error", 1),
        ("link_not_https", "warning", 1),
        ("link_not_https", "warning", 1),
        ("link_not_https", "warning", 2),
    ]
    assert "http://firm.example/x" in findings[0].message
    assert "{{ article.plain }}" in findings[3].message
    assert "relative" in findings[4].message


def test_marketing_mail_needs_the_unsubscribe_link_and_internal_mail_does_not() -> None:
    bare = document(unsubscribe=False)
    assert _codes(_check(bare)) == [("unsubscribe_missing", "error", None)]
    assert _check(bare, marketing=False) == []
    choose = section('<mj-text><a href="{{preferences_url}}">Choose</a></mj-text>')
    preferences = document(choose, unsubscribe=False)
    assert _check(preferences) == []
    # Only a link counts: the name in the text is not a way out.
    in_text = document(section("<mj-text>{{ unsubscribe_url }}</mj-text>"), unsubscribe=False)
    assert _codes(_check(in_text)) == [("unsubscribe_missing", "error", None)]


def test_contrast_reads_defaults_classes_backgrounds_and_the_brand() -> None:
    quiet = section('<mj-text mj-class="quiet">Grey small print</mj-text>')
    on_dark = section("<mj-text>Dark on dark</mj-text>", ' background-color="#1f2937"')
    panel = section('<mj-text color="#ffffff">White on a dark class</mj-text>')
    panel = panel.replace("<mj-column>", '<mj-column mj-class="dark">')
    # 3.03:1 is enough for large text.
    large = section('<mj-text mj-class="quiet" color="#949494" font-size="24px">Big</mj-text>')
    findings = _check(document(quiet, on_dark, panel, large))
    assert _codes(findings) == [("contrast_low", "error", 1), ("contrast_low", "error", 2)]
    assert findings[0].message == "text contrast 2.53:1, needs 4.5:1: #9ca3af on #ffffff"
    assert findings[1].message.endswith("#1f2937 on #1f2937")


def test_large_text_needs_three_to_one_and_bold_makes_it_large_sooner() -> None:
    grey = "#949494"  # 3.03:1 on white
    normal = section(f'<mj-text color="{grey}" font-size="19px">Normal</mj-text>')
    bold = section(f'<mj-text color="{grey}" font-size="19px" font-weight="700">Bold</mj-text>')
    big = section(f'<mj-text color="{grey}" font-size="24px">Big</mj-text>')
    findings = _check(document(normal, bold, big))
    assert _codes(findings) == [("contrast_low", "error", 1)]
    assert "needs 4.5:1" in findings[0].message


def test_button_text_against_the_brand_colour_of_the_render_context() -> None:
    button = section('<mj-button background-color="{{ brand.color }}">Go</mj-button>')
    assert _check(document(button)) == []
    pale = {**CONTEXT, "brand": {"color": "#93c5fd"}}
    findings = check_variant(
        locale="ru", mjml=document(button), html=None, context=pale, marketing=True
    )
    assert [f.message for f in findings if f.block == 1] == [
        "button text contrast 1.8:1, needs 4.5:1: #ffffff on #93c5fd"
    ]
    assert findings[0].locale == "ru"


def test_links_in_text_use_the_head_link_colour_and_inline_colours() -> None:
    pale = {**CONTEXT, "brand": {"color": "#a5b4fc"}}
    text = section(
        '<mj-text><a href="https://f.example">styled by the head</a> '
        '<span style="color: #d1d5db">pale span</span> '
        '<a href="https://f.example" style="background-color:#b91c1c;color:#ffffff">chip</a>'
        "</mj-text>"
    )
    findings = check_variant(
        locale="en", mjml=document(text), html=None, context=pale, marketing=True
    )
    assert [f.message.split(":")[0] for f in findings] == [
        "link contrast 1.99",
        "text contrast 1.47",
    ]


def test_html_size_near_and_over_gmail_clipping() -> None:
    filler = "<p>" + "word " * 200 + "</p>"
    small = "<html><body>" + filler + "</body></html>"
    assert _check(document(), small) == []
    near = "<html><body>" + filler * 90 + "</body></html>"
    assert _codes(_check(document(), near)) == [("html_near_clipping", "warning", None)]
    over = "<html><body>" + filler * 102 + "</body></html>"
    (finding,) = _check(document(), over)
    assert (finding.code, finding.severity) == ("html_clipped", "error")
    assert "102.7 KB" in finding.message


def test_size_counts_utf8_bytes_not_characters() -> None:
    cyrillic = "<html><body><p>" + "слово " * 8500 + "</p></body></html>"
    assert len(cyrillic) < 90_000 < len(cyrillic.encode("utf-8"))
    assert [f.code for f in _check(document(), cyrillic)] == ["html_near_clipping"]


def test_too_little_text_for_the_images_counts_only_what_a_reader_sees() -> None:
    images = '<img src="https://f.example/a.png" alt="a">' * 2
    pixel = '<img src="https://f.example/o" width="1" height="1" alt="">'
    hidden = '<div style="display:none">' + "hidden preheader " * 100 + "</div>"
    head = f"<head><title>{'t' * 900}</title></head>"
    thin = f"<html>{head}<body>{hidden}{images}{pixel}<p>{'x' * 799}</p></body></html>"
    (finding,) = _check(document(), thin)
    assert finding.code == "text_too_little"
    assert "799 characters of text for 2 images (399 per image" in finding.message
    enough = thin.replace("x" * 799, "x" * 800)
    assert _check(document(), enough) == []
    assert _check(document(), "<html><body><p>Short, no images.</p></body></html>") == []


def test_a_finding_outside_any_block_and_lines_to_blocks() -> None:
    mjml = document(section("<mj-text>Second</mj-text>"))
    lines = mjml.splitlines()
    text_start = lines.index('    <mj-section css-class="nb-text pad">') + 1
    second = next(n for n, line in enumerate(lines, 1) if "Second" in line)
    assert block_at_line(mjml, 2) == (None, None)
    assert block_at_line(mjml, text_start) == (0, "text")
    assert block_at_line(mjml, text_start + 4) == (0, "text")
    assert block_at_line(mjml, second) == (1, "raw")
    assert block_at_line(mjml, second + 1) == (2, "raw")
    assert block_at_line(mjml, len(lines)) == (None, None)
    assert block_at_line(mjml, None) == (None, None)
    spread = document(section("\n<mj-text>\nTwo\nlines</mj-text>\n"))
    assert [block_at_line(spread, n)[0] for n in range(second - 1, second + 5)] == [
        0,
        1,
        1,
        1,
        1,
        1,
    ]


def test_broken_source_gives_what_can_be_read() -> None:
    assert _check("not mjml at all", marketing=False) == []
    assert _codes(_check("<mjml><mj-body><mj-section><mj-column><mj-image src='x'>")) == [
        ("image_alt_missing", "error", 0),
        ("unsubscribe_missing", "error", None),
    ]


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        ("#000000", "#ffffff", "21:1"),
        ("#ffffff", "#ffffff", "1:1"),
        ("#767676", "#ffffff", "4.54:1"),
        ("#777777", "#ffffff", "4.47:1"),
        ("#6b7280", "#f3f4f6", "4.39:1"),
        ("rgb(36, 83, 212)", "white", "6.43:1"),
    ],
)
def test_contrast_ratios_match_the_wcag_reference_values(
    first: str, second: str, expected: str
) -> None:
    a, b = parse_colour(first), parse_colour(second)
    assert a is not None
    assert b is not None
    assert shown(ratio(a, b)) == expected


def test_colours_we_cannot_read_are_unknown_not_guessed() -> None:
    unreadable = ("transparent", "rgba(0,0,0,0.5)", "var(--x)", "#12", "linear-gradient(red, blue)")
    for value in unreadable:
        assert parse_colour(value) is None
    assert parse_colour("#FFF !important") == (255, 255, 255)
    assert luminance((255, 255, 255)) == pytest.approx(1.0)


_STARTER_BODIES = [v.body for t in starter_templates() for v in t.variants.values()]
_JUNK = st.text(
    alphabet=st.one_of(
        st.sampled_from(list('<>/"=}{%#- mj-textsectionahref:img')), st.characters()
    ),
    max_size=40,
)


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(st.sampled_from(_STARTER_BODIES), st.integers(0, 30_000), st.integers(0, 200), _JUNK)
def test_the_check_reads_any_mangled_source_without_failing(
    body: str, at: int, cut: int, junk: str
) -> None:
    at %= len(body) + 1
    mangled = body[:at] + junk + body[at + cut :]
    findings = check_variant(
        locale="en", mjml=mangled, html=f"<p>{junk}", context=CONTEXT, marketing=True
    )
    assert all(f.block is None or f.block >= 0 for f in findings)
    block_at_line(mangled, at % 120)
