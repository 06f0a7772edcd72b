"""The rendering pipeline: compile a template once, render it per recipient, fast.

    compiled = compile_template(subject, preheader, mjml_body, text_body, tracking=True)
    rendered = compiled.render(context, message_id=42, contact_id=7,
                               base_url="https://mail.example", secret=settings.secret_key)
    raw = build_message(rendered, ...)      # templates.message

Compiling validates every part (Jinja syntax, the sandbox's refusals, MJML
structure) and raises TemplateInvalid with each problem's part and line. It turns
the MJML into HTML once and the HTML into a Jinja template once, so a render is
one Jinja pass plus making tokens. Templates where that shortcut would change the
result (see `templates.compile`) render Jinja first and MJML after, per recipient;
`CompiledTemplate.fast` says which path a template takes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from jinja2 import Template
from markupsafe import Markup

from templates.compile import CompiledBody, HtmlCache, MjmlError, compile_body
from templates.context import ALLOWED_NAMES, check_context
from templates.marks import MARK, inert_static, mark, restore
from templates.problems import Part, TemplateInvalid, TemplateProblem, TemplateRenderError
from templates.sandbox import environment, runtime_problem, static_problems
from templates.text import html_to_text, squeeze_blank_lines
from templates.tokens import TokenSigner
from templates.tracking import (
    CannotInstrument,
    Tracker,
    insert_after_body_start,
    instrument,
    preheader_html,
    rewrite_html,
    unsubscribe_path,
)
from templates.transfer import PieceEncoder, encode_qp
from templates.webinar_links import registration_links

_LINE_BREAKS = re.compile(r"\s*[\r\n]+\s*")


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    """One recipient's e-mail. `links[i]` is the target behind tracked link number i.

    `html_qp` and `text_qp` are the parts already quoted-printable encoded (CRLF),
    which `templates.message.build_message` uses instead of encoding again.
    """

    subject: str
    preheader: str
    html: str
    text: str
    links: tuple[str, ...]
    unsubscribe_url: str | None
    html_qp: bytes | None = field(default=None, repr=False)
    text_qp: bytes | None = field(default=None, repr=False)


@lru_cache(maxsize=8)
def signer_for(secret: str | bytes) -> TokenSigner:
    """A cached TokenSigner for `secret` (making one derives keys)."""
    return TokenSigner(secret)


def compile_template(
    subject: str,
    preheader: str,
    mjml_body: str,
    text_body: str | None = None,
    *,
    tracking: bool = True,
    allowed_names: frozenset[str] = ALLOWED_NAMES,
    sample_context: Mapping[str, object] | None = None,
) -> CompiledTemplate:
    """Validate and compile a template; TemplateInvalid lists every problem found.

    With `sample_context`, also renders once for it (the slow, exact path) so that
    undefined values are reported with their names and lines.
    """
    text_body = text_body if text_body and text_body.strip() else None
    problems: list[TemplateProblem] = []
    parts: list[tuple[Part, str, bool]] = [
        ("subject", subject, False),
        ("preheader", preheader, False),
        ("body", mjml_body, True),
    ]
    if text_body is not None:
        parts.append(("text", text_body, False))
    for part, source, html in parts:
        problems += static_problems(source, part, allowed_names=allowed_names, html=html)
    if not mjml_body.strip():
        problems.append(TemplateProblem(None, "the body is empty", "body"))
    if problems:
        raise TemplateInvalid(problems)
    compiled = CompiledTemplate(
        subject=subject,
        preheader=preheader,
        mjml_body=mjml_body,
        text_body=text_body,
        tracking=tracking,
        allowed_names=allowed_names,
        body=compile_body(mjml_body),
    )
    if sample_context is not None:
        problems = compiled.check(sample_context)
        if problems:
            raise TemplateInvalid(problems)
    return compiled


class CompiledTemplate:
    """A template compiled once; `render` is safe to call from many threads."""

    def __init__(
        self,
        *,
        subject: str,
        preheader: str,
        mjml_body: str,
        text_body: str | None,
        tracking: bool,
        allowed_names: frozenset[str],
        body: CompiledBody,
    ) -> None:
        self.tracking = tracking
        self._mjml_body = mjml_body
        self.allowed_names = allowed_names | {"unsubscribe_url", "preferences_url"}
        text_env, html_env = environment(html=False), environment(html=True)
        self._subject = text_env.from_string(subject)
        self._preheader = text_env.from_string(preheader)
        self._has_preheader = bool(preheader.strip())
        self._body = html_env.from_string(mjml_body)
        self._text = text_env.from_string(text_body) if text_body is not None else None
        self._html_cache = HtmlCache()
        self.fallback_reason = body.reason
        self._fast_html: Template | None = None
        self._fast_text: Template | None = None
        self._encoder: PieceEncoder | None = None
        if body.fast and body.html is not None:
            self._prepare_fast(body)

    @property
    def fast(self) -> bool:
        """True when renders use the compiled HTML (Jinja only per recipient)."""
        return self._fast_html is not None

    @property
    def uses_unsubscribe_link(self) -> bool:
        """Whether the body links to `unsubscribe_url` or `preferences_url`."""
        source = self._mjml_body
        return "unsubscribe_url" in source or "preferences_url" in source

    def _prepare_fast(self, body: CompiledBody) -> None:
        if body.html is None:
            raise RuntimeError("body.html is None, but the fast path is prepared before it is used")
        constructs = body.protected.constructs
        try:
            source = instrument(
                body.html, constructs, pixel=self.tracking, preheader=self._has_preheader
            )
        except CannotInstrument as exc:
            self.fallback_reason = f"a link's href holds {exc}"
            return
        self._fast_html = environment(html=True, internal=True).from_string(source)
        self._encoder = PieceEncoder.for_template(self._fast_html)
        if self._text is None:
            silent = [mark(i) for i, c in enumerate(constructs) if c.kind != "expression"]
            zero_width = re.compile("|".join(silent)) if silent else None

            def canonical(text: str) -> str:
                # Two marks of the same expression stand for the same value.
                return MARK.sub(lambda m: "".join(constructs[int(m[1])].source.split()), text)

            text = html_to_text(body.html, zero_width=zero_width, canonical=canonical)
            text_source = restore(inert_static(text), constructs)
            self._fast_text = environment(html=False).from_string(text_source)

    def render(
        self,
        context: Mapping[str, object],
        *,
        message_id: int,
        base_url: str,
        secret: str | bytes | TokenSigner,
        contact_id: int | None = None,
    ) -> RenderedEmail:
        """The e-mail for one recipient, exactly as it will be sent.

        `context` holds plain data under the allowed names (see templates.context);
        `contact_id` makes the recipient's unsubscribe link (`unsubscribe_url`).
        Raises TemplateRenderError naming the part and line of a failing expression.
        """
        return self._render(context, message_id, base_url, secret, contact_id, fast=self.fast)

    def render_slow(
        self,
        context: Mapping[str, object],
        *,
        message_id: int,
        base_url: str,
        secret: str | bytes | TokenSigner,
        contact_id: int | None = None,
    ) -> RenderedEmail:
        """Like `render`, always by the exact path (Jinja, then MJML); for checks and tests."""
        return self._render(context, message_id, base_url, secret, contact_id, fast=False)

    def check(self, context: Mapping[str, object]) -> list[TemplateProblem]:
        """Problems rendering for `context` (undefined values, refused operations), with lines.

        Renders by the exact path so lines are those of the source the marketer wrote.
        """
        try:
            values = self._context(context, "https://example.invalid", signer_for(b"0" * 32), 1)
        except TypeError as exc:
            return [TemplateProblem(None, str(exc), "body")]
        problems: list[TemplateProblem] = []
        parts: list[tuple[Part, Template | None]] = [
            ("subject", self._subject),
            ("preheader", self._preheader),
            ("body", self._body),
            ("text", self._text),
        ]
        for part, template in parts:
            if template is None:
                continue
            try:
                output = template.render(values)
                if part == "body":
                    self._html_cache.compile(output)
            except MjmlError as exc:
                problems.append(TemplateProblem(None, f"MJML: {exc}", "body"))
            except Exception as exc:
                problem = runtime_problem(exc, part)
                if problem is None:
                    raise
                problems.append(problem)
        return problems

    def _context(
        self,
        context: Mapping[str, object],
        base_url: str,
        signer: TokenSigner,
        contact_id: int | None,
        message_id: int | None = None,
    ) -> dict[str, Any]:
        values: dict[str, Any] = check_context(context, self.allowed_names)
        if contact_id is not None:
            url = base_url.rstrip("/") + unsubscribe_path(
                signer.unsubscribe(contact_id, message_id)
            )
            values["unsubscribe_url"] = url
            values["preferences_url"] = url
        values["_nt_registration"] = registration_links(base_url, signer, contact_id)
        return values

    def _render(
        self,
        context: Mapping[str, object],
        message_id: int,
        base_url: str,
        secret: str | bytes | TokenSigner,
        contact_id: int | None,
        *,
        fast: bool,
    ) -> RenderedEmail:
        signer = secret if isinstance(secret, TokenSigner) else signer_for(secret)
        values = self._context(context, base_url, signer, contact_id, message_id)
        subject = _one_line(self._run(self._subject, values, "subject"))
        preheader = _one_line(self._run(self._preheader, values, "preheader"))
        tracker = Tracker(signer, message_id=message_id, base_url=base_url, enabled=self.tracking)
        html_qp: bytes | None = None
        if fast:
            if self._fast_html is None:
                raise RuntimeError(
                    "self._fast_html is None, but the fast path is prepared before it is used"
                )
            if self._encoder is None:
                raise RuntimeError(
                    "self._encoder is None, but the fast path is prepared before it is used"
                )
            values["_nt_track"] = tracker.track
            values["_nt_pixel"] = tracker.pixel()
            # preheader_html escapes the text it wraps.
            values["_nt_preheader"] = Markup(preheader_html(preheader))  # noqa: S704
            try:
                pieces = list(self._fast_html.generate(values))
            except Exception as exc:
                raise self._render_error(exc, context, base_url, signer, contact_id) from exc
            html = "".join(pieces)
            html_qp = self._encoder.encode(pieces)
            if self._text is None:
                if self._fast_text is None:
                    raise RuntimeError(
                        "self._fast_text is None, but the fast path is prepared before it is used"
                    )
                text = squeeze_blank_lines(self._run(self._fast_text, values, "body"))
            else:
                text = self._run(self._text, values, "text")
        else:
            mjml = self._run(self._body, values, "body")
            try:
                compiled = self._html_cache.compile(mjml)
            except MjmlError as exc:
                raise TemplateRenderError(TemplateProblem(None, f"MJML: {exc}", "body")) from exc
            text = (
                html_to_text(compiled)
                if self._text is None
                else self._run(self._text, values, "text")
            )
            html = rewrite_html(
                insert_after_body_start(compiled, preheader_html(preheader)), tracker
            )
        text = tracker.rewrite_text(text, add_new=self._text is not None)
        return RenderedEmail(
            subject=subject,
            preheader=preheader,
            html=html,
            text=text,
            links=tuple(tracker.links),
            unsubscribe_url=values.get("unsubscribe_url"),
            html_qp=html_qp,
            text_qp=encode_qp(text),
        )

    @staticmethod
    def _run(template: Template, values: Mapping[str, Any], part: Part) -> str:
        try:
            return template.render(values)
        except Exception as exc:
            problem = runtime_problem(exc, part)
            if problem is None:
                raise
            raise TemplateRenderError(problem) from exc

    def _render_error(
        self,
        exc: Exception,
        context: Mapping[str, object],
        base_url: str,
        signer: TokenSigner,
        contact_id: int | None,
    ) -> Exception:
        # Lines in the compiled HTML mean nothing to the marketer; the exact path
        # fails the same way and knows the line in the MJML source.
        try:
            self._run(self._body, self._context(context, base_url, signer, contact_id), "body")
        except TemplateRenderError as exact:
            return exact
        problem = runtime_problem(exc, "body")
        if problem is None:
            return exc
        return TemplateRenderError(TemplateProblem(None, problem.message, "body"))


def _one_line(text: str) -> str:
    # Header values must not carry line breaks (header injection, broken folding).
    return _LINE_BREAKS.sub(" ", text).strip()
