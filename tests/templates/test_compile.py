"""MJML is checked with line numbers, compiled once, and the fast path equals the exact one."""

from __future__ import annotations

import pytest

from benchmarks.render import bulk_context, bulk_template
from templates.context import sample_context
from templates.problems import TemplateInvalid
from templates.render import CompiledTemplate, compile_template
from tests.templates.helpers import BASE_URL, SECRET, mjml, squeeze


def _problems(body: str) -> list[tuple[int | None, str]]:
    with pytest.raises(TemplateInvalid) as caught:
        compile_template("s", "", body)
    return [(p.line, p.message) for p in caught.value.template_problems]


def test_misspelt_closing_tag_is_reported_on_its_line() -> None:
    body = "<mjml>\n<mj-body>\n<mj-section>\n<mj-column>\n<mj-text>x</mj-tex>\n</mj-column>\n"
    body += "</mj-section>\n</mj-body>\n</mjml>\n"
    ((line, message),) = _problems(body)
    assert line == 5
    assert "<mj-text> is never closed" in message


def test_unknown_element_is_reported_on_its_line() -> None:
    ((line, message),) = _problems(mjml("<mj-text>a</mj-text>\n<mj-txet>b</mj-txet>"))
    assert (line, message) == (7, "unknown element <mj-txet>")


def test_unclosed_section_is_reported_where_it_opens() -> None:
    body = "<mjml>\n<mj-body>\n<mj-section>\n<mj-column>\n<mj-text>x</mj-text>\n</mj-column>\n"
    body += "</mj-body>\n</mjml>\n"
    problems = _problems(body)
    assert (7, "</mj-body> does not match <mj-section>") in problems


def test_unclosed_attribute_quote_is_reported_on_its_line() -> None:
    problems = _problems(
        mjml('<mj-text>ok</mj-text>\n<mj-button href="https://x.test>Go</mj-button>')
    )
    assert problems[0][0] == 7
    assert "malformed tag" in problems[0][1]


def test_html_outside_a_text_element_is_reported() -> None:
    ((line, message),) = _problems(mjml("<p>loose</p>"))
    assert line == 6
    assert "<p> must be inside" in message


def test_body_that_is_not_mjml_is_refused() -> None:
    problems = _problems("<html><body>hi</body></html>")
    assert problems
    assert all(line == 1 for line, _ in problems)


def test_jinja_comparisons_do_not_confuse_mjml() -> None:
    body = mjml("<mj-text>{% if 1 < 2 %}small{% endif %} {{ 3 > 2 }}</mj-text>")
    compiled = compile_template("s", "", body)
    assert compiled.fast
    rendered = compiled.render({}, message_id=1, base_url=BASE_URL, secret=SECRET)
    assert "small True" in rendered.html


def test_mjml_compiles_once_and_renders_per_contact_by_the_fast_path() -> None:
    compiled = compile_template("s", "", bulk_template())
    assert compiled.fast
    assert compiled.fallback_reason is None


def _both(compiled: CompiledTemplate, context: dict[str, object]) -> None:
    kwargs = {"message_id": 77, "contact_id": 5, "base_url": BASE_URL, "secret": SECRET}
    fast = compiled.render(context, **kwargs)  # type: ignore[arg-type]
    exact = compiled.render_slow(context, **kwargs)  # type: ignore[arg-type]
    assert squeeze(fast.html) == squeeze(exact.html)
    assert fast.text == exact.text
    assert fast.links == exact.links
    assert fast.subject == exact.subject
    assert fast.unsubscribe_url == exact.unsubscribe_url


@pytest.mark.parametrize("n", [0, 1, 2, 3])
def test_fast_path_and_exact_path_give_the_same_email(n: int) -> None:
    compiled = compile_template(
        "Hi {{ contact.first_name }}", "Pre {{ brand.name }}", bulk_template()
    )
    assert compiled.fast
    _both(compiled, bulk_context(n))


def test_fast_and_exact_paths_agree_on_loops_conditions_and_escaping() -> None:
    body = mjml(
        '<mj-text><p>Dear {{ contact.first_name }} &amp; "{{ contact.company.name }}"</p>\n'
        "{% if contact.title %}<p>As {{ contact.title }}:</p>{% endif %}\n"
        "<ul>{% for x in ['a&b', '<c>'] %}<li>{{ x }}</li>{% endfor %}</ul></mj-text>\n"
        "{% for n in [1, 2] %}"
        '<mj-button href="https://x.test/?n={{ n }}&amp;e={{ contact.email | urlencode }}">'
        "Go {{ n }}</mj-button>{% endfor %}\n"
        '<mj-text><a href="{{ case_study.url }}">{{ case_study.title }}</a> '
        '<a href="{{case_study.url}}">{{ case_study.url }}</a> '
        '<a href="mailto:{{ rep.email }}">mail</a> '
        '<a href="https://x.test/quiet" data-notrack>quiet</a> '
        '<a href="{{ unsubscribe_url }}">Unsubscribe</a></mj-text>'
    )
    context = sample_context()
    context["contact"]["first_name"] = "O'Brien <Ann>"
    compiled = compile_template("s", "Preview & more", body)
    assert compiled.fast
    _both(compiled, context)
    context["contact"]["title"] = None
    _both(compiled, context)


def test_loop_over_columns_falls_back_to_jinja_then_mjml() -> None:
    body = (
        "<mjml><mj-body><mj-section>\n"
        "{% for c in ['a', 'b', 'c'] %}<mj-column><mj-text>{{ c }}</mj-text></mj-column>"
        "{% endfor %}\n</mj-section></mj-body></mjml>"
    )
    compiled = compile_template("s", "", body)
    assert not compiled.fast
    assert "line 2" in (compiled.fallback_reason or "")
    rendered = compiled.render({}, message_id=1, base_url=BASE_URL, secret=SECRET)
    # Three real columns, each a third wide: only compiling after Jinja gets this right.
    assert "mj-column-per-33" in rendered.html


def test_condition_in_head_falls_back_and_still_renders() -> None:
    body = (
        "<mjml><mj-head>{% if brand.name %}<mj-title>{{ brand.name }}</mj-title>{% endif %}"
        "</mj-head><mj-body><mj-section><mj-column><mj-text>x</mj-text></mj-column>"
        "</mj-section></mj-body></mjml>"
    )
    compiled = compile_template("s", "", body)
    assert not compiled.fast
    rendered = compiled.render(
        {"brand": {"name": "Acme"}}, message_id=1, base_url=BASE_URL, secret=SECRET
    )
    assert "<title>Acme</title>" in rendered.html


def test_expression_that_mjml_interprets_falls_back() -> None:
    body = mjml('<mj-image width="{{ links.width }}" src="https://x.test/i.png" />')
    compiled = compile_template("s", "", body)
    assert not compiled.fast
    rendered = compiled.render(
        {"links": {"width": "120px"}}, message_id=1, base_url=BASE_URL, secret=SECRET
    )
    assert 'width="120"' in rendered.html


def test_render_error_on_fast_path_names_the_source_line() -> None:
    compiled = compile_template("s", "", mjml("<mj-text>\n{{ contact.nickname }}\n</mj-text>"))
    assert compiled.fast
    with pytest.raises(Exception, match="nickname") as caught:
        compiled.render(sample_context(), message_id=1, base_url=BASE_URL, secret=SECRET)
    assert "line 7" in str(caught.value)


def test_preheader_is_hidden_at_the_top_of_the_body_and_out_of_the_text() -> None:
    compiled = compile_template("s", "Read {{ brand.name }} news", mjml("<mj-text>Body</mj-text>"))
    rendered = compiled.render(
        {"brand": {"name": "Acme"}}, message_id=1, base_url=BASE_URL, secret=SECRET
    )
    body_at = rendered.html.index("<body")
    assert rendered.html.index("Read Acme news") > body_at
    assert "display:none" in rendered.html[body_at : rendered.html.index("Read Acme news")]
    assert rendered.preheader == "Read Acme news"
    assert "Read Acme news" not in rendered.text
    assert rendered.text.strip() == "Body"


def test_starter_library_renders_the_same_on_both_paths() -> None:
    from templates.library import starter_templates

    for starter in starter_templates():
        for variant in starter.variants.values():
            compiled = compile_template(variant.subject, variant.preheader, variant.body)
            assert compiled.fast, (starter.name, compiled.fallback_reason)
            _both(compiled, variant.sample_context())
