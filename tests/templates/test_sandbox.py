"""The sandbox refuses what could reach Python internals, files or other data."""

from __future__ import annotations

import pytest

from templates.context import sample_context
from templates.problems import TemplateInvalid, TemplateRenderError
from templates.render import compile_template
from tests.templates.helpers import BASE_URL, SECRET, mjml

PAYLOADS = [
    ("{{ ''.__class__.__mro__ }}", "'__class__' is not allowed"),
    ("{{ config }}", "unknown name 'config'"),
    ("{{ cycler.__init__.__globals__ }}", "'__init__' is not allowed"),
    ("{{ self }}", "unknown name 'self'"),
    ("{{ lipsum.__globals__ }}", "'__globals__' is not allowed"),
    ("{{ contact['__class__'] }}", "'__class__' is not allowed"),
    ("{{ contact | attr('__class__') }}", "No filter named 'attr'"),
    ("{{ request }}", "unknown name 'request'"),
    ("{{ namespace }}", "unknown name 'namespace'"),
    ("{% include '/etc/passwd' %}", "{% include %} is not allowed"),
    ("{% import 'macros.html' as m %}", "{% import %} is not allowed"),
    ("{% from 'macros.html' import x %}", "{% from ... import %} is not allowed"),
    ("{% extends 'base.html' %}", "{% extends %} is not allowed"),
]


@pytest.mark.parametrize(("payload", "message"), PAYLOADS)
def test_sandbox_refuses_payload_in_body_at_compile_time(payload: str, message: str) -> None:
    source = mjml(f"<mj-text>\nHello\n{payload}\n</mj-text>")
    with pytest.raises(TemplateInvalid) as caught:
        compile_template("Subject", "", source)
    problems = caught.value.template_problems
    assert any(message in p.message and p.part == "body" for p in problems), problems
    # The payload is on line 8 of the document (see mjml()).
    assert any(p.line == 8 for p in problems), problems


@pytest.mark.parametrize(("payload", "message"), PAYLOADS)
def test_sandbox_refuses_payload_in_subject(payload: str, message: str) -> None:
    with pytest.raises(TemplateInvalid) as caught:
        compile_template(f"Hi {payload}", "", mjml("<mj-text>x</mj-text>"))
    assert any(
        message in p.message and p.part == "subject" and p.line == 1
        for p in caught.value.template_problems
    )


def test_refusal_reads_as_a_clear_invalid_input_error() -> None:
    with pytest.raises(TemplateInvalid) as caught:
        compile_template("{{ config }}", "", mjml("<mj-text>x</mj-text>"))
    assert str(caught.value).startswith("subject: line 1: unknown name 'config'")


def test_mjml_include_is_refused_with_its_line() -> None:
    source = mjml('<mj-include path="/etc/passwd" />')
    with pytest.raises(TemplateInvalid) as caught:
        compile_template("s", "", source)
    (problem,) = caught.value.template_problems
    assert problem.line == 6
    assert "mj-include" in problem.message


def test_underscore_attribute_reached_dynamically_is_refused_at_render() -> None:
    compiled = compile_template("s", "", mjml("<mj-text>{{ contact[links.key] }}</mj-text>"))
    context = sample_context() | {"links": {"key": "__class__"}}
    with pytest.raises(TemplateRenderError):
        compiled.render(context, message_id=1, base_url=BASE_URL, secret=SECRET)


def test_huge_repetition_is_refused_rather_than_rendered() -> None:
    compiled = compile_template("{{ 'a' * 10000000 }}", "", mjml("<mj-text>x</mj-text>"))
    with pytest.raises(TemplateRenderError) as caught:
        compiled.render(sample_context(), message_id=1, base_url=BASE_URL, secret=SECRET)
    assert "too long" in str(caught.value)


def test_template_cannot_be_given_objects_instead_of_plain_data() -> None:
    compiled = compile_template("s", "", mjml("<mj-text>{{ contact.email }}</mj-text>"))
    with pytest.raises(TypeError, match="contact"):
        compiled.render({"contact": object()}, message_id=1, base_url=BASE_URL, secret=SECRET)


def test_template_cannot_be_given_names_outside_the_allowed_roots() -> None:
    compiled = compile_template("s", "", mjml("<mj-text>x</mj-text>"))
    with pytest.raises(TypeError, match="settings"):
        compiled.render({"settings": {}}, message_id=1, base_url=BASE_URL, secret=SECRET)


def test_jinja_syntax_error_reports_part_and_line() -> None:
    source = mjml("<mj-text>\nHello\n{% if contact.first_name %}\nno end\n</mj-text>")
    with pytest.raises(TemplateInvalid) as caught:
        compile_template("Hi {{ contact.first_name", "", source)
    by_part = {p.part: p for p in caught.value.template_problems}
    assert by_part["subject"].line == 1
    assert by_part["body"].line == 8  # the {% if %} that is never closed
    assert "endif" in by_part["body"].message


def test_syntax_error_line_in_text_body() -> None:
    with pytest.raises(TemplateInvalid) as caught:
        compile_template("s", "", mjml("<mj-text>x</mj-text>"), "line one\nline two {{ }}\n")
    (problem,) = caught.value.template_problems
    assert (problem.part, problem.line) == ("text", 2)


def test_undefined_variable_is_flagged_with_its_name_and_line() -> None:
    source = mjml("<mj-text>\nHello {{ contact.first_name }}\n{{ contact.nickname }}\n</mj-text>")
    with pytest.raises(TemplateInvalid) as caught:
        compile_template("s", "", source, sample_context=sample_context())
    (problem,) = caught.value.template_problems
    assert problem.part == "body"
    assert problem.line == 8
    assert "'nickname' is undefined" in problem.message


def test_undefined_variable_in_subject_is_flagged() -> None:
    compiled = compile_template("Hi {{ webinar.speaker }}", "", mjml("<mj-text>x</mj-text>"))
    (problem,) = compiled.check(sample_context())
    assert (problem.part, problem.line) == ("subject", 1)
    assert "speaker" in problem.message


def test_default_filter_covers_a_missing_value() -> None:
    compiled = compile_template(
        "Hi {{ contact.nickname | default('there') }}", "", mjml("<mj-text>x</mj-text>")
    )
    rendered = compiled.render(sample_context(), message_id=1, base_url=BASE_URL, secret=SECRET)
    assert rendered.subject == "Hi there"


def test_missing_optional_field_renders_as_nothing() -> None:
    context = sample_context()
    context["contact"]["title"] = None
    compiled = compile_template("[{{ contact.title }}]", "", mjml("<mj-text>x</mj-text>"))
    rendered = compiled.render(context, message_id=1, base_url=BASE_URL, secret=SECRET)
    assert rendered.subject == "[]"


def test_values_are_html_escaped_in_the_body_but_not_in_the_subject() -> None:
    context = sample_context()
    context["contact"]["first_name"] = "<b>Ann</b> & Co"
    compiled = compile_template(
        "Hi {{ contact.first_name }}", "", mjml("<mj-text>Hi {{ contact.first_name }}</mj-text>")
    )
    rendered = compiled.render(context, message_id=1, base_url=BASE_URL, secret=SECRET)
    assert rendered.subject == "Hi <b>Ann</b> & Co"
    assert "Hi &lt;b&gt;Ann&lt;/b&gt; &amp; Co" in rendered.html
    assert "<b>Ann</b>" not in rendered.html


def test_subject_cannot_inject_headers() -> None:
    context = sample_context()
    context["contact"]["first_name"] = "Ann\r\nBcc: victim@example.com"
    compiled = compile_template("Hi {{ contact.first_name }}", "", mjml("<mj-text>x</mj-text>"))
    rendered = compiled.render(context, message_id=1, base_url=BASE_URL, secret=SECRET)
    assert "\n" not in rendered.subject
    assert "\r" not in rendered.subject


def test_date_filter_formats_russian_month_names() -> None:
    compiled = compile_template(
        "{{ webinar.starts_at | date('%-d %B %Y', 'ru') }}", "", mjml("<mj-text>x</mj-text>")
    )
    rendered = compiled.render(sample_context(), message_id=1, base_url=BASE_URL, secret=SECRET)
    assert rendered.subject == "5 марта 2030"
