"""Rendering a page: the shared layout context (who is signed in, the navigation)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.response import Template
from litestar_htmx import HTMXDetails, HTMXTemplate

from nurture.models import Role
from nurture.web.auth import Principal
from nurture.web.ui import formatting

EVERYONE = (Role.ADMIN, Role.MARKETER, Role.SALES)
MARKETING = (Role.ADMIN, Role.MARKETER)
SELLING = (Role.ADMIN, Role.SALES)
ADMINS = (Role.ADMIN,)


@dataclass(frozen=True, slots=True)
class NavItem:
    key: str
    label: str
    href: str
    icon: str
    roles: tuple[Role, ...]


# The sidebar, in order. Handlers guard with the same role tuples, so a link
# is shown exactly when its page would open.
NAVIGATION = (
    NavItem("home", "Home", "/", "home", EVERYONE),
    NavItem("contacts", "Contacts", "/contacts", "contacts", EVERYONE),
    NavItem("imports", "Imports", "/imports", "upload", MARKETING),
    NavItem("segments", "Segments", "/segments", "segments", MARKETING),
    NavItem("scoring", "Scoring", "/scoring", "star", MARKETING),
    NavItem("sequences", "Sequences", "/sequences", "sequences", EVERYONE),
    NavItem("broadcasts", "Broadcasts", "/broadcasts", "mail", MARKETING),
    NavItem("content", "Content", "/content", "content", EVERYONE),
    NavItem("inbox", "Sales inbox", "/inbox", "inbox", SELLING),
    NavItem("tasks", "Tasks", "/tasks", "check", EVERYONE),
    NavItem("reviews", "Reviews", "/reviews", "reviews", EVERYONE),
    NavItem("reports", "Reports", "/reports", "reports", EVERYONE),
    NavItem("settings", "Settings", "/settings", "settings", EVERYONE),
)


def nav_for(principal: Principal) -> list[NavItem]:
    """The navigation entries this caller's role may open."""
    return [item for item in NAVIGATION if principal.role in item.roles]


def page(
    template: str,
    principal: Principal,
    active: str,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Template:
    """A full page inside the signed-in layout."""
    return Template(
        template,
        context={
            "me": principal,
            "nav": nav_for(principal),
            "active": active,
            "fmt": formatting,
            **context,
        },
        status_code=status_code,
        headers=headers,
    )


def fragment(
    template: str, *, status_code: int = 200, trigger: str | None = None, **context: Any
) -> Template:
    """A piece of a page that htmx swaps in; `trigger` names an event htmx fires on arrival."""
    return HTMXTemplate(
        template_name=template,
        context={"fmt": formatting, **context},
        status_code=status_code,
        trigger_event=trigger,
        after="receive" if trigger else None,
    )


def from_htmx(request: Request[Any, Any, Any]) -> bool:
    """Whether htmx sent this request (and wants a fragment back, not a page)."""
    return bool(HTMXDetails(request))
