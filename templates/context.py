"""What a template may see: a few named roots holding plain data only.

Templates never get ORM objects (an object would lead to its relations, and from
there to other contacts or settings): callers build plain dicts, and `check_context`
refuses anything else.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

# The names a template can use, unless the caller passes its own set. `unsubscribe_url`
# (and its alias `preferences_url`) is filled in by the renderer for every recipient.
ALLOWED_NAMES: frozenset[str] = frozenset(
    {
        "contact",  # the recipient: see contact_view()
        "rep",  # the sender who signs: see rep_view()
        "brand",  # the sending firm: name, logo_url, color, address
        "links",  # per-send links, by name
        "case_study",
        "webinar",
        "article",
        "project",
        "lead",  # internal hand-off mail: the qualified lead
        "handoff",
        "task",  # internal task escalation mail: the overdue task
        "nps_links",  # eleven signed score links, 0..10
        "testimonial_url",
        "feedback_url",  # a passive client's follow-up page
        "referral_url",
        "referral",  # a referral thank-you: the referred colleague's first name, the stage
        "testimonial",  # a quote from the testimonials library: quote, display_name
        "unsubscribe_url",
        "preferences_url",
    }
)
RENDERER_NAMES: frozenset[str] = frozenset({"unsubscribe_url", "preferences_url"})

_SCALARS = (str, int, float, bool, Decimal, date, datetime, type(None))
_MAX_DEPTH = 8


def contact_view(
    *,
    email: str,
    first_name: str | None = None,
    last_name: str | None = None,
    title: str | None = None,
    company_name: str | None = None,
    company_industry: str | None = None,
    attributes: Mapping[str, Any] | None = None,
    time_zone: str | None = None,
) -> dict[str, Any]:
    """The `contact` value templates see, from plain fields. `time_zone` (IANA name) is
    what the `local_time` filter shows instants in."""
    return {
        "email": email,
        "first_name": first_name,
        "last_name": last_name,
        "full_name": " ".join(p for p in (first_name, last_name) if p),
        "title": title,
        "company": {"name": company_name, "industry": company_industry},
        "attributes": dict(attributes or {}),
        "time_zone": time_zone,
    }


def rep_view(
    *,
    name: str,
    email: str,
    title: str | None = None,
    phone: str | None = None,
    signature: str | None = None,
) -> dict[str, Any]:
    """The `rep` value (the contact's owner, who signs the e-mail)."""
    return {"name": name, "email": email, "title": title, "phone": phone, "signature": signature}


def sample_context() -> dict[str, Any]:
    """A complete context with made-up values, for test renders and previews."""
    return {
        "contact": contact_view(
            email="ada@example.com",
            first_name="Ada",
            last_name="Lovelace",
            title="Head of Engineering",
            company_name="Analytical Engines Ltd",
            company_industry="manufacturing",
        ),
        "rep": rep_view(name="Charles Babbage", email="charles@example.net", title="Partner"),
        "case_study": {
            "title": "How a manufacturer cut lead time by 30%",
            "url": "https://example.net/cases/manufacturing",
            "summary": "A short summary of the case study.",
        },
        "webinar": {
            "title": "Scaling operations",
            "starts_at": datetime(2030, 3, 5, 15, 0, tzinfo=UTC),
            "url": "https://example.net/webinars/scaling",
        },
        "links": {"website": "https://example.net/"},
    }


def check_context(
    context: Mapping[str, object], allowed_names: frozenset[str] = ALLOWED_NAMES
) -> dict[str, object]:
    """`context` as a dict, after checking it holds only allowed roots and plain data.

    Raises TypeError naming the first offending path (a programming error, not user input).
    """
    unknown = set(context) - allowed_names
    if unknown:
        raise TypeError(f"context names not allowed in templates: {sorted(unknown)}")
    for name, value in context.items():
        _check_value(value, name, 0)
    return dict(context)


def _check_value(value: object, path: str, depth: int) -> None:
    if isinstance(value, _SCALARS):
        return
    if depth >= _MAX_DEPTH:
        raise TypeError(f"context value {path} is nested too deeply")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"context key in {path} is not a string: {key!r}")
            _check_value(item, f"{path}.{key}", depth + 1)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_value(item, f"{path}[{index}]", depth + 1)
    else:
        raise TypeError(f"context value {path} is a {type(value).__name__}, not plain data")
