"""Experiment pages: the editor reached from a sequence's mail or split step (create, edit
a draft, the live "N sends per variant" line), and the results page (table, decision
and why, charts of the rates, the posterior and a bandit's allocation; start, stop and
"declare winner", refused with the reason when the data do not support it).

Everyone may read results; only marketers and admins change anything. Labels are in
English or Russian after the browser's Accept-Language (experiment_words).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from campaigns.email.store import list_templates
from campaigns.experiments import store
from campaigns.sequences import catalogue, versions
from campaigns.sequences.definition import MAIL_STEPS
from nurture.errors import Conflict, InvalidInput, NotFound, Problem
from nurture.models import ExperimentKind, ExperimentStatus, utcnow
from nurture.web.auth import Principal, ui_roles
from nurture.web.ui import experiment_forms as forms
from nurture.web.ui import experiment_views as views
from nurture.web.ui.experiment_words import CATALOGUE
from nurture.web.ui.language import Language, ui_language, words
from nurture.web.ui.params import Db, FormData, Me
from nurture.web.ui.render import EVERYONE, MARKETING, fragment, page
from nurture.web.ui.sequence_views import step_label

READ = [ui_roles(*EVERYONE)]
WRITE = [ui_roles(*MARKETING)]
AnyRequest = Request[Any, Any, Any]
_DONE = {"started": "started", "stopped": "stopped_note", "saved": "saved", "created": "created"}


def _words(request: AnyRequest) -> tuple[Language, Mapping[str, str]]:
    language = ui_language(request)
    return language, words(CATALOGUE, language)


def _results_page(
    request: AnyRequest,
    db: Session,
    principal: Principal,
    experiment_id: int,
    *,
    status_code: int = 200,
    notice: str | None = None,
    error: str | None = None,
    problems: list[Problem] | None = None,
) -> Template:
    language, t = _words(request)
    experiment = store.get_experiment(db, experiment_id)
    variants = store.variants_of(db, experiment_id)
    results = experiment.results
    decision = views.decision_of(results)
    plan = views.plan_of(results)
    sequence = (
        versions.get_sequence(db, experiment.sequence_id)
        if experiment.sequence_id is not None
        else None
    )
    return page(
        "experiments/results.html",
        principal,
        "sequences",
        status_code=status_code,
        lang=language,
        t=t,
        experiment=experiment,
        sequence=sequence,
        variants=variants,
        results=results,
        decision=decision,
        plan=plan,
        per=(results or {}).get("per", "delivered"),
        rows=views.rows(results, experiment.winner_variant),
        charts={
            "rates": views.rate_chart(results),
            "posterior": views.posterior_chart(results),
            "allocation": views.allocation_chart(results),
            "words": {k: t[k] for k in ("rate_axis", "density_axis", "share_axis", "interval")},
        },
        choices=views.variant_choices(variants),
        pct=views.percent,
        can_edit=principal.role in MARKETING,
        notice=notice,
        error=error,
        problems=problems or [],
    )


@get("/experiments/{experiment_id:int}", guards=READ, sync_to_thread=True)
def results_page(
    request: AnyRequest,
    db: Db,
    principal: Me,
    experiment_id: FromPath[int],
    done: FromQuery[str] = "",
) -> Template:
    _, t = _words(request)
    notice = t[_DONE[done]] if done in _DONE else None
    if done.startswith("declared:"):
        notice = t["declared"].format(key=done.removeprefix("declared:"))
    return _results_page(request, db, principal, experiment_id, notice=notice)


@post("/experiments/{experiment_id:int}/declare", guards=WRITE, sync_to_thread=True)
def declare(
    request: AnyRequest, db: Db, principal: Me, experiment_id: FromPath[int], data: FormData
) -> Template | Redirect:
    key = data.get("variant_key", "").strip()
    try:
        store.declare_winner(
            db,
            experiment_id,
            variant_key=key,
            actor=principal.actor,
            now=utcnow(),
            reason=data.get("reason", "").strip()[:500],
        )
    except store.DeclarationRefused as exc:
        db.rollback()
        _, t = _words(request)
        return _results_page(
            request,
            db,
            principal,
            experiment_id,
            status_code=409,
            error=f"{t['not_declared']}: {exc.reason}",
        )
    except (Conflict, InvalidInput) as exc:
        db.rollback()
        return _refused(request, db, principal, experiment_id, exc, "not_declared")
    db.commit()
    return Redirect(f"/experiments/{experiment_id}?done=declared:{key}", status_code=303)


def _refused(
    request: AnyRequest,
    db: Session,
    principal: Principal,
    experiment_id: int,
    exc: Conflict | InvalidInput,
    headline: str,
) -> Template:
    _, t = _words(request)
    invalid = isinstance(exc, InvalidInput)
    return _results_page(
        request,
        db,
        principal,
        experiment_id,
        status_code=422 if invalid else 409,
        error=t[headline] if invalid else f"{t[headline]}: {exc}",
        problems=exc.problems if isinstance(exc, InvalidInput) else None,
    )


@post("/experiments/{experiment_id:int}/start", guards=WRITE, sync_to_thread=True)
def start(
    request: AnyRequest, db: Db, principal: Me, experiment_id: FromPath[int]
) -> Template | Redirect:
    try:
        store.start_experiment(db, experiment_id, actor=principal.actor, now=utcnow())
    except (Conflict, InvalidInput) as exc:
        db.rollback()
        return _refused(request, db, principal, experiment_id, exc, "not_done")
    db.commit()
    return Redirect(f"/experiments/{experiment_id}?done=started", status_code=303)


@post("/experiments/{experiment_id:int}/stop", guards=WRITE, sync_to_thread=True)
def stop(
    request: AnyRequest, db: Db, principal: Me, experiment_id: FromPath[int]
) -> Template | Redirect:
    try:
        store.stop_experiment(db, experiment_id, actor=principal.actor, now=utcnow())
    except (Conflict, InvalidInput) as exc:
        db.rollback()
        return _refused(request, db, principal, experiment_id, exc, "not_done")
    db.commit()
    return Redirect(f"/experiments/{experiment_id}?done=stopped", status_code=303)


# The editor ---------------------------------------------------------------------------


def _find_step(body: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
    """The step with `key` anywhere in a definition (inside branches and split paths)."""

    def walk(steps: object) -> Mapping[str, Any] | None:
        for step in steps if isinstance(steps, list) else []:
            if not isinstance(step, Mapping):
                continue
            if step.get("key") == key:
                return step
            for arm in ("then", "else"):
                if (found := walk(step.get(arm))) is not None:
                    return found
            paths = step.get("paths")
            for path in paths if isinstance(paths, list) else []:
                if isinstance(path, Mapping) and (found := walk(path.get("steps"))) is not None:
                    return found
        return None

    return walk(body.get("steps"))


def _step_of(db: Session, sequence_id: int, step_key: str) -> Mapping[str, Any]:
    sequence = versions.get_sequence(db, sequence_id)
    step = _find_step(versions.current_version(db, sequence).definition, step_key)
    if step is None:
        raise NotFound("step", step_key)
    return step


def _editor(
    request: AnyRequest,
    db: Session,
    principal: Principal,
    form: forms.ExperimentForm,
    *,
    sequence_id: int,
    step: Mapping[str, Any],
    experiment_id: int | None,
    status_code: int = 200,
    error: str | None = None,
) -> Template:
    language, t = _words(request)
    sequence = versions.get_sequence(db, sequence_id)
    label = step_label(step, catalogue.template_names(db))
    if experiment_id is not None:
        title = t["edit_title"].format(name=form.name)
    elif form.kind == ExperimentKind.SPLIT.value:
        title = t["new_split_title"].format(step=label)
    else:
        title = t["new_title"].format(step=label)
    return page(
        "experiments/edit.html",
        principal,
        "sequences",
        status_code=status_code,
        lang=language,
        t=t,
        title=title,
        form=form,
        sequence=sequence,
        step=step,
        step_label=label,
        experiment_id=experiment_id,
        action=(
            f"/experiments/{experiment_id}/edit"
            if experiment_id is not None
            else f"/sequences/{sequence_id}/steps/{step.get('key')}/experiment"
        ),
        templates=[(tpl.id, tpl.name) for tpl in list_templates(db)],
        units=forms.DELAY_UNITS,
        error=error,
    )


def _new_form(db: Session, step: Mapping[str, Any]) -> forms.ExperimentForm:
    label = step_label(step, catalogue.template_names(db))
    if step.get("type") == "split":
        raw = step.get("paths")
        paths: list[Any] = raw if isinstance(raw, list) else []
        percents = [int(p.get("percent", 0)) if isinstance(p, Mapping) else 0 for p in paths]
        return forms.new_split_form(step_label=label, percents=percents)
    return forms.new_step_form(step_label=label)


def _testable(step: Mapping[str, Any]) -> bool:
    return step.get("type") in (*MAIL_STEPS, "split")


@get(
    "/sequences/{sequence_id:int}/steps/{step_key:str}/experiment",
    guards=WRITE,
    sync_to_thread=True,
)
def new_experiment_form(
    request: AnyRequest, db: Db, principal: Me, sequence_id: FromPath[int], step_key: FromPath[str]
) -> Template | Redirect:
    """The step's test: a new one's form, or the existing one (its editor while a draft)."""
    step = _step_of(db, sequence_id, step_key)
    existing = store.experiment_of_step(db, sequence_id=sequence_id, step_key=step_key)
    if existing is not None:
        target = "/edit" if existing.status == ExperimentStatus.DRAFT.value else ""
        return Redirect(f"/experiments/{existing.id}{target}", status_code=303)
    if not _testable(step):
        _, t = _words(request)
        raise InvalidInput.single("step_key", t["not_testable"])
    return _editor(
        request,
        db,
        principal,
        _new_form(db, step),
        sequence_id=sequence_id,
        step=step,
        experiment_id=None,
    )


@post(
    "/sequences/{sequence_id:int}/steps/{step_key:str}/experiment",
    guards=WRITE,
    sync_to_thread=True,
)
def create_experiment(
    request: AnyRequest,
    db: Db,
    principal: Me,
    sequence_id: FromPath[int],
    step_key: FromPath[str],
    data: FormData,
) -> Template | Redirect:
    step = _step_of(db, sequence_id, step_key)
    if not _testable(step):
        _, t = _words(request)
        raise InvalidInput.single("step_key", t["not_testable"])
    kind = ExperimentKind.SPLIT.value if step.get("type") == "split" else ExperimentKind.STEP.value
    form, asked = forms.posted(data, kind)
    if asked is not None:
        try:
            experiment = store.create_experiment(
                db,
                actor=principal.actor,
                name=asked.name,
                kind=kind,
                variants=asked.variants,
                sequence_id=sequence_id,
                step_key=step_key,
                **asked.settings,
            )
        except InvalidInput as exc:
            form = forms.with_problems(form, exc.problems)
        except Conflict as exc:
            db.rollback()
            return _editor(
                request,
                db,
                principal,
                form,
                sequence_id=sequence_id,
                step=step,
                experiment_id=None,
                status_code=409,
                error=str(exc),
            )
        else:
            db.commit()
            return Redirect(f"/experiments/{experiment.id}?done=created", status_code=303)
    db.rollback()
    return _editor(
        request,
        db,
        principal,
        form,
        sequence_id=sequence_id,
        step=step,
        experiment_id=None,
        status_code=422,
    )


def _sequence_step(db: Session, experiment_id: int) -> tuple[int, Mapping[str, Any]]:
    experiment = store.get_experiment(db, experiment_id)
    if experiment.sequence_id is None or experiment.step_key is None:
        # A broadcast's test is edited with its broadcast.
        raise NotFound("sequence experiment", experiment_id)
    return experiment.sequence_id, _step_of(db, experiment.sequence_id, experiment.step_key)


@get("/experiments/{experiment_id:int}/edit", guards=WRITE, sync_to_thread=True)
def edit_experiment_form(
    request: AnyRequest, db: Db, principal: Me, experiment_id: FromPath[int]
) -> Template:
    sequence_id, step = _sequence_step(db, experiment_id)
    experiment = store.get_experiment(db, experiment_id)
    form = forms.form_of(experiment, store.variants_of(db, experiment_id))
    return _editor(
        request,
        db,
        principal,
        form,
        sequence_id=sequence_id,
        step=step,
        experiment_id=experiment_id,
    )


@post("/experiments/{experiment_id:int}/edit", guards=WRITE, sync_to_thread=True)
def edit_experiment(
    request: AnyRequest, db: Db, principal: Me, experiment_id: FromPath[int], data: FormData
) -> Template | Redirect:
    sequence_id, step = _sequence_step(db, experiment_id)
    experiment = store.get_experiment(db, experiment_id)
    form, asked = forms.posted(data, experiment.kind)
    status = 422
    error = None
    if asked is not None:
        try:
            store.update_experiment(
                db,
                experiment_id,
                actor=principal.actor,
                name=asked.name,
                variants=asked.variants,
                **asked.settings,
            )
        except InvalidInput as exc:
            form = forms.with_problems(form, exc.problems)
        except Conflict as exc:
            status, error = 409, str(exc)
        else:
            db.commit()
            return Redirect(f"/experiments/{experiment_id}?done=saved", status_code=303)
    db.rollback()
    return _editor(
        request,
        db,
        principal,
        form,
        sequence_id=sequence_id,
        step=step,
        experiment_id=experiment_id,
        status_code=status,
        error=error,
    )


Percent = Annotated[str, QueryParameter(max_length=20)]


@get("/experiments/sample-size", guards=WRITE, sync_to_thread=True)
def sample_size(
    request: AnyRequest,
    baseline_rate: Percent = "",
    min_effect: Percent = "",
    arms: Annotated[int, QueryParameter(ge=2, le=forms.MAX_VARIANTS)] = 2,
) -> Template:
    """The editor's live line: sends per variant the plan needs (an htmx fragment)."""
    _, t = _words(request)
    problems: list[Problem] = []
    baseline = forms.share_of(baseline_rate, problems)
    effect = forms.share_of(min_effect, problems, high=1000.0)
    needed = None
    if baseline is not None and effect is not None and 0 < baseline < 1 and effect > 0:
        try:
            needed = store.planned_sample(
                baseline_rate=baseline, min_effect=effect, alpha=0.05, power=0.8, arms=arms
            )
        except InvalidInput:
            needed = None
    if needed is None:
        text = t["sample_size_none"]
    else:
        text = t["sample_size"].format(
            n=f"{needed:,}".replace(",", "\u202f"), effect=views.percent(effect, 0)
        )
    return fragment("experiments/_sample_size.html", text=text, needed=needed)


handlers = [
    results_page,
    declare,
    start,
    stop,
    new_experiment_form,
    create_experiment,
    edit_experiment_form,
    edit_experiment,
    sample_size,
]
