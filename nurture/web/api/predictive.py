"""The predictive score over the API: the published model and the latest fit with their
held-out AUC and calibration table, a refit on demand, a contact's top factors.

Every key may read; marketers and admins may ask for a refit, which a worker runs
(202 with the pending fit; poll `GET /scoring/model/fits/{id}`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar import get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter
from msgspec import Meta
from sqlalchemy.orm import Session

from nurture import audit
from nurture.models import PredictiveModel, Role
from nurture.scoring import predictive
from nurture.scoring.features import feature_label
from nurture.web.api.bodies import MAX_ID, json_body_operation
from nurture.web.api.responses import errors
from nurture.web.auth import Principal, api_roles
from workers.predictive import fit_predictive_model

READERS = api_roles(Role.ADMIN, Role.MARKETER, Role.SALES)
WRITERS = api_roles(Role.ADMIN, Role.MARKETER)

FitId = Annotated[int, PathParameter(ge=1, le=MAX_ID, description="The fit's id")]
ContactId = Annotated[int, PathParameter(ge=1, le=MAX_ID, description="The contact's id")]


class FitIn(msgspec.Struct, forbid_unknown_fields=True):
    """A refit. `l2` is the ridge penalty on the standardised coefficients (C = 1 / l2)."""

    l2: Annotated[float, Meta(gt=0, le=predictive.MAX_L2)] = predictive.DEFAULT_L2


class CalibrationOut(msgspec.Struct):
    """One decile of held-out contacts ranked by prediction."""

    low: float
    high: float
    count: int
    positives: int
    mean_predicted: float
    observed_rate: float


class CoefficientOut(msgspec.Struct):
    feature: str
    label: str
    coefficient: float
    # Standardisation: the feature's training mean and standard deviation.
    mean: float
    scale: float


class FitOut(msgspec.Struct):
    id: int
    status: str
    trigger: str
    requested_by: str
    l2: float
    # Why it was not published (or why it failed), in plain words.
    reason: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    contacts_scored: int | None
    rows: int | None
    positives: int | None
    negatives: int | None
    test_rows: int | None
    auc: float | None
    train_auc: float | None
    calibration: list[CalibrationOut]
    intercept: float | None
    coefficients: list[CoefficientOut]


class ModelOut(msgspec.Struct):
    """The model in use (`published`) and the newest fit whatever became of it."""

    published: FitOut | None
    latest: FitOut | None
    auc_floor: float
    min_rows: int
    min_positives: int
    min_negatives: int
    refit_every_days: int


class FactorOut(msgspec.Struct):
    feature: str
    label: str
    value: float
    coefficient: float
    contribution: float


class PredictionOut(msgspec.Struct):
    """A contact's probability and its top factors; all null/empty without a published model."""

    contact_id: int
    model_id: int | None
    probability: float | None
    log_odds: float | None
    factors: list[FactorOut]


def fit_out(fit: PredictiveModel) -> FitOut:
    metrics, spec = fit.metrics or {}, fit.spec or {}
    names = spec.get("features", [])
    return FitOut(
        id=fit.id,
        status=fit.status,
        trigger=fit.trigger,
        requested_by=fit.requested_by,
        l2=fit.l2,
        reason=fit.reason,
        created_at=fit.created_at,
        started_at=fit.started_at,
        finished_at=fit.finished_at,
        contacts_scored=fit.contacts_scored,
        rows=metrics.get("rows"),
        positives=metrics.get("positives"),
        negatives=metrics.get("negatives"),
        test_rows=metrics.get("test_rows"),
        auc=metrics.get("auc"),
        train_auc=metrics.get("train_auc"),
        calibration=[CalibrationOut(**row) for row in metrics.get("calibration", [])],
        intercept=spec.get("intercept"),
        coefficients=[
            CoefficientOut(name, feature_label(name), coefficient, mean, scale)
            for name, coefficient, mean, scale in zip(
                names,
                spec.get("coefficients", []),
                spec.get("means", []),
                spec.get("scales", []),
                strict=True,
            )
        ],
    )


def model_out(session: Session) -> ModelOut:
    published = predictive.current_model(session)
    latest = next(iter(predictive.recent_fits(session, limit=1)), None)
    return ModelOut(
        published=None if published is None else fit_out(published),
        latest=None if latest is None else fit_out(latest),
        auc_floor=predictive.AUC_FLOOR,
        min_rows=predictive.MIN_ROWS,
        min_positives=predictive.MIN_POSITIVES,
        min_negatives=predictive.MIN_NEGATIVES,
        refit_every_days=predictive.REFIT_EVERY.days,
    )


@get(
    "/scoring/model",
    guards=[READERS],
    sync_to_thread=True,
    summary="The published predictive model and the latest fit",
    responses=errors(),
)
def read_model(db: NamedDependency[Session]) -> ModelOut:
    """Held-out AUC, the calibration table and the coefficients of each."""
    return model_out(db)


@post(
    "/scoring/model/fit",
    guards=[WRITERS],
    sync_to_thread=True,
    status_code=202,
    summary="Refit the predictive model",
    operation_class=json_body_operation(FitIn, description="The penalty ({} for the default)"),
    responses=errors(422),
)
def request_fit(
    data: JSONBody[FitIn], db: NamedDependency[Session], principal: NamedDependency[Principal]
) -> FitOut:
    """Queue a refit on the firm's history; it is published only if good enough."""
    fit = request_and_send(db, principal, trigger="api", l2=data.l2)
    return fit_out(fit)


def request_and_send(
    db: Session, principal: Principal, *, trigger: str, l2: float = predictive.DEFAULT_L2
) -> PredictiveModel:
    """Record the request with its audit entry, commit, and hand it to a worker."""
    fit = predictive.request_fit(db, trigger=trigger, requested_by=principal.name, l2=l2)
    audit.record(
        db,
        actor=principal.actor,
        action="predictive.fit_requested",
        entity_type="predictive_model",
        entity_id=fit.id,
        changes={"l2": l2},
    )
    # The worker must find the row committed.
    db.commit()
    fit_predictive_model.send(fit.id)
    return fit


@get(
    "/scoring/model/fits/{fit_id:int}",
    guards=[READERS],
    sync_to_thread=True,
    summary="One fit of the predictive model",
    responses=errors(404),
)
def read_fit(db: NamedDependency[Session], fit_id: FitId) -> FitOut:
    return fit_out(predictive.get_fit(db, fit_id))


@get(
    "/scoring/model/contacts/{contact_id:int}",
    guards=[READERS],
    sync_to_thread=True,
    summary="A contact's predicted probability and its top factors",
    responses=errors(404),
)
def explain_contact(db: NamedDependency[Session], contact_id: ContactId) -> PredictionOut:
    """Factors are coefficient x standardised value, the largest in size first."""
    explained = predictive.explain_prediction(db, contact_id)
    if explained is None:
        return PredictionOut(contact_id, None, None, None, [])
    return PredictionOut(
        contact_id=contact_id,
        model_id=explained.model_id,
        probability=explained.probability,
        log_odds=explained.log_odds,
        factors=[
            FactorOut(f.feature, f.label, f.value, f.coefficient, f.contribution)
            for f in explained.factors
        ],
    )


HANDLERS = [read_model, request_fit, read_fit, explain_contact]
