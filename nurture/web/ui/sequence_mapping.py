"""Mapping people from an older sequence version onto the current one, from a page.

The page lists the older versions that still have people walking them (active or
paused), and for each step of the chosen version that has people on it, a choice of
the current version's step to move them to. Posting runs changes.map_versions, the
audited function the API uses, and shows what it moved and kept.

Marketers and admins only, like every other sequence change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from campaigns.sequences import changes, versions
from campaigns.sequences.catalogue import segment_names, template_names
from campaigns.sequences.listing import live_by_step
from campaigns.sequences.mapping import MappingResult, mappable_versions
from nurture.errors import Conflict, InvalidInput, Problem
from nurture.models import utcnow
from nurture.validation import parse_id
from nurture.web.auth import Principal, ui_roles
from nurture.web.ui import flash
from nurture.web.ui import sequence_views as views
from nurture.web.ui.params import Db, FormData, Me
from nurture.web.ui.render import MARKETING, page

WRITE = [ui_roles(*MARKETING)]
# A select named `step.<old key>` carries the new key for that old step; empty leaves it.
STEP_FIELD = "step."
FLASH = "mapping"

FromVersion = Annotated[int | None, QueryParameter(name="from", required=False)]


@dataclass(frozen=True, slots=True)
class Target:
    """A step of the current version, as a choice in the selects."""

    key: str
    label: str


@dataclass(frozen=True, slots=True)
class StepChoice:
    """A step of the old version with people on it, and what the form says to do with it."""

    key: str
    label: str
    live: int
    chosen: str
    error: str | None


@dataclass(frozen=True, slots=True)
class ResultRow:
    old: str
    new: str
    moved: int
    kept: int


def _mapping_page(
    db: Session,
    principal: Principal,
    sequence_id: int,
    from_version: int | None,
    *,
    posted: dict[str, str] | None = None,
    problems: list[Problem] | None = None,
    result: MappingResult | None = None,
    applied: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Template:
    sequence = versions.get_sequence(db, sequence_id)
    current = versions.current_version(db, sequence)
    older = mappable_versions(db, sequence_id=sequence_id)
    selected = next((o for o in older if o.version.id == from_version), None)
    if selected is None and older:
        if from_version is not None and result is None and error is None:
            error = "That version has nobody left to map; showing the newest one that has."
        selected = older[0]
        # The posted choices were for another version's steps: start from the defaults.
        posted = None
    names = template_names(db)
    segments = segment_names(db)
    targets = [
        Target(row.key, views.TYPE_LABELS.get(row.type, row.type))
        for row in views.outline(current.definition, names, segments)
    ]
    field_errors = {p.field: p.message for p in reversed(problems or [])}
    steps: list[StepChoice] = []
    if selected is not None:
        here = live_by_step(db, sequence_id=sequence_id, version_id=selected.version.id)
        target_keys = {t.key for t in targets}
        old_rows = views.outline(selected.version.definition, names, segments)
        labels = {row.key: row.label for row in old_rows}
        # Outline order first; a key the outline misses still gets a row so nobody is hidden.
        keys = [key for key in labels if key in here] + sorted(set(here) - set(labels))
        for key in keys:
            # A key names the same step in every version (see mapping.py): offer it first.
            default = key if key in target_keys else ""
            steps.append(
                StepChoice(
                    key=key,
                    label=labels.get(key, key),
                    live=here[key],
                    chosen=posted.get(STEP_FIELD + key, "") if posted is not None else default,
                    error=field_errors.get(f"step_map.{key}"),
                )
            )
    # Problems no row shows (the version, an empty map, a hand-made key) go above the form.
    shown_fields = {f"step_map.{step.key}" for step in steps}
    general = [p for p in problems or [] if p.field not in shown_fields]
    rows = [
        ResultRow(old, new, result.moved.get(old, 0), result.kept.get(old, 0))
        for old, new in sorted((applied or {}).items())
        if result is not None
    ]
    mapped_from = (
        versions.get_version(db, version_id=result.from_version_id) if result is not None else None
    )
    return page(
        "sequences/mapping.html",
        principal,
        "sequences",
        status_code=status_code,
        sequence=sequence,
        version=current,
        older=older,
        selected=selected,
        targets=targets,
        steps=steps,
        general=general,
        result=result,
        result_rows=rows,
        mapped_from=mapped_from,
        error=error,
        step_field=STEP_FIELD,
    )


def _step_map(data: dict[str, str]) -> dict[str, str]:
    """The chosen new step per old step; an empty choice leaves that step on its version."""
    return {
        name[len(STEP_FIELD) :]: value.strip()
        for name, value in data.items()
        if name.startswith(STEP_FIELD) and value.strip()
    }


@get("/sequences/{sequence_id:int}/mapping", guards=WRITE, sync_to_thread=True)
def mapping_page(
    request: Request[Any, Any, Any],
    db: Db,
    principal: Me,
    sequence_id: FromPath[int],
    from_version: FromVersion = None,
) -> Template:
    done = flash.take(request, FLASH)
    if isinstance(done, dict) and done.get("sequence_id") == sequence_id:
        result = MappingResult(
            done["from_version_id"], done["to_version_id"], done["moved"], done["kept"]
        )
        return _mapping_page(
            db, principal, sequence_id, from_version, result=result, applied=done["applied"]
        )
    return _mapping_page(db, principal, sequence_id, from_version)


@post("/sequences/{sequence_id:int}/mapping", guards=WRITE, sync_to_thread=True)
def map_people(
    request: Request[Any, Any, Any],
    db: Db,
    principal: Me,
    sequence_id: FromPath[int],
    data: FormData,
    from_version: FromVersion = None,
) -> Template | Redirect:
    """Move the people at each chosen step onto the current version (changes.map_versions)."""
    raw = data.get("from_version_id", "").strip()
    # The posted version wins over the query: it is the one whose steps the form showed.
    parsed = parse_id(raw)
    version_id: object = parsed if parsed is not None else (raw or from_version)
    shown = version_id if isinstance(version_id, int) else from_version
    step_map = _step_map(data)
    if not step_map:
        return _mapping_page(
            db,
            principal,
            sequence_id,
            shown,
            posted=data,
            error="Nobody was moved: choose a step of the current version for at least one step.",
            status_code=422,
        )
    try:
        result = changes.map_versions(
            db,
            sequence_id,
            actor=principal.actor,
            from_version_id=version_id,
            step_map=step_map,
            now=utcnow(),
        )
    except InvalidInput as exc:
        db.rollback()
        return _mapping_page(
            db, principal, sequence_id, shown, posted=data, problems=exc.problems, status_code=422
        )
    except Conflict as exc:
        db.rollback()
        return _mapping_page(
            db,
            principal,
            sequence_id,
            shown,
            posted=data,
            error=f"Nobody was moved: {exc}.",
            status_code=409,
        )
    # The page after the redirect shows what moved, once (step keys and counts: small).
    flash.put(
        request,
        FLASH,
        {
            "sequence_id": sequence_id,
            "from_version_id": result.from_version_id,
            "to_version_id": result.to_version_id,
            "moved": result.moved,
            "kept": result.kept,
            "applied": step_map,
        },
    )
    return Redirect(
        f"/sequences/{sequence_id}/mapping?from={result.from_version_id}", status_code=303
    )


handlers = [mapping_page, map_people]
