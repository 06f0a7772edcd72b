"""Fitting on the firm's history: published with a real signal, refused without one or
with too few data, and the published probabilities written to the contacts."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from nurture.errors import InvalidInput, NotFound
from nurture.models import Contact, Event, FitStatus
from nurture.scoring import features, logistic, predictive
from nurture.scoring.features import FeatureSpec
from tests.predictive.synthetic import NOW, history


def test_a_history_with_a_signal_is_published_with_a_high_held_out_auc(db: Session) -> None:
    made = history(db, rows=600, signal=True, seed=11)
    fit = predictive.fit_model(db, now=NOW, requested_by="test")
    assert fit.status == FitStatus.PUBLISHED.value, fit.reason
    assert fit.reason is None
    metrics = fit.metrics
    assert metrics["rows"] == 600
    assert metrics["positives"] == sum(made.labels)
    assert metrics["auc"] > 0.75
    assert metrics["test_rows"] == 150
    table = metrics["calibration"]
    assert len(table) == 10
    assert sum(b["count"] for b in table) == 150
    # Everyone live got a probability, and a contact who converted tends to rank higher.
    stored = dict(db.execute(select(Contact.id, Contact.predicted_probability)).all())
    assert fit.contacts_scored == 600
    probabilities = {i: p for i, p in stored.items() if p is not None}
    assert len(probabilities) == 600
    assert all(0 < p < 1 for p in probabilities.values())
    converted = [probabilities[i] for i, y in zip(made.contact_ids, made.labels, strict=True) if y]
    others = [probabilities[i] for i, y in zip(made.contact_ids, made.labels, strict=True) if not y]
    assert np.mean(converted) > np.mean(others) + 0.15
    names = fit.spec["features"]
    weights = dict(zip(names, fit.spec["coefficients"], strict=True))
    assert weights["industry=legal"] > 0
    assert weights["page_visits"] > 0


def test_the_published_coefficients_are_scikit_learns_on_the_same_rows(db: Session) -> None:
    history(db, rows=500, signal=True, seed=12)
    fit = predictive.fit_model(db, now=NOW, l2=2.0)
    assert fit.status == FitStatus.PUBLISHED.value, fit.reason
    population = features.training_population(now=NOW)
    labels = np.asarray(
        db.scalars(select(population.c.label).order_by(population.c.contact_id)).all(), dtype=float
    )
    x = FeatureSpec.choose(features.read_features(db, population)).matrix(
        features.read_features(db, population)
    )
    train, _ = logistic.stratified_split(
        labels, test_fraction=predictive.TEST_FRACTION, seed=predictive.SPLIT_SEED
    )
    scaled = (x[train] - x[train].mean(axis=0)) / np.where(
        x[train].std(axis=0) > 0, x[train].std(axis=0), 1
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        reference = LogisticRegression(C=1 / 2.0, l1_ratio=0.0, tol=1e-10, max_iter=10_000)
        reference.fit(scaled, labels[train])
    assert fit.spec["coefficients"] == pytest.approx(reference.coef_[0].tolist(), abs=1e-4)
    assert fit.spec["intercept"] == pytest.approx(reference.intercept_[0], abs=1e-4)


def test_a_history_without_a_signal_is_refused_and_kept_with_the_reason(db: Session) -> None:
    history(db, rows=600, signal=False, seed=13)
    fit = predictive.fit_model(db, now=NOW)
    assert fit.status == FitStatus.REFUSED.value
    auc = fit.metrics["auc"]
    assert auc < predictive.AUC_FLOOR
    assert fit.reason is not None
    assert fit.reason.startswith(f"Not published: held-out AUC {auc:.2f} is under 0.65")
    assert predictive.current_model(db) is None
    assert db.scalar(select(func.count()).where(Contact.predicted_probability.is_not(None))) == 0
    assert predictive.recent_fits(db)[0].id == fit.id


def test_too_few_customers_are_refused_before_fitting(db: Session) -> None:
    history(db, rows=120, signal=True, seed=14)
    fit = predictive.fit_model(db, now=NOW)
    assert fit.status == FitStatus.REFUSED.value
    assert fit.reason == "Not published: 120 contacts in the history; at least 200 are needed."
    assert "auc" not in fit.metrics
    assert fit.spec == {}


def test_recent_contacts_that_did_not_convert_are_left_out_of_the_history(db: Session) -> None:
    made = history(db, rows=300, signal=True, seed=15)
    # Young contacts that have not converted yet had no chance to: not negatives.
    db.execute(
        update(Contact)
        .where(Contact.id.in_(made.contact_ids[:100]))
        .values(created_at=NOW - predictive.REFIT_EVERY)
    )
    young_converted = sum(made.labels[:100])
    fit = predictive.fit_model(db, now=NOW)
    assert fit.metrics["rows"] == 300 - (100 - young_converted)


def test_a_new_fit_replaces_the_published_one_and_a_refused_one_does_not(db: Session) -> None:
    made = history(db, rows=500, signal=True, seed=16)
    first = predictive.fit_model(db, now=NOW)
    second = predictive.fit_model(db, now=NOW)
    assert first.status == second.status == FitStatus.PUBLISHED.value
    assert predictive.current_model(db) is second
    # Erased contacts leave the history: too few remain, and the fit is refused.
    db.execute(update(Contact).where(Contact.id.in_(made.contact_ids[:400])).values(erased_at=NOW))
    refused = predictive.fit_model(db, now=NOW)
    assert refused.status == FitStatus.REFUSED.value
    assert predictive.current_model(db) is second


def test_predict_contacts_scores_only_the_named_contacts(db: Session) -> None:
    made = history(db, rows=400, signal=True, seed=17)
    predictive.fit_model(db, now=NOW)
    db.execute(update(Contact).values(predicted_probability=None))
    edited = dict(db.execute(select(Contact.id, Contact.updated_at)).all())
    assert predictive.predict_contacts(db, made.contact_ids[:3], now=NOW) == 3
    # A new probability is not an edit of the contact.
    assert dict(db.execute(select(Contact.id, Contact.updated_at)).all()) == edited
    scored = db.scalars(select(Contact.id).where(Contact.predicted_probability.is_not(None)))
    assert sorted(scored) == sorted(made.contact_ids[:3])
    assert predictive.predict_contacts(db, [], now=NOW) == 0
    # From process_events: the contacts of the events it just processed.
    event_ids = db.scalars(
        select(Event.id).where(Event.contact_id.in_(made.contact_ids[3:5]))
    ).all()
    assert predictive.predict_for_events(db, list(event_ids), now=NOW) == 2


def test_without_a_published_model_nothing_is_predicted_or_explained(db: Session) -> None:
    made = history(db, rows=10, signal=True, seed=18)
    assert predictive.predict_contacts(db, made.contact_ids, now=NOW) == 0
    assert predictive.explain_prediction(db, made.contact_ids[0], now=NOW) is None
    with pytest.raises(NotFound):
        predictive.explain_prediction(db, 10**9, now=NOW)


def test_the_explanation_adds_up_to_the_probability(db: Session) -> None:
    made = history(db, rows=500, signal=True, seed=19)
    predictive.fit_model(db, now=NOW)
    contact_id = made.contact_ids[7]
    explained = predictive.explain_prediction(db, contact_id, now=NOW, top=100)
    assert explained is not None
    stored = db.get(Contact, contact_id)
    assert stored is not None
    assert stored.predicted_probability is not None
    assert explained.probability == pytest.approx(stored.predicted_probability)
    total = explained.intercept + sum(f.contribution for f in explained.factors)
    assert total == pytest.approx(explained.log_odds)
    assert 1 / (1 + np.exp(-total)) == pytest.approx(explained.probability)
    top = predictive.explain_prediction(db, contact_id, now=NOW)
    assert top is not None
    assert len(top.factors) == predictive.TOP_FACTORS
    sizes = [abs(f.contribution) for f in top.factors]
    assert sizes == sorted(sizes, reverse=True)


@pytest.mark.parametrize(
    ("l2", "trigger", "field"),
    [(0.0, "manual", "l2"), (-1.0, "manual", "l2"), (1.0, "hourly", "trigger")],
)
def test_a_bad_request_names_the_field_and_records_nothing(
    db: Session, l2: float, trigger: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        predictive.request_fit(db, trigger=trigger, requested_by="test", l2=l2)
    assert [p.field for p in caught.value.problems] == [field]
    assert predictive.recent_fits(db) == []


def test_a_fit_runs_once_however_often_it_is_sent(db: Session) -> None:
    history(db, rows=50, signal=True, seed=20)
    pending = predictive.request_fit(db, trigger="api", requested_by="test")
    assert predictive.run_fit(db, pending.id, now=NOW) is not None
    assert predictive.run_fit(db, pending.id, now=NOW) is None
    assert pending.status == FitStatus.REFUSED.value


def test_the_weekly_refit_is_due_only_when_the_last_fit_is_a_week_old(db: Session) -> None:
    first = predictive.claim_weekly_refit(db, now=NOW)
    assert first is not None
    assert predictive.claim_weekly_refit(db, now=NOW + predictive.REFIT_EVERY / 2) is None
    # A fit nobody ran for an hour is given up, so the next week's refit is not blocked.
    later = NOW + predictive.REFIT_EVERY
    second = predictive.claim_weekly_refit(db, now=later)
    assert second is not None
    assert second != first
    assert predictive.get_fit(db, first).status == FitStatus.FAILED.value
