"""Settings → Audit log (admins only): who changed what, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from litestar import get
from litestar.params import QueryParameter
from litestar.response import Template

from nurture.models import AuditEntry
from nurture.web.auth import ui_roles
from nurture.web.ui import queries
from nurture.web.ui.actors import actor_names
from nurture.web.ui.params import Db, Me
from nurture.web.ui.render import ADMINS, page

PAGE_SIZE = 50
MAX_CHANGE_TEXT = 120


@dataclass(frozen=True, slots=True)
class AuditRow:
    at: datetime
    actor: str
    action: str
    entity: str
    entity_link: str | None
    changes: list[tuple[str, str]]


def _changes(entry: AuditEntry) -> list[tuple[str, str]]:
    pairs = []
    for name, value in sorted((entry.changes or {}).items()):
        if isinstance(value, list) and len(value) == 2:
            text = f"{_blank(value[0])} → {_blank(value[1])}"
        else:
            text = _blank(value)
        pairs.append((name, text if len(text) <= MAX_CHANGE_TEXT else text[:119] + "…"))
    return pairs


def _blank(value: object) -> str:
    return "—" if value in (None, "") else str(value)


def _row(entry: AuditEntry, names: dict[str, str]) -> AuditRow:
    link = None
    if entry.entity_type == "contact" and entry.entity_id:
        link = f"/contacts/{entry.entity_id}"
    entity = entry.entity_type + (f" #{entry.entity_id}" if entry.entity_id else "")
    return AuditRow(
        at=entry.at,
        actor=names[entry.actor],
        action=entry.action,
        entity=entity,
        entity_link=link,
        changes=_changes(entry),
    )


@get("/settings/audit", guards=[ui_roles(*ADMINS)], sync_to_thread=True)
def audit_log(
    db: Db,
    principal: Me,
    before: Annotated[int | None, QueryParameter(ge=1)] = None,
) -> Template:
    entries, more = queries.audit_page(db, before=before, limit=PAGE_SIZE)
    names = actor_names(db, (e.actor for e in entries))
    return page(
        "settings/audit.html",
        principal,
        "settings",
        rows=[_row(e, names) for e in entries],
        more=more,
        paged=before is not None,
    )


handlers = [audit_log]
