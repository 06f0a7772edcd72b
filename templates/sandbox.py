"""The Jinja sandbox every marketer-written template runs in.

Templates are untrusted input. They see only the plain values we hand them (see
`templates.context`), no loader (so no include/import/extends), no globals, a short
list of filters, and no attribute whose name starts with an underscore. Forbidden
constructs are refused when the template is saved (`static_problems`), and the
sandbox refuses them again at render time in case anything slips past.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterable
from datetime import date, datetime
from functools import cache
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, meta, nodes, pass_context
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.filters import FILTERS
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from templates.problems import Part, TemplateProblem

# Biggest string or list a template may build with `*` (a cheap way to exhaust memory).
MAX_REPEAT_LENGTH = 100_000
MAX_EXPONENT = 64

_SAFE_FILTERS = (
    "abs",
    "capitalize",
    "count",
    "d",
    "default",
    "e",
    "escape",
    "first",
    "float",
    "format",
    "int",
    "join",
    "last",
    "length",
    "lower",
    "replace",
    "round",
    "striptags",
    "title",
    "trim",
    "truncate",
    "upper",
    "urlencode",
    "wordcount",
)

_FORBIDDEN_NODES: dict[type[nodes.Node], str] = {
    nodes.Include: "{% include %} is not allowed: a template cannot read other files",
    nodes.Import: "{% import %} is not allowed: a template cannot read other files",
    nodes.FromImport: "{% from ... import %} is not allowed: a template cannot read other files",
    nodes.Extends: "{% extends %} is not allowed: a template cannot read other files",
    nodes.Block: "{% block %} is not allowed: templates do not inherit from each other",
}

_MONTHS = {
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    "ru": [
        "января",
        "февраля",
        "марта",
        "апреля",
        "мая",
        "июня",
        "июля",
        "августа",
        "сентября",
        "октября",
        "ноября",
        "декабря",
    ],
}
_MONTHS_SHORT = {
    "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
    "ru": ["янв", "фев", "мар", "апр", "мая", "июн", "июл", "авг", "сен", "окт", "ноя", "дек"],
}


class _Undefined(StrictUndefined):
    """Fails loudly on any use, with a message that names the missing value."""

    __slots__ = ()

    @property
    def _undefined_message(self) -> str:
        if self._undefined_hint:
            return self._undefined_hint
        if self._undefined_obj is not None and not isinstance(self._undefined_obj, _Undefined):
            kind = "mapping" if isinstance(self._undefined_obj, dict) else "value"
            return f"{self._undefined_name!r} is undefined (no such key in the {kind})"
        return f"{self._undefined_name!r} is undefined"


class _Sandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            if isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
                raise SecurityError(f"exponent {right} is too large")
            return left**right
        for seq, times in ((left, right), (right, left)):
            if (
                isinstance(seq, str | list | tuple)
                and isinstance(times, int)
                and len(seq) * times > MAX_REPEAT_LENGTH
            ):
                raise SecurityError("the repeated value would be too long")
        return left * right

    def getattr(self, obj: Any, attribute: str) -> Any:
        # Template data is plain dicts, and for them the key is what `a.b` means; looking
        # it up first also skips the AttributeError the base class raises and catches.
        if type(obj) is dict:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        # The base sandbox already refuses "_..." names and known-dangerous attributes;
        # this makes the rule independent of the object's type.
        return not attr.startswith("_") and super().is_safe_attribute(obj, attr, value)


def _finalize(value: object) -> object:
    # A missing optional field (None) prints as nothing, not "None".
    return "" if value is None else value


def format_date(value: object, format: str = "%d %B %Y", locale: str = "en") -> str:
    """A date, datetime or ISO 8601 string formatted with strftime codes.

    %B and %b are month names in `locale` ("en" or "ru", genitive for Russian:
    "5 марта 2025").
    """
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO date") from None
    if not isinstance(value, date):
        raise ValueError(f"cannot format {type(value).__name__} as a date")
    months = _MONTHS.get(locale, _MONTHS["en"])
    short = _MONTHS_SHORT.get(locale, _MONTHS_SHORT["en"])
    fmt = format.replace("%B", months[value.month - 1]).replace("%b", short[value.month - 1])
    fmt = fmt.replace("%-d", str(value.day))
    return value.strftime(fmt)


@pass_context
def _track_filter(context: Context, parts: list[object]) -> Any:
    # Instrumented templates call the per-render tracker through a filter, because
    # Jinja calls filters directly while every sandboxed function call is inspected.
    return context.resolve_or_missing("_nt_track")(parts)


def _build(autoescape: bool, internal: bool) -> _Sandbox:
    env = _Sandbox(
        autoescape=autoescape,
        undefined=_Undefined,
        finalize=_finalize,
        loader=None,
        auto_reload=False,
        keep_trailing_newline=True,
    )
    env.globals.clear()
    filters: dict[str, Callable[..., Any]] = {name: FILTERS[name] for name in _SAFE_FILTERS}
    filters["date"] = format_date
    if internal:
        filters["nt_track"] = _track_filter
    env.filters = filters
    return env


@cache
def environment(*, html: bool, internal: bool = False) -> _Sandbox:
    """The shared sandbox: autoescaping for HTML, plain for subject, preheader and text.

    `internal` adds what only templates we generate may use (the tracking filter);
    marketers' sources are always checked against the public environment.
    """
    return _build(autoescape=html, internal=internal)


def syntax_problems(source: str, part: Part, *, html: bool) -> list[TemplateProblem]:
    """Jinja syntax errors (and unknown filters or tests) with their lines."""
    env = environment(html=html)
    try:
        env.compile(source)
    except TemplateSyntaxError as exc:
        return [TemplateProblem(exc.lineno, exc.message or str(exc), part)]
    return []


def static_problems(
    source: str, part: Part, *, allowed_names: Iterable[str], html: bool
) -> list[TemplateProblem]:
    """Everything wrong with `source` that can be found without rendering it.

    Syntax errors first (nothing else can be checked without a parse); then refused
    tags, names outside `allowed_names`, `self`, and underscore attributes or keys.
    """
    syntax = syntax_problems(source, part, html=html)
    if syntax:
        return syntax
    tree = environment(html=html).parse(source)
    allowed = frozenset(allowed_names)
    problems: list[TemplateProblem] = []
    for node_type, message in _FORBIDDEN_NODES.items():
        problems.extend(TemplateProblem(n.lineno, message, part) for n in tree.find_all(node_type))
    unknown = meta.find_undeclared_variables(tree) - allowed
    reported: set[str] = set()
    for name in tree.find_all(nodes.Name):
        if name.ctx != "load" or name.name in reported:
            continue
        if name.name == "self" or name.name in unknown:
            reported.add(name.name)
            known = ", ".join(sorted(allowed))
            problems.append(
                TemplateProblem(
                    name.lineno,
                    f"unknown name {name.name!r}: a template can use only {known}",
                    part,
                )
            )
    for getattr_node in tree.find_all(nodes.Getattr):
        if getattr_node.attr.startswith("_"):
            problems.append(_underscore(getattr_node.lineno, getattr_node.attr, part))
    for getitem in tree.find_all(nodes.Getitem):
        key = getitem.arg
        value = key.value if isinstance(key, nodes.Const) else None
        if isinstance(value, str) and value.startswith("_"):
            problems.append(_underscore(getitem.lineno, value, part))
    return sorted(problems, key=lambda p: (p.line or 0, p.message))


def _underscore(line: int, attr: str, part: Part) -> TemplateProblem:
    return TemplateProblem(
        line, f"{attr!r} is not allowed: names starting with '_' are private", part
    )


def runtime_problem(exc: Exception, part: Part) -> TemplateProblem | None:
    """The problem behind an exception raised while rendering, or None if it is not ours."""
    if isinstance(exc, UndefinedError | SecurityError | TemplateSyntaxError):
        message = str(exc.message if isinstance(exc, TemplateSyntaxError) else exc)
    elif isinstance(exc, ValueError | TypeError | ArithmeticError):
        message = f"{type(exc).__name__}: {exc}"
    else:
        return None
    return TemplateProblem(_template_line(exc), message, part)


def _template_line(exc: BaseException) -> int | None:
    # Jinja rewrites tracebacks so template frames carry the template's own lines.
    if isinstance(exc, TemplateSyntaxError):
        return exc.lineno
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == "<template>":
            line = frame.lineno
    return line
