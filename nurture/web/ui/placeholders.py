"""Sections that later releases fill in; until then each says honestly what will be there."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import get
from litestar.handlers import HTTPRouteHandler
from litestar.response import Template

from nurture.models import Role
from nurture.web.auth import ui_roles
from nurture.web.ui.params import Me
from nurture.web.ui.render import NAVIGATION, page


@dataclass(frozen=True, slots=True)
class Upcoming:
    key: str
    title: str
    summary: str
    points: tuple[str, ...]


UPCOMING = (
    Upcoming(
        "reviews",
        "Reviews",
        "What clients say once a project is finished.",
        (
            "NPS surveys sent when a project completes.",
            "Promoters invited to give a testimonial or refer a colleague.",
            "Detractors routed to a person who can put things right.",
        ),
    ),
)


def _roles_of(key: str) -> tuple[Role, ...]:
    return next(item.roles for item in NAVIGATION if item.key == key)


def _handler(section: Upcoming) -> HTTPRouteHandler:
    def show(principal: Me) -> Template:
        return page("upcoming.html", principal, section.key, section=section)

    show.__name__ = f"upcoming_{section.key}"
    handler: Any = get(
        f"/{section.key}",
        guards=[ui_roles(*_roles_of(section.key))],
        sync_to_thread=False,
        name=f"upcoming-{section.key}",
    )
    return handler(show)  # type: ignore[no-any-return]


handlers = [_handler(section) for section in UPCOMING]
