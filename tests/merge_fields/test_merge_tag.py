"""The Jinja the personalisation picker writes: readable, and safe whatever the fallback."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jinja2 import Environment, nodes

from templates.merge_fields import FIELDS, GROUPS, MAX_FALLBACK, field, merge_tag
from templates.sandbox import environment

HOSTILE = [
    "there's",
    'say "hi"',
    "back\\slash\\",
    "\\'",
    "{{ rep.email }}",
    "}} {{ 7*7 }}",
    "{% for x in [1] %}loop{% endfor %}",
    "{# comment",
    "<script>alert(1)</script>",
    "</mj-text><mj-raw>x</mj-raw>",
    "&amp; &lt;",
    "line\nbreak\ttab\r",
    "\x00nul",
    "ça va, коллега 😀",
    "\u2028\u2029",
]


def render(source: str, values: dict[str, object], *, html: bool) -> str:
    return environment(html=html).from_string(source).render(values)


def test_the_tag_names_the_field_and_its_fallback_plainly() -> None:
    assert merge_tag("contact.first_name", "there") == (
        "{{ contact.first_name | default('there', true) }}"
    )
    assert merge_tag("contact.company.name") == "{{ contact.company.name }}"


def test_the_fallback_shows_when_the_value_is_missing_or_empty() -> None:
    tag = merge_tag("contact.first_name", "there")
    for value in (None, ""):
        assert render(f"Hi {tag}!", {"contact": {"first_name": value}}, html=True) == "Hi there!"
    assert render(f"Hi {tag}!", {"contact": {"first_name": "Ada"}}, html=True) == "Hi Ada!"


@pytest.mark.parametrize("fallback", HOSTILE)
def test_no_fallback_breaks_out_of_its_literal(fallback: str) -> None:
    tag = merge_tag("contact.first_name", fallback)
    # Nothing Jinja, MJML or HTML reads as syntax is left in the source.
    prefix, suffix = "{{ contact.first_name | default('", "', true) }}"
    assert tag.startswith(prefix)
    assert tag.endswith(suffix)
    literal = tag.removeprefix(prefix).removesuffix(suffix)
    for char in "'\"<>{}%#&\n\r\x00\u2028":
        assert char not in literal
    # One output of one `default` call whose argument is the fallback, exactly.
    tree = Environment(autoescape=True).parse(tag)
    (output,) = tree.body
    assert isinstance(output, nodes.Output)
    (node,) = output.nodes
    assert isinstance(node, nodes.Filter)
    assert node.name == "default"
    assert [a.as_const() for a in node.args] == [fallback, True]
    missing = {"contact": {"first_name": None}, "rep": {"email": "r@example.com"}}
    assert render(tag, missing, html=False) == fallback
    escaped = render(tag, missing, html=True)
    assert "<script" not in escaped
    assert "<mj-raw" not in escaped
    assert render(tag, {"contact": {"first_name": "Ada"}}, html=True) == "Ada"


@given(st.text(max_size=MAX_FALLBACK))
def test_any_fallback_prints_as_itself(fallback: str) -> None:
    tag = merge_tag("contact.title", fallback)
    printed = render(tag, {"contact": {"title": None}}, html=False)
    assert printed == fallback


def test_unknown_paths_and_long_fallbacks_are_refused() -> None:
    with pytest.raises(ValueError, match="not a personalisation field"):
        merge_tag("contact.favourite_colour", "blue")
    with pytest.raises(ValueError, match="not a personalisation field"):
        merge_tag("contact.first_name }}{{ rep.email", "")
    with pytest.raises(ValueError, match="longer than"):
        merge_tag("contact.first_name", "x" * (MAX_FALLBACK + 1))


def test_every_field_is_labelled_in_both_languages() -> None:
    paths = [f.path for f in FIELDS]
    assert len(paths) == len(set(paths))
    for f in FIELDS:
        assert f.label("en")
        assert f.label("ru")
        assert f.label("en") != f.label("ru")
        assert f.sample
        assert field(f.path) is f
        assert f.group in GROUPS
    first = field("contact.first_name")
    assert first is not None
    assert first.fallback("en") == "there"
    assert first.fallback("ru-RU") == "коллега"
