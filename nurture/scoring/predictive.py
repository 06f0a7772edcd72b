"""The predictive score: fit on the firm's own history, refuse or publish, score contacts.

A fit reads the labelled history (features.training_population), holds out a
stratified quarter, fits an L2-regularised logistic regression on the rest
(logistic.fit_logistic) and measures it on the held-out part (ROC AUC, a
calibration table). It is published only with enough data and a held-out AUC at
or above AUC_FLOOR; a refused fit is kept with the reason in plain words.
Publishing writes every live contact's probability in pages of PUBLISH_PAGE
(one bulk UPDATE per page); `predict_contacts` does the same for the contacts that
new events touched.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import numpy as np
from scipy.special import expit
from sqlalchemy import BigInteger, Float, Table, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from nurture.errors import InvalidInput, NotFound, Problem
from nurture.models import Contact, FitStatus, PredictiveModel, utcnow
from nurture.scoring import features, logistic
from nurture.scoring.engine import contacts_of
from nurture.scoring.features import FeatureRows, FeatureSpec
from nurture.scoring.logistic import Floats, Standardiser

DEFAULT_L2 = 1.0
MAX_L2 = 1_000_000.0
TEST_FRACTION = 0.25
SPLIT_SEED = 13
MIN_ROWS = 200
MIN_POSITIVES = 50
MIN_NEGATIVES = 50
AUC_FLOOR = 0.65
REFIT_EVERY = timedelta(days=7)
# A requested fit that no worker finished in this long was lost (the worker died).
ABANDONED_AFTER = timedelta(hours=1)
PUBLISH_PAGE = 5000
TOP_FACTORS = 5
TRIGGERS = ("manual", "api", "weekly")
_CONTACTS = cast(Table, Contact.__table__)


# --- Asking for a fit and finding fits ----------------------------------------------


def request_fit(
    session: Session,
    *,
    trigger: str,
    requested_by: str,
    l2: float = DEFAULT_L2,
    now: datetime | None = None,
) -> PredictiveModel:
    """Record a pending fit; the caller commits, then sends it to a worker."""
    problems = []
    if isinstance(l2, bool) or not isinstance(l2, int | float) or not 0 < l2 <= MAX_L2:
        problems.append(Problem("l2", f"must be a number above 0 and at most {MAX_L2:g}"))
    if trigger not in TRIGGERS:
        problems.append(Problem("trigger", f"must be one of {', '.join(TRIGGERS)}"))
    if problems:
        raise InvalidInput(problems)
    fit = PredictiveModel(
        status=FitStatus.PENDING.value,
        trigger=trigger,
        requested_by=requested_by[:200],
        l2=float(l2),
        spec={},
        metrics={},
        created_at=now or utcnow(),
    )
    session.add(fit)
    session.flush()
    return fit


def get_fit(session: Session, fit_id: int) -> PredictiveModel:
    fit = session.get(PredictiveModel, fit_id)
    if fit is None:
        raise NotFound("model fit", fit_id)
    return fit


def current_model(session: Session) -> PredictiveModel | None:
    """The newest published fit: the one whose probabilities the contacts carry."""
    return session.scalars(
        select(PredictiveModel)
        .where(PredictiveModel.status == FitStatus.PUBLISHED.value)
        .order_by(PredictiveModel.id.desc())
        .limit(1)
    ).first()


def recent_fits(session: Session, *, limit: int = 10) -> list[PredictiveModel]:
    """The newest fits first, whatever became of them."""
    return list(
        session.scalars(select(PredictiveModel).order_by(PredictiveModel.id.desc()).limit(limit))
    )


def claim_weekly_refit(session: Session, *, now: datetime) -> int | None:
    """The id of a new pending weekly fit when the newest fit was asked for
    REFIT_EVERY ago or more (or there is none), else None (a read only: the tick asks
    every few seconds). Fits left pending or running past ABANDONED_AFTER are marked
    failed then, so the page does not show a dead worker's fit as running."""
    newest = session.scalar(
        select(PredictiveModel.created_at).order_by(PredictiveModel.id.desc()).limit(1)
    )
    if newest is not None and newest > now - REFIT_EVERY:
        return None
    session.execute(
        update(PredictiveModel)
        .where(
            PredictiveModel.status.in_([FitStatus.PENDING.value, FitStatus.RUNNING.value]),
            PredictiveModel.created_at < now - ABANDONED_AFTER,
        )
        .values(
            status=FitStatus.FAILED.value,
            reason="No worker finished this fit within an hour.",
            finished_at=now,
        )
    )
    return request_fit(session, trigger="weekly", requested_by="weekly refit", now=now).id


def mark_failed(session: Session, fit_id: int, *, reason: str) -> None:
    """Record that a fit broke (it stays on the page with the reason)."""
    session.execute(
        update(PredictiveModel)
        .where(
            PredictiveModel.id == fit_id,
            PredictiveModel.status.in_([FitStatus.PENDING.value, FitStatus.RUNNING.value]),
        )
        .values(status=FitStatus.FAILED.value, reason=reason, finished_at=utcnow())
    )


# --- Fitting ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoadedModel:
    """A published fit, ready to score feature rows."""

    fit_id: int
    spec: FeatureSpec
    names: list[str]
    standardiser: Standardiser
    coefficients: Floats
    intercept: float

    @classmethod
    def of(cls, fit: PredictiveModel) -> LoadedModel:
        spec = fit.spec
        return cls(
            fit_id=fit.id,
            spec=FeatureSpec({k: list(v) for k, v in spec["categories"].items()}),
            names=list(spec["features"]),
            standardiser=Standardiser(
                np.asarray(spec["means"], dtype=np.float64),
                np.asarray(spec["scales"], dtype=np.float64),
            ),
            coefficients=np.asarray(spec["coefficients"], dtype=np.float64),
            intercept=float(spec["intercept"]),
        )

    def standardised(self, rows: FeatureRows) -> Floats:
        return self.standardiser.apply(self.spec.matrix(rows))

    def probabilities(self, rows: FeatureRows) -> Floats:
        return logistic.predict(self.standardised(rows), self.coefficients, self.intercept)


def run_fit(
    session: Session, fit_id: int, *, now: datetime | None = None
) -> PredictiveModel | None:
    """Fit a pending request and publish or refuse it. None when another worker
    already took it (or it is not pending): running it twice changes nothing."""
    now = now or utcnow()
    claimed = session.execute(
        update(PredictiveModel)
        .where(PredictiveModel.id == fit_id, PredictiveModel.status == FitStatus.PENDING.value)
        .values(status=FitStatus.RUNNING.value, started_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    fit = get_fit(session, fit_id)
    session.refresh(fit)
    _fit(session, fit, now=now)
    fit.finished_at = utcnow()
    return fit


def fit_model(
    session: Session,
    *,
    now: datetime | None = None,
    l2: float = DEFAULT_L2,
    trigger: str = "manual",
    requested_by: str = "system",
) -> PredictiveModel:
    """Request and run a fit in this session (the command line, the demo, tests)."""
    fit = request_fit(session, trigger=trigger, requested_by=requested_by, l2=l2, now=now)
    done = run_fit(session, fit.id, now=now)
    if done is None:  # just requested in this transaction: nobody else can hold it
        raise RuntimeError(f"fit {fit.id} was taken by another worker")
    return done


def _fit(session: Session, fit: PredictiveModel, *, now: datetime) -> None:
    population = features.training_population(now=now)
    labels = np.asarray(
        session.execute(select(population.c.label).order_by(population.c.contact_id))
        .scalars()
        .all(),
        dtype=np.float64,
    )
    positives = int(labels.sum())
    negatives = len(labels) - positives
    metrics: dict[str, Any] = {
        "rows": len(labels),
        "positives": positives,
        "negatives": negatives,
        "min_rows": MIN_ROWS,
        "min_positives": MIN_POSITIVES,
        "min_negatives": MIN_NEGATIVES,
        "auc_floor": AUC_FLOOR,
    }
    fit.metrics = metrics
    too_few = _too_few(len(labels), positives, negatives)
    if too_few:
        fit.status, fit.reason = FitStatus.REFUSED.value, too_few
        return
    rows = features.read_features(session, population)
    if rows.labels is None:
        raise RuntimeError("the training population has no labels")
    # The count above decided whether to fit; these labels, read with the features,
    # are the ones fitted (a contact converting in between must not shift rows).
    labels = rows.labels
    spec = FeatureSpec.choose(rows)
    x = spec.matrix(rows)
    train, test = logistic.stratified_split(labels, test_fraction=TEST_FRACTION, seed=SPLIT_SEED)
    standardiser = Standardiser.of(x[train])
    result = logistic.fit_logistic(standardiser.apply(x[train]), labels[train], l2=fit.l2)
    held_out = logistic.predict(standardiser.apply(x[test]), result.coefficients, result.intercept)
    in_sample = logistic.predict(
        standardiser.apply(x[train]), result.coefficients, result.intercept
    )
    auc = logistic.roc_auc(held_out, labels[test])
    fit.metrics = {
        **metrics,
        "rows": len(labels),
        "positives": int(labels.sum()),
        "negatives": len(labels) - int(labels.sum()),
        "train_rows": len(train),
        "test_rows": len(test),
        "test_positives": int(labels[test].sum()),
        "auc": auc,
        "train_auc": logistic.roc_auc(in_sample, labels[train]),
        "calibration": [asdict(b) for b in logistic.calibration_table(held_out, labels[test])],
        "iterations": result.iterations,
        "converged": result.converged,
    }
    fit.spec = {
        "features": spec.names,
        "categories": spec.categories,
        "means": standardiser.means.tolist(),
        "scales": standardiser.scales.tolist(),
        "coefficients": result.coefficients.tolist(),
        "intercept": result.intercept,
        "window_days": features.WINDOW_DAYS,
    }
    if auc < AUC_FLOOR:
        fit.status = FitStatus.REFUSED.value
        fit.reason = (
            f"Not published: held-out AUC {auc:.2f} is under {AUC_FLOOR:.2f}: the model "
            "ranks customers barely better than chance on contacts it did not see."
        )
        return
    fit.status = FitStatus.PUBLISHED.value
    session.flush()
    fit.contacts_scored = publish(session, LoadedModel.of(fit), now=now)


def _too_few(rows: int, positives: int, negatives: int) -> str | None:
    if rows < MIN_ROWS:
        return f"Not published: {rows} contacts in the history; at least {MIN_ROWS} are needed."
    if positives < MIN_POSITIVES:
        return (
            f"Not published: {positives} contacts became customers; "
            f"at least {MIN_POSITIVES} are needed to learn from."
        )
    if negatives < MIN_NEGATIVES:
        return (
            f"Not published: {negatives} contacts had {features.NEGATIVE_MIN_AGE_DAYS} days "
            f"and did not become customers; at least {MIN_NEGATIVES} are needed."
        )
    return None


# --- Scoring contacts ---------------------------------------------------------------


def publish(session: Session, model: LoadedModel, *, now: datetime) -> int:
    """Write every live contact's probability, a page of contacts at a time; erased
    contacts lose theirs. Returns how many contacts were scored."""
    scored = 0
    after = 0
    while True:
        population = features.scoring_population(now=now, after_id=after, limit=PUBLISH_PAGE)
        rows = features.read_features(session, population)
        if not len(rows.contact_ids):
            break
        _write(session, rows.contact_ids, model.probabilities(rows))
        scored += len(rows.contact_ids)
        after = int(rows.contact_ids[-1])
    session.execute(
        update(Contact)
        .where(Contact.erased_at.is_not(None), Contact.predicted_probability.is_not(None))
        .values(predicted_probability=None, updated_at=Contact.updated_at)
    )
    return scored


def predict_contacts(
    session: Session, contact_ids: list[int], *, now: datetime | None = None
) -> int:
    """Score these contacts with the published model (for `process_events`: the
    contacts that new events touched). Returns how many were scored; 0 without a model."""
    if not contact_ids:
        return 0
    fit = current_model(session)
    if fit is None:
        return 0
    model = LoadedModel.of(fit)
    population = features.scoring_population(
        now=now or utcnow(), contact_ids=sorted(set(contact_ids)), session=session
    )
    rows = features.read_features(session, population)
    if len(rows.contact_ids):
        _write(session, rows.contact_ids, model.probabilities(rows))
    return len(rows.contact_ids)


def predict_for_events(
    session: Session, event_ids: list[int], *, now: datetime | None = None
) -> int:
    """`predict_contacts` for the contacts of these events."""
    return predict_contacts(session, sorted(contacts_of(session, event_ids)), now=now)


def _write(session: Session, ids: np.ndarray[Any, Any], probabilities: Floats) -> None:
    # One statement per page. `updated_at` is set to itself: a new score is not an
    # edit of the contact, and the column's onupdate would otherwise stamp it.
    table = _CONTACTS
    keep = {"updated_at": table.c.updated_at}
    if session.get_bind().dialect.name == "postgresql":
        # UPDATE ... FROM two unnested arrays: one statement and two parameters, where
        # an executemany of 5,000 rows costs a round of parsing and binding per row.
        pairs = select(
            func.unnest(bindparam("ids", ids.tolist(), type_=ARRAY(BigInteger))).label("id"),
            func.unnest(
                bindparam("probabilities", probabilities.tolist(), type_=ARRAY(Float)),
                type_=Float,
            ).label("probability"),
        ).subquery("scored")
        session.execute(
            update(table)
            .where(table.c.id == pairs.c.id)
            .values(predicted_probability=pairs.c.probability, **keep)
        )
        return
    session.execute(
        update(table)
        .where(table.c.id == bindparam("contact_id"))
        .values(predicted_probability=bindparam("probability"), **keep),
        [
            {"contact_id": int(i), "probability": float(p)}
            for i, p in zip(ids.tolist(), probabilities.tolist(), strict=True)
        ],
    )


# --- Explaining ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Factor:
    feature: str
    label: str
    # The contact's value (1/0 for an attribute value, the count for engagement).
    value: float
    coefficient: float
    # coefficient x standardised value: what this feature adds to the log-odds.
    contribution: float


@dataclass(frozen=True, slots=True)
class Explanation:
    contact_id: int
    model_id: int
    probability: float
    # The log-odds: intercept plus every contribution (not only the top ones).
    log_odds: float
    intercept: float
    factors: list[Factor]


def explain_prediction(
    session: Session, contact_id: int, *, now: datetime | None = None, top: int = TOP_FACTORS
) -> Explanation | None:
    """Why the published model gives this contact its probability: the `top` features
    with the largest |coefficient x standardised value|. None without a published model."""
    contact = session.get(Contact, contact_id)
    if contact is None or contact.erased_at is not None:
        raise NotFound("contact", contact_id)
    fit = current_model(session)
    if fit is None:
        return None
    model = LoadedModel.of(fit)
    rows = features.read_features(
        session, features.scoring_population(now=now or utcnow(), contact_ids=[contact_id])
    )
    raw = model.spec.matrix(rows)[0]
    contributions = model.standardiser.apply(raw) * model.coefficients
    log_odds = float(model.intercept + contributions.sum())
    engagement_from = len(model.names) - len(features.ENGAGEMENT)
    order = np.argsort(-np.abs(contributions), kind="stable")[:top]
    factors = [
        Factor(
            feature=model.names[j],
            label=features.feature_label(model.names[j]),
            value=float(rows.counts[0][j - engagement_from]) if j >= engagement_from else raw[j],
            coefficient=float(model.coefficients[j]),
            contribution=float(contributions[j]),
        )
        for j in order.tolist()
    ]
    return Explanation(
        contact_id=contact_id,
        model_id=fit.id,
        probability=float(expit(log_odds)),
        log_odds=log_odds,
        intercept=model.intercept,
        factors=factors,
    )
