"""Tracked links and the open pixel.

Every http(s) link of an e-mail is rewritten to `{base_url}/t/c/{token}`, where the
token (see `templates.tokens`) names the message and the link's index; the original
targets are returned in order so the caller stores them with the message, and the
redirector looks the target up there. Not rewritten: the unsubscribe/preferences
link (`{base_url}/u/...`), links whose `<a>` carries `data-notrack`, and anything
that is not http(s) (mailto:, tel:, #anchors).

Two ways to apply the same rule: `rewrite_html` edits finished HTML (the slow path),
and `instrument` turns the links of a compiled template into calls to
`Tracker.track`, so per recipient only the tokens are made (the fast path). Both
give the same HTML.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Sequence

from markupsafe import Markup, escape

from templates.marks import MARK, Construct, inert_static, restore
from templates.tokens import TokenSigner

NOTRACK_ATTRIBUTE = "data-notrack"
_A_TAG = re.compile(r"<a\s[^>]*>", re.IGNORECASE)
_HREF = re.compile(r"""(\shref\s*=\s*)(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
_NOTRACK = re.compile(rf"\s{NOTRACK_ATTRIBUTE}(?:[\s=/>]|$)", re.IGNORECASE)
_TEXT_URL = re.compile(r"https?://[^\s<>()\"']+", re.IGNORECASE)
_BODY_START = re.compile(r"<body\b[^>]*>", re.IGNORECASE)
_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)
_GEN_OPEN, _GEN_CLOSE = "NURTUREGEN", "X"
_GENERATED = re.compile(f"{_GEN_OPEN}(\\d+){_GEN_CLOSE}")


def click_path(token: str) -> str:
    return f"/t/c/{token}"


def open_path(token: str) -> str:
    return f"/t/o/{token}"


def unsubscribe_path(token: str) -> str:
    return f"/u/{token}"


class Tracker:
    """Tracks the links of one message as it is rendered; `links` are the targets, in order."""

    def __init__(
        self,
        signer: TokenSigner,
        *,
        message_id: int,
        base_url: str,
        enabled: bool = True,
    ) -> None:
        self._signer = signer
        self._message_id = message_id
        self._click_token = signer.click_maker(message_id)
        self._base = base_url.rstrip("/")
        self._skip_prefix = self._base + "/u/"
        self._enabled = enabled
        self.links: list[str] = []
        self._tracked: dict[str, str] = {}  # target -> tracked URL of its first occurrence

    def decide(self, url: str, html_form: str) -> str:
        """The attribute value (HTML) to put in place of a link's href."""
        target = url.strip()
        if (
            not self._enabled
            or not target[:8].lower().startswith(("http://", "https://"))
            or target.startswith(self._skip_prefix)
        ):
            return html_form
        return self._add(target)

    def track(self, parts: Sequence[object]) -> Markup:
        """For instrumented templates: `parts` alternate static HTML and dynamic values."""
        pieces = [
            part if index % 2 == 0 else escape("" if part is None else part)
            for index, part in enumerate(parts)
        ]
        html_form = "".join(str(p) for p in pieces)
        url = html_lib.unescape(html_form) if "&" in html_form else html_form
        # Either the escaped original or a tracked URL made of URL-safe characters only.
        return Markup(self.decide(url, html_form))  # noqa: S704

    def pixel(self) -> Markup:
        """The 1x1 open pixel, or nothing when tracking is off."""
        if not self._enabled:
            return Markup("")
        src = self._base + open_path(self._signer.open(self._message_id))
        return Markup(pixel_html(src))  # noqa: S704 - base URL from settings, URL-safe token

    def rewrite_text(self, text: str, *, add_new: bool) -> str:
        """URLs in a plain-text part, tracked like the HTML links (the same token per target).

        With `add_new` False (text made from the HTML) only URLs tracked in the HTML
        are replaced, so `data-notrack` links stay as they are; with True (a text body
        the marketer wrote) other http(s) URLs become new tracked links.
        """
        if not self._enabled:
            return text

        def replace(match: re.Match[str]) -> str:
            found = match.group(0)
            url = found.rstrip(".,;:!?")
            tracked = self._tracked.get(url)
            if tracked is None:
                if not add_new or url.startswith(self._skip_prefix):
                    return found
                tracked = self._add(url)
            return tracked + found[len(url) :]

        return _TEXT_URL.sub(replace, text)

    def _add(self, target: str) -> str:
        index = len(self.links)
        self.links.append(target)
        tracked = self._base + click_path(self._click_token(index))
        self._tracked.setdefault(target, tracked)
        return tracked


def pixel_html(src: str) -> str:
    return (
        f'<img src="{src}" width="1" height="1" alt="" '
        'style="display:block;width:1px;height:1px;border:0;" />'
    )


def rewrite_html(html: str, tracker: Tracker) -> str:
    """Finished HTML with its links tracked and the open pixel added before </body>."""

    def tag(match: re.Match[str]) -> str:
        text = match.group(0)
        if _NOTRACK.search(text):
            return text
        href = _HREF.search(text)
        if href is None:
            return text
        value = href.group(2) if href.group(2) is not None else href.group(3)
        quote = '"' if href.group(2) is not None else "'"
        replaced = tracker.decide(html_lib.unescape(value), value)
        if replaced is value:
            return text
        start, end = href.span()
        return f"{text[:start]}{href.group(1)}{quote}{replaced}{quote}{text[end:]}"

    return insert_before_body_end(_A_TAG.sub(tag, html), str(tracker.pixel()))


def insert_before_body_end(html: str, snippet: str) -> str:
    if not snippet:
        return html
    ends = list(_BODY_END.finditer(html))
    if not ends:
        return html + snippet
    at = ends[-1].start()
    return html[:at] + snippet + html[at:]


def insert_after_body_start(html: str, snippet: str) -> str:
    if not snippet:
        return html
    start = _BODY_START.search(html)
    at = start.end() if start else 0
    return html[:at] + snippet + html[at:]


def preheader_html(text: str) -> str:
    """The hidden block that mail clients show as the preview line after the subject."""
    if not text:
        return ""
    return (
        '<div style="display:none;font-size:1px;color:#ffffff;line-height:1px;'
        'max-height:0px;max-width:0px;opacity:0;overflow:hidden;">'
        f"{escape(text)}</div>"
    )


class CannotInstrument(Exception):
    """A link's href holds a {% %} tag; such a template renders by the slow path."""


def instrument(
    protected_html: str, constructs: Sequence[Construct], *, pixel: bool, preheader: bool
) -> str:
    """Jinja source for a compiled template, ready to render per recipient.

    `protected_html` is compiled HTML with Jinja marks. The result has the Jinja put
    back, every candidate link passed through the `nt_track` filter, `_nt_pixel` before </body>,
    `_nt_preheader` after <body>, and literal `{{`, `{%`, `{#` outside Jinja made
    inert. Raises CannotInstrument when a link's href holds a `{% %}` tag.
    """
    constructs = tuple(constructs)
    generated: list[str] = []

    def hold(code: str) -> str:
        # Generated Jinja waits behind its own mark until the static text is made inert.
        generated.append(code)
        return f"{_GEN_OPEN}{len(generated) - 1}{_GEN_CLOSE}"

    def tag(match: re.Match[str]) -> str:
        text = match.group(0)
        if _NOTRACK.search(text):
            return text
        href = _HREF.search(text)
        if href is None:
            return text
        value = href.group(2) if href.group(2) is not None else href.group(3)
        quote = '"' if href.group(2) is not None else "'"
        call = _track_call(value, constructs)
        if call is None:
            return text
        start, end = href.span()
        return f"{text[:start]}{href.group(1)}{quote}{hold(call)}{quote}{text[end:]}"

    source = _A_TAG.sub(tag, protected_html)
    if preheader:
        source = insert_after_body_start(source, hold("{{ _nt_preheader }}"))
    if pixel:
        source = insert_before_body_end(source, hold("{{ _nt_pixel }}"))
    source = restore(inert_static(source), constructs)
    return _GENERATED.sub(lambda m: generated[int(m.group(1))], source)


def _track_call(value: str, constructs: tuple[Construct, ...]) -> str | None:
    parts: list[str] = []  # Jinja expressions, static and dynamic alternating
    static: list[str] = []
    position = 0
    dynamic = False
    for found in MARK.finditer(value):
        construct = constructs[int(found.group(1))]
        static.append(value[position : found.start()])
        position = found.end()
        if construct.kind == "comment":
            continue
        if construct.kind == "statement":
            raise CannotInstrument(construct.source)
        parts.append(_literal("".join(static)))
        static = []
        parts.append(f"({_inner(construct.source)})")
        dynamic = True
    static.append(value[position:])
    parts.append(_literal("".join(static)))
    if not dynamic:
        url = html_lib.unescape("".join(static)).strip()
        if not url[:8].lower().startswith(("http://", "https://")):
            return None
    return "{{ [" + ", ".join(parts) + "] | nt_track }}"


def _literal(text: str) -> str:
    # A Jinja string literal: Jinja reads Python-style escapes, so repr() is exact.
    return repr(text)


def _inner(expression: str) -> str:
    body = expression[2:-2]
    if body[:1] in "-+":
        body = body[1:]
    if body[-1:] in "-+":
        body = body[:-1]
    return body.strip()
