"""Sequence pages: the list, the visual flow builder (create, edit, activate), a sequence's
page with its per-step funnel, pause/resume/stop, manual enrolment and e-mail previews.

Everyone may look; only marketers and admins may change anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Redirect, Template

from campaigns.email.preview import render_for_contact
from campaigns.experiments.validation import MAIL_STEPS as TESTABLE_MAIL_STEPS
from campaigns.sequences import (
    catalogue,
    changes,
    enrol_lists,
    enrol_record,
    enrol_segment,
    experiments_of,
    listing,
    versions,
)
from campaigns.sequences.definition import MAIL_STEPS
from campaigns.sequences.funnel import funnel
from nurture.contacts import ContactFilter, list_contacts
from nurture.errors import Conflict, InvalidInput, NotFound, Problem
from nurture.models import SequenceStatus, utcnow
from nurture.web.auth import Principal, ui_roles
from nurture.web.mail import mail_config
from nurture.web.ui import enrol_views
from nurture.web.ui import sequence_forms as forms
from nurture.web.ui import sequence_views as views
from nurture.web.ui.actors import actor_names
from nurture.web.ui.params import Db, FormData, Me
from nurture.web.ui.render import EVERYONE, MARKETING, fragment, page
from nurture.web.ui.sequence_problems import plain
from segments import reading
from segments import store as segment_store
from templates.problems import TemplateInvalid, TemplateRenderError

READ = [ui_roles(*EVERYONE)]
WRITE = [ui_roles(*MARKETING)]
PAGE_SIZE = 25
SEARCH_RESULTS = 10
ACTIVATE = "activate"


@get("/sequences", guards=READ, sync_to_thread=True)
def sequence_list(
    db: Db,
    principal: Me,
    # Bounded so that the offset, (page_number - 1) * PAGE_SIZE, fits a BIGINT.
    page_number: Annotated[int, QueryParameter(ge=1, le=(2**63 - 1) // PAGE_SIZE)] = 1,
) -> Template:
    number = max(page_number, 1)
    rows, total = listing.sequence_page(db, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    ids = [row.sequence.id for row in rows]
    counts = listing.state_counts(db, ids)
    return page(
        "sequences/list.html",
        principal,
        "sequences",
        rows=rows,
        counts=counts,
        failed=listing.failed_counts(db, ids),
        page_number=number,
        has_next=number * PAGE_SIZE < total,
        total=total,
        can_edit=principal.role in MARKETING,
    )


def _builder(
    db: Db,
    principal: Principal,
    form: forms.SequenceForm,
    *,
    sequence_id: int | None,
    status_code: int = 200,
    error: str | None = None,
    draft_notice: str | None = None,
) -> Template:
    """The builder; `draft_notice` shows the form's problems as warnings on a stored draft
    (it was saved with them) rather than as the reasons nothing was saved."""
    sequence = versions.get_sequence(db, sequence_id) if sequence_id is not None else None
    return page(
        "sequences/edit.html",
        principal,
        "sequences",
        status_code=status_code,
        form=form,
        sequence=sequence,
        version=versions.current_version(db, sequence) if sequence is not None else None,
        catalogue=views.catalogue(catalogue.choices(db)),
        error=error,
        draft_notice=draft_notice,
    )


def _problem_count(problems: Sequence[Problem]) -> str:
    """Like "1 problem; fix it" or "3 problems; fix them"."""
    if len(problems) == 1:
        return "1 problem; fix it"
    return f"{len(problems)} problems; fix them"


def _draft_builder(
    db: Db,
    principal: Principal,
    sequence_id: int,
    problems: Sequence[Problem],
    notice: str,
    *,
    status_code: int = 200,
) -> Template:
    """The stored draft in the builder with its problems marked on their steps."""
    sequence = versions.get_sequence(db, sequence_id)
    body = versions.current_version(db, sequence).definition
    form = forms.with_problems(forms.form_of(sequence.name, body), problems)
    return _builder(
        db, principal, form, sequence_id=sequence_id, status_code=status_code, draft_notice=notice
    )


def _after_save(
    db: Db, principal: Principal, saved: changes.Saved, *, activate: bool, query: str
) -> Template | Redirect:
    """Where a builder save leads: a draft that activation refused back to the builder
    (422, the draft kept); a draft with problems to the builder, where they are marked;
    anything else to the sequence's page, with `query` telling it what happened."""
    sequence_id = saved.sequence.id
    if activate and saved.problems:
        notice = (
            f"Saved as a draft, but not activated: it has {_problem_count(saved.problems)} "
            "before activating."
        )
        return _draft_builder(db, principal, sequence_id, saved.problems, notice, status_code=422)
    if saved.problems:
        return Redirect(f"/sequences/{sequence_id}/edit?saved=1", status_code=303)
    return Redirect(f"/sequences/{sequence_id}?{query}", status_code=303)


@get("/sequences/new", guards=WRITE, sync_to_thread=True)
def new_sequence(db: Db, principal: Me) -> Template:
    return _builder(db, principal, forms.SequenceForm(), sequence_id=None)


@post("/sequences/new", guards=WRITE, sync_to_thread=True)
def create_sequence(db: Db, principal: Me, data: FormData) -> Template | Redirect:
    state, body, problems = forms.posted(data)
    activate = data.get("action") == ACTIVATE
    if body is not None and not problems:
        try:
            saved = changes.save_new(
                db, actor=principal.actor, name=state.name, body=body, then_activate=activate
            )
        except InvalidInput as exc:
            problems = exc.problems
        else:
            query = "activated=1" if saved.activated else "saved=1"
            return _after_save(db, principal, saved, activate=activate, query=query)
    # Nothing of a refused form is stored; the builder keeps what was built.
    db.rollback()
    return _builder(
        db, principal, forms.with_problems(state, problems), sequence_id=None, status_code=422
    )


@get("/sequences/{sequence_id:int}/edit", guards=WRITE, sync_to_thread=True)
def edit_sequence_form(
    db: Db, principal: Me, sequence_id: FromPath[int], saved: FromQuery[bool] = False
) -> Template:
    sequence = versions.get_sequence(db, sequence_id)
    if sequence.status == SequenceStatus.DRAFT.value:
        problems = versions.problems_of(db, sequence)
        if problems:
            count = _problem_count(problems)
            notice = (
                f"Saved as a draft with {count} before activating."
                if saved
                else f"This draft has {count} before activating."
            )
            return _draft_builder(db, principal, sequence_id, problems, notice)
    body = versions.current_version(db, sequence).definition
    return _builder(db, principal, forms.form_of(sequence.name, body), sequence_id=sequence_id)


@post("/sequences/{sequence_id:int}/edit", guards=WRITE, sync_to_thread=True)
def edit_sequence(
    db: Db, principal: Me, sequence_id: FromPath[int], data: FormData
) -> Template | Redirect:
    sequence = versions.get_sequence(db, sequence_id)
    state, body, problems = forms.posted(data)
    activate = data.get("action") == ACTIVATE
    if body is not None and not problems:
        try:
            saved = changes.save(
                db,
                sequence_id=sequence_id,
                actor=principal.actor,
                name=state.name,
                body=body,
                then_activate=activate,
            )
        except InvalidInput as exc:
            problems = exc.problems
        except Conflict as exc:
            db.rollback()
            return _builder(
                db, principal, state, sequence_id=sequence.id, status_code=409, error=str(exc)
            )
        else:
            query = "saved=1" if saved.published is None else f"published={saved.published}"
            if saved.activated:
                query += "&activated=1"
            return _after_save(db, principal, saved, activate=activate, query=query)
    db.rollback()
    return _builder(
        db,
        principal,
        forms.with_problems(state, problems),
        sequence_id=sequence_id,
        status_code=422,
    )


def _authors(db: Db, sequence_id: int) -> dict[int, str]:
    """Version number -> who wrote it, in words (a user's name, "command line")."""
    actors = listing.version_authors(db, sequence_id)
    names = actor_names(db, actors.values())
    return {number: names[actor] for number, actor in actors.items()}


def _detail(
    db: Db, principal: Principal, sequence_id: int, *, status_code: int = 200, **extra: Any
) -> Template:
    sequence = versions.get_sequence(db, sequence_id)
    version = versions.current_version(db, sequence)
    names = catalogue.template_names(db)
    rows = views.outline(version.definition, names, catalogue.segment_names(db))
    is_draft = sequence.status == SequenceStatus.DRAFT.value
    result = funnel(db, sequence_id)
    funnel_rows = views.funnel_rows(rows, result)
    context: dict[str, Any] = {
        "sequence": sequence,
        "version": version,
        "funnel": result,
        "rows": funnel_rows,
        "chart": views.chart_data(funnel_rows),
        "versions": listing.versions_of(db, sequence_id),
        "authors": _authors(db, sequence_id),
        # A draft's e-mail step may have no template chosen yet: nothing to preview.
        "mail_steps": [r for r in rows if r.type in MAIL_STEPS and r.template_id is not None],
        "draft_problems": versions.problems_of(db, sequence) if is_draft else [],
        # Problems as the builder words them ("Step 2 (branch): the 'yes' path has no steps").
        "in_words": partial(plain, body=version.definition),
        "contacts": views.contact_choices(catalogue.sample_contacts(db)),
        # The test of each mail or split step that has one, for its link on the step row.
        "experiments": experiments_of.of_sequence(db, sequence_id),
        # What experiments can test (not every mail step: review e-mails, for one).
        "testable": (*TESTABLE_MAIL_STEPS, "split"),
        "can_edit": principal.role in MARKETING,
        "notice": None,
        "error": None,
        "problems": [],
        "report": None,
        "segments": _segment_choices(db) if principal.role in MARKETING else [],
        "segment_preview": None,
        **extra,
    }
    return page("sequences/detail.html", principal, "sequences", status_code=status_code, **context)


@get("/sequences/{sequence_id:int}", guards=READ, sync_to_thread=True)
def sequence_page(
    db: Db,
    principal: Me,
    sequence_id: FromPath[int],
    saved: FromQuery[bool] = False,
    activated: FromQuery[bool] = False,
    published: FromQuery[int] = 0,
    done: FromQuery[str] = "",
    segment_id: FromQuery[int] = 0,
    enrolment: FromQuery[int] = 0,
) -> Template:
    notes = []
    if published:
        notes.append(
            f"Published version {published}. People already enrolled continue on the version "
            "they joined; new enrolments join this one."
        )
    elif saved:
        notes.append("Saved.")
    if activated:
        notes.append("The sequence is active: enrolled contacts move through it on schedule.")
    if done in _DONE:
        notes.append(_DONE[done])
    box = _enrol_box(db, sequence_id, segment_id, enrolment) if principal.role in MARKETING else {}
    return _detail(db, principal, sequence_id, notice=" ".join(notes) or None, **box)


_DONE = {
    "paused": "Paused: nobody moves on until you resume.",
    "resumed": "Resumed: steps that fell due meanwhile run now.",
    "stopped": "Stopped for good: everyone still inside has left the sequence.",
}


@post("/sequences/{sequence_id:int}/activate", guards=WRITE, sync_to_thread=True)
def activate_sequence(db: Db, principal: Me, sequence_id: FromPath[int]) -> Template | Redirect:
    try:
        changes.activate(db, sequence_id, actor=principal.actor)
    except InvalidInput as exc:
        db.rollback()
        return _detail(
            db,
            principal,
            sequence_id,
            status_code=422,
            error="Not activated: the sequence has problems. Fix them in the editor first.",
            problems=exc.problems,
        )
    except Conflict as exc:
        db.rollback()
        return _detail(db, principal, sequence_id, status_code=409, error=f"Not activated: {exc}.")
    return Redirect(f"/sequences/{sequence_id}?activated=1", status_code=303)


def _control(db: Db, principal: Principal, sequence_id: int, action: str) -> Template | Redirect:
    try:
        if action == "paused":
            changes.pause(db, sequence_id, actor=principal.actor)
        elif action == "resumed":
            changes.resume(db, sequence_id, actor=principal.actor)
        else:
            changes.stop(db, sequence_id, actor=principal.actor, now=utcnow())
    except Conflict as exc:
        db.rollback()
        return _detail(db, principal, sequence_id, status_code=409, error=f"Not done: {exc}.")
    return Redirect(f"/sequences/{sequence_id}?done={action}", status_code=303)


@post("/sequences/{sequence_id:int}/pause", guards=WRITE, sync_to_thread=True)
def pause_sequence(db: Db, principal: Me, sequence_id: FromPath[int]) -> Template | Redirect:
    return _control(db, principal, sequence_id, "paused")


@post("/sequences/{sequence_id:int}/resume", guards=WRITE, sync_to_thread=True)
def resume_sequence(db: Db, principal: Me, sequence_id: FromPath[int]) -> Template | Redirect:
    return _control(db, principal, sequence_id, "resumed")


@post("/sequences/{sequence_id:int}/stop", guards=WRITE, sync_to_thread=True)
def stop_sequence(db: Db, principal: Me, sequence_id: FromPath[int]) -> Template | Redirect:
    """Stop for good: everyone still inside leaves with reason `stopped`."""
    return _control(db, principal, sequence_id, "stopped")


@post("/sequences/{sequence_id:int}/enrol", guards=WRITE, sync_to_thread=True)
def enrol(db: Db, principal: Me, sequence_id: FromPath[int], data: FormData) -> Template | Redirect:
    """Enrol the contacts whose addresses were pasted or picked, then show the report
    of who was skipped and why on the sequence's page (a reload shows it again)."""
    addresses = forms.pasted_addresses(data.get("emails", ""))
    if not addresses:
        return _detail(
            db, principal, sequence_id, status_code=422, error="Paste or pick at least one address."
        )
    try:
        entry = changes.enrol_from_form(
            db, sequence_id, actor=principal.actor, emails=addresses, now=utcnow()
        )
    except (Conflict, InvalidInput) as exc:
        db.rollback()
        status = 409 if isinstance(exc, Conflict) else 422
        return _detail(
            db, principal, sequence_id, status_code=status, error=f"Nobody enrolled: {exc}."
        )
    return _enrolled(sequence_id, entry.id)


@post("/sequences/{sequence_id:int}/enrol/segment", guards=WRITE, sync_to_thread=True)
def enrol_a_segment(
    db: Db, principal: Me, sequence_id: FromPath[int], data: FormData
) -> Template | Redirect:
    """Enrol a segment's current members, a batch per transaction (see enrol_segment)."""
    segment_id = data.get("segment_id", "")
    if not segment_id.isdigit():
        return _detail(db, principal, sequence_id, status_code=422, error="Choose a segment.")
    try:
        entry = enrol_segment.enrol_segment(
            db,
            sequence_id,
            int(segment_id),
            actor=principal.actor,
            now=utcnow(),
            each_batch=db.commit,
        )
    except (Conflict, NotFound) as exc:
        db.rollback()
        status = 409 if isinstance(exc, Conflict) else 404
        return _detail(
            db, principal, sequence_id, status_code=status, error=f"Nobody enrolled: {exc}."
        )
    return _enrolled(sequence_id, entry.id)


def _segment_choices(db: Db) -> list[tuple[int, str, int]]:
    """(id, name, members now) of every segment, for the enrol box to choose from."""
    sizes = reading.sizes(db)
    return [(s.id, s.name, sizes.get(s.id, 0)) for s in segment_store.list_segments(db)]


def _enrolled(sequence_id: int, entry_id: int) -> Redirect:
    return Redirect(f"/sequences/{sequence_id}?enrolment={entry_id}#enrol-title", status_code=303)


def _enrol_box(db: Db, sequence_id: int, segment_id: int, enrolment: int) -> dict[str, Any]:
    """The enrol box's segments to choose from, a chosen segment's preview and the report
    of an enrolment, for the sequence's page."""
    box: dict[str, Any] = {"segment_preview": None, "report": None}
    if segment_id:
        try:
            preview_of = enrol_segment.preview_segment(db, sequence_id, segment_id)
        except (Conflict, NotFound):
            pass  # the box says why nobody can join, or the segment is gone from the choice
        else:
            box["segment_preview"] = enrol_views.preview_view(preview_of)
    if enrolment:
        record = enrol_record.read(db, sequence_id, enrolment)
        if record is not None:
            ids = [p.contact_id for p in record.people if p.contact_id is not None]
            emails = enrol_lists.addresses(db, contact_ids=ids)
            box["report"] = enrol_views.report_view(record, emails)
    return box


@get("/sequences/contacts", guards=WRITE, sync_to_thread=True)
def contact_search(db: Db, q: FromQuery[str] = "") -> Template:
    """Contacts matching a search, for the enrol form to pick from (an htmx fragment)."""
    text = q.strip()
    found = (
        list_contacts(db, ContactFilter(search=text), limit=SEARCH_RESULTS).items if text else []
    )
    return fragment("sequences/_contacts.html", contacts=found, query=text)


@get("/sequences/preview", guards=READ, sync_to_thread=True)
def preview(
    request: Request[Any, Any, Any],
    db: Db,
    template_id: FromQuery[int] = 0,
    contact_id: FromQuery[int] = 0,
) -> Template:
    """An e-mail step's template rendered for a sample contact (an htmx fragment)."""
    if not template_id or not contact_id:
        note = "Choose an e-mail step and a contact to preview it as."
        return fragment("sequences/_preview.html", rendered=None, problems=[], note=note)
    problems: list[str] = []
    rendered = None
    try:
        rendered = render_for_contact(
            db,
            mail_config(request.app),
            template_id=template_id,
            contact_id=contact_id,
            exact=False,
            fill_samples=True,
        ).rendered
    except TemplateInvalid as exc:
        problems = [p.describe() for p in exc.template_problems]
    except TemplateRenderError as exc:
        problems = [exc.problem.describe()]
    except (NotFound, InvalidInput) as exc:
        problems = [str(exc)]
    return fragment("sequences/_preview.html", rendered=rendered, problems=problems, note=None)


handlers = [
    sequence_list,
    new_sequence,
    create_sequence,
    contact_search,
    preview,
    sequence_page,
    edit_sequence_form,
    edit_sequence,
    activate_sequence,
    enrol,
    enrol_a_segment,
    pause_sequence,
    resume_sequence,
    stop_sequence,
]
