"""Settings → Qualification (marketers and admins): the MQL rule, the SLA and working
hours, the fallback owner and how rejected leads are recycled.

The MQL rule is edited as its JSON document (the segment rule language); a problem
in it is shown by its path in the document, like the segment editor's.
"""

from __future__ import annotations

import json
from typing import Any

from litestar import get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import select

from nurture.errors import InvalidInput, Problem
from nurture.models import Sequence
from nurture.qualification import settings as qualification_settings
from nurture.qualification.teams import list_reps
from nurture.web.auth import ui_roles
from nurture.web.ui.params import Db, FormData, Me
from nurture.web.ui.render import MARKETING, page

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# Form fields that carry whole numbers (blank: none, for the ones that may be null).
_NUMBERS = ("sla_hours", "fallback_owner_id", "recycle_sequence_id", "recycle_score_to")
_NULLABLE = ("fallback_owner_id", "recycle_sequence_id", "recycle_score_to")


@get("/settings/qualification", guards=[ui_roles(*MARKETING)], sync_to_thread=True)
def qualification_page(db: Db, principal: Me, saved: FromQuery[str] = "") -> Template:
    current = qualification_settings.get(db)
    form = _form_of(current.as_dict())
    notice = "Qualification settings saved." if saved else ""
    return _page(db, principal, form=form, stored=current.stored, notice=notice)


@post("/settings/qualification", guards=[ui_roles(*MARKETING)], sync_to_thread=True)
def save_qualification(db: Db, principal: Me, data: FormData) -> Template | Redirect:
    form: dict[str, Any] = {k: str(v) for k, v in data.items()}
    problems: list[Problem] = []
    changes = _changes(form, problems)
    if not problems:
        try:
            qualification_settings.update(db, changes, actor=principal.actor, user_id=principal.id)
        except InvalidInput as exc:
            problems = exc.problems
        else:
            return Redirect("/settings/qualification?saved=1", status_code=303)
    db.rollback()
    errors: dict[str, str] = {}
    for problem in problems:
        key = "mql_rule" if problem.field.startswith("mql_rule") else problem.field
        errors.setdefault(key, "")
        errors[key] = "; ".join(filter(None, [errors[key], _message(problem)]))
    form["days"] = [i for i in range(7) if form.get(f"day_{i}")]
    stored = qualification_settings.get(db).stored
    return _page(db, principal, form=form, errors=errors, stored=stored, status=422)


def _message(problem: Problem) -> str:
    # Inside the rule, say where: "rule.all[0].field: 'shoe_size' is not a field…".
    if problem.field.startswith("mql_rule."):
        return f"{problem.field.removeprefix('mql_rule.')}: {problem.message}"
    return problem.message


def _changes(form: dict[str, Any], problems: list[Problem]) -> dict[str, Any]:
    changes: dict[str, Any] = {
        "enabled": form.get("enabled") == "1",
        "work_start": form.get("work_start", "").strip(),
        "work_end": form.get("work_end", "").strip(),
        "default_time_zone": form.get("default_time_zone", "").strip(),
        "work_days": [i for i in range(7) if form.get(f"day_{i}")],
    }
    for name in _NUMBERS:
        text = form.get(name, "").strip()
        if not text and name in _NULLABLE:
            changes[name] = None
        elif text.isascii() and text.isdigit() and len(text) <= 18:
            changes[name] = int(text)
        else:
            problems.append(Problem(name, "must be a whole number"))
    try:
        changes["mql_rule"] = json.loads(form.get("mql_rule", ""))
    except ValueError as exc:
        problems.append(Problem("mql_rule", f"is not valid JSON ({exc})"))
    return changes


def _form_of(values: dict[str, Any]) -> dict[str, Any]:
    form: dict[str, Any] = {k: "" if v is None else str(v) for k, v in values.items()}
    form["mql_rule"] = json.dumps(values["mql_rule"], indent=2, ensure_ascii=False)
    form["enabled"] = "1" if values["enabled"] else ""
    form["days"] = list(values["work_days"])
    return form


def _page(
    db: Db,
    principal: Me,
    *,
    form: dict[str, Any],
    stored: bool,
    errors: dict[str, str] | None = None,
    notice: str = "",
    status: int = 200,
) -> Template:
    sequences = list(db.execute(select(Sequence.id, Sequence.name).order_by(Sequence.name)))
    reps = [r for r in list_reps(db) if r.active]
    return page(
        "settings/qualification.html",
        principal,
        "settings",
        status_code=status,
        form=form,
        errors=errors or {},
        notice=notice,
        stored=stored,
        days=list(enumerate(DAYS)),
        reps=reps,
        sequences=sequences,
    )


handlers = [qualification_page, save_qualification]
