"""The Jinja sandbox every marketer-written template runs in.

Templates are untrusted input. They see only the plain values we hand them (see
`templates.context`), no loader (so no include/import/extends), no globals, a short
list of filters, and no attribute whose name starts with an underscore. Forbidden
constructs are refused when the template is saved (`static_problems`), and the
sandbox refuses them again at render time in case anything slips past.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from functools import cache, update_wrapper, wraps
from typing import Any

from jinja2 import (
    StrictUndefined,
    Template,
    TemplateSyntaxError,
    meta,
    nodes,
    pass_context,
    pass_eval_context,
)
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.filters import FILTERS
from jinja2.nodes import EvalContext
from jinja2.runtime import Context, markup_join, str_join
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.visitor import NodeTransformer

from templates import budgets
from templates.instants import MONTHS as _MONTHS
from templates.instants import local_words
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


class _BudgetedTemplate(Template):
    """Every render gets a fresh budget (see `templates.budgets`)."""

    def render(self, *args: Any, **kwargs: Any) -> str:
        token = budgets.start()
        try:
            return super().render(*args, **kwargs)
        finally:
            budgets.finish(token)

    def generate(self, *args: Any, **kwargs: Any) -> Iterator[str]:
        # Collected at once: the budget belongs to this call, not to whoever resumes
        # a generator later (and every caller of ours joins the pieces anyway).
        token = budgets.start()
        try:
            return iter(list(super().generate(*args, **kwargs)))
        finally:
            budgets.finish(token)


class _Sandbox(ImmutableSandboxedEnvironment):
    template_class = _BudgetedTemplate
    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        return _add_budget_checks(super()._parse(source, name, filename))

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "+":
            result = left + right
        elif operator == "%":
            if isinstance(left, str):
                budgets.check_printf(left, right)
            result = left % right
        elif operator == "**":
            if isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
                raise SecurityError(f"exponent {right} is too large")
            if isinstance(left, int) and isinstance(right, int) and right > 0:
                budgets.check_int(left.bit_length() * right)
            return left**right
        else:
            for seq, times in ((left, right), (right, left)):
                if (
                    isinstance(seq, str | list | tuple)
                    and isinstance(times, int)
                    and len(seq) * times > MAX_REPEAT_LENGTH
                ):
                    raise SecurityError("the repeated value would be too long")
            if isinstance(left, int) and isinstance(right, int):
                budgets.check_int(left.bit_length() + right.bit_length())
            return left * right
        budgets.check_size(result)
        return result

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        budgets.current().step()
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str):
            _check_str_method(owner, getattr(__obj, "__name__", ""), args, kwargs)
        result = super().call(__context, __obj, *args, **kwargs)
        budgets.check_size(result)
        return result

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        fmt: str = value.__self__

        def checked(*args: Any, **kwargs: Any) -> str:
            budgets.check_str_format(fmt, [*args, *kwargs.values()])
            result = wrapped(*args, **kwargs)
            budgets.check_size(result)
            return result

        return update_wrapper(checked, wrapped)

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


def _check_str_method(owner: str, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    # The string methods whose result can be far larger than their inputs, checked
    # before they build it.
    first = args[0] if args else None
    if name in {"center", "ljust", "rjust", "zfill"}:
        width = kwargs.get("width", first)
        if isinstance(width, int):
            budgets.check_length(width)
    elif name == "expandtabs":
        size = kwargs.get("tabsize", 8 if first is None else first)
        if isinstance(size, int):
            budgets.check_length(len(owner) + owner.count("\t") * size)
    elif name == "replace" and len(args) >= 2:
        old, new = args[0], args[1]
        if isinstance(old, str) and isinstance(new, str):
            count = args[2] if len(args) > 2 else kwargs.get("count")
            budgets.check_replace(owner, old, new, count)
    elif name == "join" and isinstance(first, list | tuple | str | dict):
        budgets.check_join(owner, first)


def _check_replace_filter(s: object, old: object, new: object, count: object = None) -> None:
    budgets.printed_length(s)
    budgets.check_replace(str(s), str(old), str(new), count)


def _check_format_filter(value: object, *args: object, **kwargs: object) -> None:
    budgets.printed_length(value)
    budgets.check_printf(str(value), kwargs or args)


def _check_join_filter(value: object, d: object = "", attribute: object = None) -> None:
    if attribute is None and isinstance(value, list | tuple | str | dict):
        budgets.printed_length(d)
        budgets.check_join(str(d), value)


# Filters that do not print their value (the others may, so it is measured first).
_NOT_PRINTING = frozenset({"count", "d", "default", "first", "last", "length"})

_PRECHECKS: dict[str, Callable[..., None]] = {
    "replace": _check_replace_filter,
    "format": _check_format_filter,
    "join": _check_join_filter,
}


def _budgeted(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """`func` checking the time before it runs and the size of what it builds."""
    # Jinja passes the context, eval context or environment first to marked filters.
    value_at = 1 if getattr(func, "jinja_pass_arg", None) is not None else 0
    precheck = _PRECHECKS.get(name)
    prints = name not in _NOT_PRINTING

    @wraps(func)
    def budgeted(*args: Any, **kwargs: Any) -> Any:
        budgets.current().check_time()
        if prints and len(args) > value_at and not isinstance(args[value_at], str):
            budgets.printed_length(args[value_at])
        if precheck is not None:
            precheck(*args[value_at:], **kwargs)
        result = func(*args, **kwargs)
        budgets.check_size(result)
        return result

    return budgeted


def _output(value: object) -> object:
    # Every printed expression is charged to the render's output budget.
    if isinstance(value, str):
        budgets.current().output(len(value))
    elif not isinstance(value, int | float | None):
        budgets.current().output(budgets.printed_length(value))
    return value


@pass_context
def _tick(context: Context, chars: int) -> bool:
    # Marked pass_context so that Jinja never folds a tick into a constant.
    budgets.current().step(chars)
    return True


@pass_eval_context
def _concat(eval_ctx: EvalContext, items: list[object]) -> str:
    total = 0
    for item in items:
        total += budgets.printed_length(item)
        budgets.check_length(total)
    if eval_ctx.autoescape:
        return markup_join(items)
    return str_join(items)


_REPEATED = (nodes.For, nodes.Macro, nodes.CallBlock)


def _static_chars(body: list[nodes.Node]) -> int:
    # Text written when `body` runs once; bodies that repeat on their own pay for theirs.
    total = 0
    stack: list[nodes.Node] = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, nodes.TemplateData):
            total += len(node.data)
        elif not isinstance(node, _REPEATED):
            stack.extend(node.iter_child_nodes())
    return total


def _call_filter(name: str, node: nodes.Expr, lineno: int) -> nodes.Filter:
    return nodes.Filter(node, name, [], [], None, None, lineno=lineno)


def _tick_node(chars: int, lineno: int) -> nodes.ExprStmt:
    return nodes.ExprStmt(_call_filter("_nt_tick", nodes.Const(chars), lineno), lineno=lineno)


class _BudgetChecks(NodeTransformer):
    """Charges output, loop iterations and bodies that run repeatedly to the budget."""

    def visit_Output(self, node: nodes.Output) -> nodes.Node:
        self.generic_visit(node)
        node.nodes = [
            child
            if isinstance(child, nodes.TemplateData)
            else _call_filter("_nt_out", child, child.lineno)
            for child in node.nodes
        ]
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return _call_filter("_nt_concat", nodes.List(node.nodes), node.lineno)

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        if node.test is not None:
            # Skipped items cost an iteration too (a filter that is never true).
            tick = _call_filter("_nt_tick", nodes.Const(0), node.lineno)
            node.test = nodes.And(tick, node.test, lineno=node.lineno)
        node.body.insert(0, _tick_node(_static_chars(node.body), node.lineno))
        return node

    def visit_Macro(self, node: nodes.Macro) -> nodes.Node:
        self.generic_visit(node)
        node.body.insert(0, _tick_node(_static_chars(node.body), node.lineno))
        return node

    def visit_CallBlock(self, node: nodes.CallBlock) -> nodes.Node:
        self.generic_visit(node)
        node.body.insert(0, _tick_node(_static_chars(node.body), node.lineno))
        return node


def _add_budget_checks(tree: nodes.Template) -> nodes.Template:
    tree = _BudgetChecks().visit(tree)
    tree.body.insert(0, _tick_node(_static_chars(tree.body), 1))
    return tree


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


@pass_context
def _local_time_filter(
    context: Context, value: object, part: str = "datetime", locale: str = "en"
) -> str:
    # The zone is the reader's (contact.time_zone, filled per recipient), never the
    # template's: one source shows each reader their own clock (templates.instants).
    contact = context.get("contact")
    time_zone = contact.get("time_zone") if isinstance(contact, dict) else None
    return local_words(
        value, part=str(part), locale=str(locale), time_zone=time_zone if time_zone else None
    )


@pass_context
def _registration_link_filter(context: Context, webinar_id: object) -> str:
    # The renderer hands each recipient's link maker in (templates.webinar_links);
    # rendered without one (a bare environment), the link leads nowhere rather than
    # to someone else's registration.
    links = context.get("_nt_registration")
    return "#" if links is None else str(links(webinar_id))


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
    filters["local_time"] = _local_time_filter
    filters["registration_link"] = _registration_link_filter
    filters = {name: _budgeted(name, func) for name, func in filters.items()}
    if internal:
        filters["nt_track"] = _track_filter
    filters |= {"_nt_out": _output, "_nt_tick": _tick, "_nt_concat": _concat}
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
    elif isinstance(exc, RecursionError):
        message = "macros or loops call themselves too deeply"
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
