"""What the answer pages (survey, testimonial, referral) share: rendering in the
visitor's language, the friendly refusal pages, rate limits and reading form fields.

A refused link answers a page that says only that the link does not work: never
whether the survey exists, whose it is or why the token failed.
"""

from __future__ import annotations

import math
from typing import Any

from litestar import Request
from litestar.datastructures import FormMultiDict
from litestar.response import Template

from campaigns.email import machines
from nurture.errors import NotFound
from nurture.ratelimit import Decision, Limit
from nurture.web import throttle
from nurture.web.mail import page_brand
from nurture.web.public.review_copy import texts, visitor_language
from nurture.web.ui.language import Language
from templates.tokens import TokenError

HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
# Longer than any field takes: the domain names the field that is too long; this only
# keeps a pasted novel out of the page we send back.
MAX_FIELD = 10_000
MAX_AGENT = 300


def page(
    request: Request[Any, Any, Any],
    template: str,
    *,
    language: Language,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Template:
    return Template(
        f"public/{template}",
        context={
            "brand": page_brand(request.app),
            "t": texts(language),
            "locale": language,
            **context,
        },
        status_code=status_code,
        headers={**HEADERS, **(headers or {})},
    )


def browser_language(request: Request[Any, Any, Any], fallback: str | None = None) -> Language:
    return visitor_language(request.headers.get("accept-language"), fallback)


def refused(
    request: Request[Any, Any, Any], error: Exception, language: Language | None = None
) -> Template:
    """The page for a link that does not work (400) or names nothing (404)."""
    language = language or browser_language(request)
    if isinstance(error, TokenError):
        return page(
            request, "review_message.html", language=language, status_code=400, kind="invalid"
        )
    if isinstance(error, NotFound):
        return page(
            request, "review_message.html", language=language, status_code=404, kind="unknown"
        )
    raise error


def throttled(
    request: Request[Any, Any, Any], limits: list[tuple[Limit, str]], language: Language
) -> Template | None:
    """Count one attempt against each limit; the 429 page when one is spent, else None."""
    worst: Decision | None = None
    for limit, key in limits:
        decision = throttle.hit(request, limit, key)
        if not decision.allowed and (worst is None or decision.retry_after > worst.retry_after):
            worst = decision
    if worst is None:
        return None
    return page(
        request,
        "review_message.html",
        language=language,
        status_code=429,
        headers=throttle.retry_headers(worst),
        kind="throttled",
        minutes=max(1, math.ceil(worst.retry_after / 60)),
    )


def field(form: FormMultiDict, name: str) -> str:
    """A text field as typed (without surrounding blanks), cut to MAX_FIELD characters."""
    value = form.get(name)
    return value.strip()[:MAX_FIELD] if isinstance(value, str) else ""


def request_facts(request: Request[Any, Any, Any]) -> machines.Request:
    """What the machine heuristics look at: method, user agent and peer address."""
    agent = request.headers.get("user-agent", "")[:MAX_AGENT]
    return machines.Request(request.method, agent, request.client.host if request.client else None)
