"""Rendering budgets: a template that would exhaust memory or CPU is refused, naming the limit.

Memory is measured with tracemalloc (the peak while rendering) and work by the
limit that stopped it, so "refused quickly" is shown without timing the test.
"""

from __future__ import annotations

import tracemalloc

import pytest

from templates import budgets
from templates.context import sample_context
from templates.problems import TemplateInvalid, TemplateRenderError
from templates.render import CompiledTemplate, compile_template
from tests.templates.helpers import BASE_URL, SECRET, mjml

VALUE = "a value over 1,000,000 characters or items"
STEPS = "more than 200,000 loop iterations and calls (the budget)"
OUTPUT = "output over 2,000,000 characters (the budget)"

# Each of these builds tens of megabytes or runs millions of iterations unchecked.
PAYLOADS = [
    pytest.param('{{ ("x"*10000)|replace("x","x"*2000)|length }}', VALUE, id="replace-filter"),
    pytest.param('{{ ("%050000000d"|format(1))|length }}', VALUE, id="format-filter"),
    pytest.param(
        '{% for i in "x"*6000 %}{% for j in "x"*6000 %}{% endfor %}{% endfor %}',
        STEPS,
        id="nested-loops",
    ),
    pytest.param(
        '{% for i in "x"*60000 %}{% for j in "x"*60000 if j == "y" %}{% endfor %}{% endfor %}',
        STEPS,
        id="loops-whose-test-is-never-true",
    ),
    pytest.param('{{ ("%050000000d" % 1)|length }}', VALUE, id="percent-operator"),
    pytest.param('{{ ("%.50000000f" % 1.5)|length }}', VALUE, id="percent-precision"),
    pytest.param('{{ "%*d" % (50000000, 1) }}', "'*' width", id="percent-star-width"),
    pytest.param('{{ "{:>50000000}".format(1)|length }}', VALUE, id="str-format-width"),
    pytest.param('{{ "{:{w}}".format(1, w=50000000) }}', "width taken", id="str-format-nested"),
    pytest.param('{{ "x".center(50000000)|length }}', VALUE, id="center"),
    pytest.param('{{ "x".zfill(50000000)|length }}', VALUE, id="zfill"),
    pytest.param('{{ ("\t"*100000).expandtabs(1000)|length }}', VALUE, id="expandtabs"),
    pytest.param('{{ ("x"*100000).replace("x", "x"*1000)|length }}', VALUE, id="replace-method"),
    pytest.param('{{ "".join(["x"*100000]*1000)|length }}', VALUE, id="join-method"),
    pytest.param('{{ (["x"*100000]*1000)|join|length }}', VALUE, id="join-filter"),
    pytest.param('{% set l = ["x"*100000]*100000 %}{{ l }}', VALUE, id="print-list"),
    pytest.param('{% set l = ["x"*100000]*100000 %}{{ (l ~ "")|length }}', VALUE, id="concat"),
    pytest.param('{% set l = ["x"*100000]*100000 %}{{ l|upper|length }}', VALUE, id="filter-list"),
    pytest.param('{% set l = ["x"*100000]*100000 %}{{ "{}".format(l) }}', VALUE, id="format-list"),
    pytest.param(
        '{% set s = "x"*100000 %}{{ (s + s + s + s + s + s + s + s + s + s + s)|length }}',
        VALUE,
        id="plus",
    ),
    pytest.param(
        '{% macro d(s, n) %}{{ d(s ~ s, n - 1) if n else s|length }}{% endmacro %}{{ d("x", 60) }}',
        VALUE,
        id="macro-doubling",
    ),
    pytest.param(
        "{% macro f() %}{{ f() }}{{ f() }}{% endmacro %}{{ f() }}",
        "macros or loops call themselves too deeply",
        id="macro-recursion",
    ),
    pytest.param(
        "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}"
        "{{ f(40) }}",
        STEPS,
        id="macro-branching",
    ),
    pytest.param('{% for i in "x"*100000 %}{{ "y"*100000 }}{% endfor %}', OUTPUT, id="loop-output"),
    pytest.param(
        '{% set s %}{% for i in "x"*100000 %}{{ "y"*100000 }}{% endfor %}{% endset %}{{ 1 }}',
        OUTPUT,
        id="set-block-output",
    ),
    pytest.param(
        '{% for i in "x"*100000 %}' + "static text " * 100 + "{% endfor %}",
        OUTPUT,
        id="loop-static-text",
    ),
    pytest.param("{{ ((10**64)**64)**64 }}", "a number over 16,384 bits", id="big-power"),
    pytest.param(
        "{% set n = (10**60)**8 %}{{ n * n * n * n * n * n * n * n * n * n * n * n }}",
        "a number over 16,384 bits",
        id="big-product",
    ),
]


def _body(payload: str) -> str:
    return mjml(f"<mj-text>\nHello\n{payload}\n</mj-text>")


@pytest.mark.parametrize(("payload", "message"), PAYLOADS)
def test_payload_is_refused_with_the_budget_it_broke_and_its_line(
    payload: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The time budget is tested on its own; here the payload's own limit must stop it.
    monkeypatch.setattr(budgets, "MAX_SECONDS", 600.0)
    compiled = compile_template("Subject", "", _body(payload))
    # Memory is traced only where it is the point: tracing slows deep macro calls a lot.
    traced = message in (VALUE, OUTPUT)
    if traced:
        tracemalloc.start()
    try:
        with pytest.raises(TemplateRenderError) as caught:
            compiled.render(sample_context(), message_id=1, base_url=BASE_URL, secret=SECRET)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    problem = caught.value.problem
    assert message in problem.message, problem
    assert (problem.part, problem.line) == ("body", 8), problem
    # Refused before building anything near the payload's size (tens of megabytes).
    assert peak < 12_000_000, peak


def test_the_error_reads_with_part_line_and_limit() -> None:
    compiled = compile_template("Subject", "", _body('{{ "%050000000d" % 1 }}'))
    with pytest.raises(TemplateRenderError) as caught:
        compiled.render(sample_context(), message_id=1, base_url=BASE_URL, secret=SECRET)
    assert str(caught.value) == (
        "body, line 8: a value over 1,000,000 characters or items (50,000,012) (the budget)"
    )


@pytest.mark.parametrize("part", ["subject", "preheader", "text"])
def test_budgets_hold_in_every_part(part: str) -> None:
    payload = '{% for i in "x"*6000 %}{% for j in "x"*6000 %}{% endfor %}{% endfor %}'
    sources = {"subject": "Subject", "preheader": "", "text": "Plain"} | {part: payload}
    compiled = compile_template(
        sources["subject"], sources["preheader"], _body("x"), sources["text"]
    )
    with pytest.raises(TemplateRenderError) as caught:
        compiled.render(sample_context(), message_id=1, base_url=BASE_URL, secret=SECRET)
    assert caught.value.problem.part == part
    assert STEPS in caught.value.problem.message


def test_saving_checks_the_budgets_with_the_sample_contact() -> None:
    # Saving compiles with a sample context: the template is refused, not stored.
    with pytest.raises(TemplateInvalid) as caught:
        compile_template(
            "Subject",
            "",
            _body('{{ ("x"*10000)|replace("x","x"*2000)|length }}'),
            sample_context=sample_context(),
        )
    (problem,) = caught.value.template_problems
    assert (problem.part, problem.line) == ("body", 8)
    assert VALUE in problem.message


def test_slow_path_and_fast_path_refuse_alike() -> None:
    compiled = compile_template("Subject", "", _body('{{ ("%050000000d"|format(1))|length }}'))
    assert compiled.fast
    for render in (compiled.render, compiled.render_slow):
        with pytest.raises(TemplateRenderError) as caught:
            render(sample_context(), message_id=1, base_url=BASE_URL, secret=SECRET)
        assert (caught.value.problem.line, VALUE in caught.value.problem.message) == (8, True)


def test_time_budget_ends_a_render_that_stays_under_the_other_limits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 100,000 word counts of 100,000 characters: few steps, little output, a long time.
    payload = '{% for i in "x"*100000 %}{{ ("x "*50000)|wordcount }}{% endfor %}'
    compiled = compile_template("Subject", "", _body(payload))
    monkeypatch.setattr(budgets, "MAX_SECONDS", 0.05)
    with pytest.raises(TemplateRenderError) as caught:
        compiled.render(sample_context(), message_id=1, base_url=BASE_URL, secret=SECRET)
    assert "rendering took over 0.05 seconds (the budget)" in caught.value.problem.message
    assert caught.value.problem.line == 8


def _render_text(compiled: CompiledTemplate) -> str:
    return compiled.render(sample_context(), message_id=1, base_url=BASE_URL, secret=SECRET).text


def test_each_render_has_its_own_budget() -> None:
    # 1,000 iterations per render; 300 renders are far over one render's budget together.
    payload = '{% for i in "x"*1000 %}{% endfor %}{{ "x"*1000 }}'
    compiled = compile_template("Subject", "", _body(payload))
    for _ in range(300):
        assert "x" * 1000 in _render_text(compiled)


def test_ordinary_templates_render_as_before() -> None:
    payload = (
        '{% for word in ["a", "b", "c"] if word != "b" %}{{ loop.index }}={{ word|upper }};'
        "{% endfor %}"
        '{% macro greet(name) %}Hi {{ name ~ "!" }}{% endmacro %}{{ greet(contact.first_name) }} '
        '{{ "%s-%03d" % ("n", 7) }} {{ "{}/{:>4}".format("a", 1) }} {{ ["x", "y"]|join(", ") }} '
        '{{ "ab".replace("a", "z") }} {{ 2**10 }} {{ "x".center(5)|length }} {{ [1] + [2] }}'
    )
    compiled = compile_template("Subject", "", _body(payload))
    text = _render_text(compiled)
    first = str(sample_context()["contact"]["first_name"])
    assert "1=A;2=C;" in text
    assert f"Hi {first}!" in text
    assert "n-007 a/   1 x, y zb 1024 5 [1, 2]" in text
