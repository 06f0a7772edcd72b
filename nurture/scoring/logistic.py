"""L2-regularised logistic regression and the measures of how good it is. Pure numpy/scipy.

The objective minimised over weights w and intercept b is

    sum_i [ log(1 + exp(z_i)) - y_i z_i ] + (l2 / 2) * ||w||^2,   z_i = x_i . w + b

(the negative log-likelihood plus a ridge penalty; the intercept is not
penalised). That is scikit-learn's `LogisticRegression(C=1/l2)` objective with
its default lbfgs solver, which the tests compare against.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import expit

Floats = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class LogisticFit:
    coefficients: Floats
    intercept: float
    iterations: int
    converged: bool
    # The objective at the optimum, for the record.
    objective: float


def _objective(params: Floats, x: Floats, y: Floats, l2: float) -> tuple[float, Floats]:
    weights, intercept = params[:-1], params[-1]
    z = x @ weights + intercept
    # log(1 + e^z) without overflow for large |z|.
    loss = float(np.sum(np.logaddexp(0.0, z) - y * z))
    loss += 0.5 * l2 * float(weights @ weights)
    residual = expit(z) - y
    gradient = np.empty_like(params)
    gradient[:-1] = x.T @ residual + l2 * weights
    gradient[-1] = residual.sum()
    return loss, gradient


def fit_logistic(
    x: Floats, y: Floats, *, l2: float, tolerance: float = 1e-9, max_iterations: int = 1000
) -> LogisticFit:
    """Fit weights and intercept by L-BFGS-B with the analytic gradient."""
    if x.ndim != 2 or y.shape != (x.shape[0],):
        raise ValueError("x must be rows x features and y one label per row")
    if l2 <= 0:
        raise ValueError("l2 must be positive")
    # Imported here, not with the module: scipy.optimize and scipy.stats take about a fifth
    # of the web process's start, which only the nightly fit and the report need.
    from scipy.optimize import minimize

    start = np.zeros(x.shape[1] + 1)
    # Starting the intercept at the base rate's log-odds saves iterations.
    rate = float(np.clip(y.mean(), 1e-6, 1 - 1e-6)) if len(y) else 0.5
    start[-1] = np.log(rate / (1 - rate))
    result = minimize(
        _objective,
        start,
        args=(x, y, l2),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": max_iterations, "gtol": tolerance, "ftol": 1e-12},
    )
    params = np.asarray(result.x, dtype=np.float64)
    return LogisticFit(
        coefficients=params[:-1],
        intercept=float(params[-1]),
        iterations=int(result.nit),
        converged=bool(result.success),
        objective=float(result.fun),
    )


def predict(x: Floats, coefficients: Floats, intercept: float) -> Floats:
    """The probability of the positive class for each row."""
    return np.asarray(expit(x @ coefficients + intercept), dtype=np.float64)


def roc_auc(scores: Floats, labels: Floats) -> float:
    """Area under the ROC curve in its Mann-Whitney form: the chance that a random
    positive scores above a random negative, ties counting one half."""
    positives = labels == 1
    n_pos = int(positives.sum())
    n_neg = len(labels) - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError("the AUC needs both positives and negatives")
    from scipy.stats import rankdata  # as minimize above: kept out of the process start

    ranks = rankdata(scores)  # average ranks: ties share, which counts them half
    rank_sum = float(ranks[positives].sum())
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


@dataclass(frozen=True, slots=True)
class CalibrationBin:
    """One group of held-out rows with similar predictions."""

    low: float
    high: float
    count: int
    positives: int
    mean_predicted: float
    observed_rate: float


def calibration_table(predicted: Floats, labels: Floats, bins: int = 10) -> list[CalibrationBin]:
    """Rows sorted by prediction and cut into `bins` groups of (nearly) equal size
    (deciles by default): mean predicted against observed rate per group."""
    order = np.argsort(predicted, kind="stable")
    table = []
    for part in np.array_split(order, min(bins, len(order))):
        if len(part) == 0:
            continue
        p, y = predicted[part], labels[part]
        table.append(
            CalibrationBin(
                low=float(p.min()),
                high=float(p.max()),
                count=len(part),
                positives=int(y.sum()),
                mean_predicted=float(p.mean()),
                observed_rate=float(y.mean()),
            )
        )
    return table


def stratified_split(
    labels: Floats, *, test_fraction: float, seed: int
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Row indices (train, test): each class shuffled with `seed` and `test_fraction`
    of it held out, so both parts keep the base rate."""
    rng = np.random.default_rng(seed)
    train: list[NDArray[np.intp]] = []
    test: list[NDArray[np.intp]] = []
    for value in (0.0, 1.0):
        rows = np.flatnonzero(labels == value)
        rng.shuffle(rows)
        held = round(len(rows) * test_fraction)
        test.append(rows[:held])
        train.append(rows[held:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


@dataclass(frozen=True, slots=True)
class Standardiser:
    means: Floats
    scales: Floats

    @classmethod
    def of(cls, x: Floats) -> Standardiser:
        """Column means and standard deviations; a constant column keeps scale 1."""
        scales = x.std(axis=0) if len(x) else np.ones(x.shape[1])
        return cls(
            x.mean(axis=0) if len(x) else np.zeros(x.shape[1]), np.where(scales > 0, scales, 1.0)
        )

    def apply(self, x: Floats) -> Floats:
        return (x - self.means) / self.scales
