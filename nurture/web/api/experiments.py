"""Experiments over the API: create and change a draft, start, stop, declare a winner,
read the definition with its results, list a sequence's or broadcast's experiments.

Marketers and admins change experiments; sales keys may read them. The handlers only
translate: campaigns.experiments.store validates (422 naming each field, like
`variants[1].weight`), refuses what the state forbids (409) and writes the audit log.
The results are the document the metrics refresh stored, the one the results page
draws, so both show the same numbers.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import get, patch, post
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import JSONBody, PathParameter, QueryParameter
from sqlalchemy.orm import Session

from campaigns.experiments import store
from nurture.models import ExperimentStatus, Role, utcnow
from nurture.web.api import experiment_schemas as io
from nurture.web.api.bodies import MAX_ID, json_body_operation
from nurture.web.api.responses import errors_meaning
from nurture.web.auth import Principal, api_roles

READERS = api_roles(Role.ADMIN, Role.MARKETER, Role.SALES)
WRITERS = api_roles(Role.ADMIN, Role.MARKETER)
_OWN_MEANING = {
    404: "No such experiment (or no such sequence or broadcast to attach it to)",
    409: "The experiment's state forbids this (only a draft starts or changes its plan, "
    "an ended one cannot stop), or the data do not support the declared winner "
    "(the message says why)",
}
Db = NamedDependency[Session]
Me = NamedDependency[Principal]
ExperimentId = Annotated[int, PathParameter(ge=1, le=MAX_ID, description="The experiment's id")]
# Aliased so the handler's argument does not shadow the status-code vocabulary.
StatusFilter = Annotated[
    ExperimentStatus | None, QueryParameter(name="status", description="Only in this status")
]


def _errors(*statuses: int) -> dict[int, ResponseSpec]:
    return errors_meaning(_OWN_MEANING, *statuses)


def _out(db: Session, experiment_id: int) -> io.ExperimentOut:
    db.flush()
    experiment = store.get_experiment(db, experiment_id)
    return io.experiment_out(experiment, store.variants_of(db, experiment_id))


@get(
    "/experiments",
    guards=[READERS],
    sync_to_thread=True,
    summary="List experiments, newest first",
    responses=_errors(),
)
def list_experiments(
    db: Db,
    sequence_id: Annotated[
        int | None, QueryParameter(ge=1, le=MAX_ID, description="Only this sequence's")
    ] = None,
    broadcast_id: Annotated[
        int | None, QueryParameter(ge=1, le=MAX_ID, description="Only this broadcast's")
    ] = None,
    status_filter: StatusFilter = None,
) -> io.ExperimentList:
    found = store.list_experiments(
        db,
        sequence_id=sequence_id,
        broadcast_id=broadcast_id,
        status=status_filter.value if status_filter else None,
    )
    return io.ExperimentList([io.summary_out(e) for e in found])


@post(
    "/experiments",
    guards=[WRITERS],
    sync_to_thread=True,
    status_code=201,
    summary="Create an experiment (a draft) on a sequence step or a broadcast",
    operation_class=json_body_operation(io.ExperimentIn, description="The experiment"),
    responses=_errors(404, 409, 422),
)
def create_experiment(data: JSONBody[io.ExperimentIn], db: Db, principal: Me) -> io.ExperimentOut:
    experiment = store.create_experiment(
        db,
        actor=principal.actor,
        name=data.name,
        kind=data.kind.value,
        variants=io.variant_inputs(data.variants),
        sequence_id=data.sequence_id,
        step_key=data.step_key,
        broadcast_id=data.broadcast_id,
        metric=data.metric.value,
        conversion_event=data.conversion_event,
        window_days=data.window_days,
        mode=data.mode.value,
        bandit_floor=data.bandit_floor,
        baseline_rate=data.baseline_rate,
        min_effect=data.min_effect,
        alpha=data.alpha,
        power=data.power,
        guardrail_stop=data.guardrail_stop,
        default_variant=data.default_variant,
    )
    return _out(db, experiment.id)


@get(
    "/experiments/{experiment_id:int}",
    guards=[READERS],
    sync_to_thread=True,
    summary="An experiment's definition and its results",
    responses=_errors(404),
)
def read_experiment(db: Db, experiment_id: ExperimentId) -> io.ExperimentOut:
    return _out(db, experiment_id)


@patch(
    "/experiments/{experiment_id:int}",
    guards=[WRITERS],
    sync_to_thread=True,
    summary="Change an experiment",
    operation_class=json_body_operation(io.ExperimentPatch, description="The fields to change"),
    responses=_errors(404, 409, 422),
)
def change_experiment(
    data: JSONBody[io.ExperimentPatch], db: Db, principal: Me, experiment_id: ExperimentId
) -> io.ExperimentOut:
    given: dict[str, Any] = {
        name: value
        for name in data.__struct_fields__
        if (value := getattr(data, name)) is not msgspec.UNSET
    }
    if "variants" in given:
        given["variants"] = io.variant_inputs(given["variants"])
    for name in ("metric", "mode"):
        if name in given:
            given[name] = given[name].value
    store.update_experiment(db, experiment_id, actor=principal.actor, **given)
    return _out(db, experiment_id)


@post(
    "/experiments/{experiment_id:int}/start",
    guards=[WRITERS],
    sync_to_thread=True,
    status_code=200,
    summary="Start a draft: contacts are assigned and counted from now",
    responses=_errors(404, 409, 422),
)
def start_experiment(db: Db, principal: Me, experiment_id: ExperimentId) -> io.ExperimentOut:
    store.start_experiment(db, experiment_id, actor=principal.actor, now=utcnow())
    return _out(db, experiment_id)


@post(
    "/experiments/{experiment_id:int}/stop",
    guards=[WRITERS],
    sync_to_thread=True,
    status_code=200,
    summary="End the experiment without a winner: everyone new gets the default variant",
    responses=_errors(404, 409),
)
def stop_experiment(db: Db, principal: Me, experiment_id: ExperimentId) -> io.ExperimentOut:
    store.stop_experiment(db, experiment_id, actor=principal.actor, now=utcnow())
    return _out(db, experiment_id)


@post(
    "/experiments/{experiment_id:int}/declare",
    guards=[WRITERS],
    sync_to_thread=True,
    status_code=200,
    summary="Declare a winner; refused with the reason unless the data support it",
    operation_class=json_body_operation(io.ExperimentDeclareIn, description="The winner"),
    responses=_errors(404, 409, 422),
)
def declare_winner(
    data: JSONBody[io.ExperimentDeclareIn], db: Db, principal: Me, experiment_id: ExperimentId
) -> io.ExperimentOut:
    # A refusal is the store's DeclarationRefused, a Conflict: a 409 whose message is
    # the reason in plain words ("only 120 of the 1,400 sends per variant so far...").
    store.declare_winner(
        db,
        experiment_id,
        variant_key=data.variant_key,
        actor=principal.actor,
        now=utcnow(),
        reason=data.reason,
    )
    return _out(db, experiment_id)


HANDLERS = [
    list_experiments,
    create_experiment,
    read_experiment,
    change_experiment,
    start_experiment,
    stop_experiment,
    declare_winner,
]
