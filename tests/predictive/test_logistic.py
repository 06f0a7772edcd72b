"""The maths of the predictive score against scikit-learn (used here only) and by hand."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from nurture.scoring import logistic


def _signal(rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 4))
    z = -0.5 + 1.5 * x[:, 0] - 1.0 * x[:, 1] + 0.3 * x[:, 2]
    y = (rng.random(rows) < 1 / (1 + np.exp(-z))).astype(np.float64)
    return x, y


@pytest.mark.parametrize("l2", [0.1, 1.0, 25.0])
def test_coefficients_match_scikit_learn_with_the_same_penalty(l2: float) -> None:
    x, y = _signal(800, seed=1)
    ours = logistic.fit_logistic(x, y, l2=l2)
    # sklearn minimises C * sum(log-loss) + ||w||^2 / 2 with an unpenalised intercept
    # (lbfgs; l1_ratio=0 is pure L2): ours divided by l2 with C = 1 / l2.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        reference = LogisticRegression(C=1 / l2, l1_ratio=0.0, tol=1e-10, max_iter=10_000)
        reference.fit(x, y)
    assert ours.converged
    assert ours.coefficients == pytest.approx(reference.coef_[0], abs=1e-5)
    assert ours.intercept == pytest.approx(reference.intercept_[0], abs=1e-5)


def test_the_intercept_is_not_shrunk_by_the_penalty() -> None:
    # With a huge penalty the weights vanish but the intercept still finds the base rate.
    x, y = _signal(1000, seed=2)
    fitted = logistic.fit_logistic(x, y, l2=1e9)
    assert np.abs(fitted.coefficients).max() < 1e-4
    assert 1 / (1 + np.exp(-fitted.intercept)) == pytest.approx(y.mean(), abs=1e-4)


def test_auc_is_the_mann_whitney_statistic_with_ties_counting_half() -> None:
    scores = np.array([0.1, 0.4, 0.4, 0.8, 0.3, 0.4])
    labels = np.array([0.0, 0.0, 1.0, 1.0, 0.0, 1.0])
    # Pairs (positive, negative): 9; positive above: 0.4>0.1, 0.4>0.3, 0.8>all three,
    # 0.4>0.1, 0.4>0.3 = 7, ties 0.4~0.4 twice = 1 more.
    assert logistic.roc_auc(scores, labels) == pytest.approx(8 / 9)
    rng = np.random.default_rng(3)
    many, truth = rng.random(500).round(2), (rng.random(500) < 0.3).astype(float)
    assert logistic.roc_auc(many, truth) == pytest.approx(roc_auc_score(truth, many))


def test_auc_needs_both_classes() -> None:
    with pytest.raises(ValueError, match="both"):
        logistic.roc_auc(np.array([0.2, 0.3]), np.array([1.0, 1.0]))


def test_calibration_deciles_cover_every_row_in_order() -> None:
    rng = np.random.default_rng(4)
    predicted = rng.random(103)
    labels = (rng.random(103) < predicted).astype(float)
    table = logistic.calibration_table(predicted, labels)
    assert len(table) == 10
    assert sum(b.count for b in table) == 103
    assert sum(b.positives for b in table) == int(labels.sum())
    assert [b.mean_predicted for b in table] == sorted(b.mean_predicted for b in table)
    assert all(b.low <= b.mean_predicted <= b.high for b in table)
    assert table[0].observed_rate == table[0].positives / table[0].count


def test_the_split_is_stratified_seeded_and_disjoint() -> None:
    labels = np.array([1.0] * 40 + [0.0] * 160)
    train, test = logistic.stratified_split(labels, test_fraction=0.25, seed=7)
    again, _ = logistic.stratified_split(labels, test_fraction=0.25, seed=7)
    assert set(train.tolist()).isdisjoint(test.tolist())
    assert len(train) + len(test) == 200
    assert labels[test].sum() == 10
    assert len(test) == 50
    assert train.tolist() == again.tolist()
