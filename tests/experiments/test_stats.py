"""The statistics against reference values.

Reference values were computed once with statsmodels 0.15 (`proportion_confint`,
`proportions_ztest`, `multipletests`, `confint_proportions_2indep`,
`samplesize_proportions_2indep_onetail`) or SciPy's adaptive quadrature, and pinned
here; the tests do not import statsmodels. Each statistic also has a worked example
from the literature or written out by hand, cited where it is used.
"""

from __future__ import annotations

import math

import pytest
from scipy import special

from campaigns.experiments import bandit, sequential, stats


def test_wilson_matches_newcombe_1998_worked_examples() -> None:
    # Newcombe, "Two-sided confidence intervals for the single proportion", Statistics
    # in Medicine 17 (1998), Table I, method 3 (score): 81/263 and 15/148.
    assert stats.wilson(81, 263) == pytest.approx((0.2553, 0.3662), abs=5e-5)
    assert stats.wilson(15, 148) == pytest.approx((0.0624, 0.1605), abs=5e-5)


@pytest.mark.parametrize(
    ("successes", "trials", "low", "high"),
    [
        (81, 263, 0.2552885198782742, 0.36620957698280004),
        (0, 10, 0.0, 0.27753279986288926),
        (10, 10, 0.7224672001371106, 1.0),
        (200, 4000, 0.043667138340424475, 0.05719636062030688),
    ],
)
def test_wilson_matches_statsmodels(successes: int, trials: int, low: float, high: float) -> None:
    assert stats.wilson(successes, trials) == pytest.approx((low, high), abs=1e-12)


def test_wilson_has_no_interval_without_trials_and_refuses_impossible_counts() -> None:
    assert stats.wilson(0, 0) is None
    with pytest.raises(ValueError, match="successes <= trials"):
        stats.wilson(5, 4)


@pytest.mark.parametrize(
    ("x1", "n1", "x2", "n2", "z", "p"),
    [
        (200, 4000, 260, 4000, 2.881586461903164, 0.003956786600976492),
        (18, 260, 30, 250, 1.9629116072869857, 0.0496564458158855),
    ],
)
def test_z_test_matches_statsmodels(x1: int, n1: int, x2: int, n2: int, z: float, p: float) -> None:
    result = stats.z_test(x1, n1, x2, n2)
    assert result.z == pytest.approx(z, rel=1e-12)
    assert result.p_value == pytest.approx(p, rel=1e-9)
    assert result.method == "z"


def test_z_test_worked_by_hand() -> None:
    # 140/200 against 255/340: pooled p = 395/540 = 0.731481, standard error
    # sqrt(0.731481 x 0.268519 x (1/200 + 1/340)) = 0.039494, z = (0.7 - 0.75) / 0.039494
    # = -1.2660, two-sided p = 2 x Phi(-1.2660) = 0.2055.
    result = stats.z_test(255, 340, 140, 200)
    assert result.z == pytest.approx(-1.2660, abs=1e-4)
    assert result.p_value == pytest.approx(0.2055, abs=1e-4)


def test_equal_rates_of_zero_give_no_evidence() -> None:
    assert stats.z_test(0, 100, 0, 100).p_value == 1.0


def test_fisher_matches_the_lady_tasting_tea() -> None:
    # Fisher, The Design of Experiments (1935), ch. II: 3 of 4 cups of each kind named
    # right; the two-sided p is (1 + 16 + 1 + 16) / 70 = 34/70.
    result = stats.fisher(1, 4, 3, 4)
    assert result.p_value == pytest.approx(34 / 70, rel=1e-12)
    assert result.method == "fisher"
    assert result.z > 0


def test_fisher_matches_the_exact_hypergeometric_sum() -> None:
    # 2/15 against 7/12: the sum of the hypergeometric probabilities of every table with
    # the same margins no likelier than this one, computed once in exact fractions.
    result = stats.fisher(2, 15, 7, 12)
    assert result.p_value == pytest.approx(0.03691838291380625, rel=1e-9)


def test_compare_uses_fisher_only_when_an_expected_count_is_small() -> None:
    assert stats.compare(1, 40, 6, 40).method == "fisher"  # expected successes 3.5
    assert stats.compare(200, 4000, 260, 4000).method == "z"
    assert stats.smallest_expected(1, 40, 6, 40) == pytest.approx(3.5)


def test_holm_matches_the_textbook_example() -> None:
    # The Holm-Bonferroni method's example on Wikipedia: p = 0.01, 0.04, 0.03, 0.005 at
    # alpha 0.05 rejects H1 and H4 only; adjusted 0.03, 0.06, 0.06, 0.02.
    assert stats.holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])


def test_holm_matches_statsmodels() -> None:
    adjusted = stats.holm([0.02, 0.001, 0.2, 0.04, 0.03])
    assert adjusted == pytest.approx([0.08, 0.005, 0.2, 0.09, 0.09])


@pytest.mark.parametrize(
    ("x1", "n1", "x2", "n2", "low", "high"),
    [
        (200, 4000, 260, 4000, 1.0868757244509857, 1.5549155823253584),
        (18, 260, 30, 250, 0.9921149289924401, 3.0283229862246506),
    ],
)
def test_lift_interval_matches_statsmodels_log_ratio(
    x1: int, n1: int, x2: int, n2: int, low: float, high: float
) -> None:
    interval = stats.lift_interval(x1, n1, x2, n2)
    assert interval is not None
    lift, lift_low, lift_high = interval
    assert lift == pytest.approx((x2 / n2) / (x1 / n1) - 1)
    assert (lift_low + 1, lift_high + 1) == pytest.approx((low, high), rel=1e-12)


def test_lift_interval_worked_by_hand() -> None:
    # 260/4000 against 200/4000: ratio 1.3, log 0.262364, standard error
    # sqrt(1/260 - 1/4000 + 1/200 - 1/4000) = 0.091515, so the ratio's interval is
    # exp(0.262364 -+ 1.959964 x 0.091515) = 1.0869 to 1.5549: a lift of +8.7 % to +55.5 %.
    interval = stats.lift_interval(200, 4000, 260, 4000)
    assert interval == pytest.approx((0.3, 0.0869, 0.5549), abs=5e-5)


def test_lift_interval_stays_finite_with_a_zero_count() -> None:
    interval = stats.lift_interval(0, 50, 4, 50)
    assert interval is not None
    assert all(math.isfinite(v) for v in interval)
    assert stats.lift_interval(0, 0, 1, 5) is None


@pytest.mark.parametrize(
    ("baseline", "effect", "reference"),
    [
        (0.05, 0.2, 8157.7314478492835),
        (0.1, 0.5, 685.5968583253607),
        (0.3, 0.1, 3762.3586806958224),
    ],
)
def test_sample_size_matches_statsmodels(baseline: float, effect: float, reference: float) -> None:
    assert stats.sample_size(baseline, effect) == math.ceil(reference)


def test_sample_size_worked_by_hand() -> None:
    # 10 % against 15 %, alpha 0.05 two-sided, power 0.8: mean 0.125,
    # (1.959964 sqrt(2 x 0.125 x 0.875) + 0.841621 sqrt(0.09 + 0.1275))^2 / 0.05^2
    # = (0.916837 + 0.392539)^2 / 0.0025 = 685.6, so 686 per group (the uncorrected
    # figure in Fleiss, Levin and Paik's tables for these rates).
    assert stats.sample_size(0.1, 0.5) == 686


def test_sample_size_refuses_rates_outside_zero_to_one() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        stats.sample_size(0.9, 0.2)


def _miller(a_a: float, b_a: float, a_b: float, b_b: int) -> float:
    """P(p_B > p_A) by Evan Miller's closed form ("Formulas for Bayesian A/B Testing",
    2015), a sum over the integer first parameter of B."""
    return sum(
        math.exp(
            special.betaln(a_a + i, b_a + b_b)
            - math.log(b_b + i)
            - special.betaln(1 + i, b_b)
            - special.betaln(a_a, b_a)
        )
        for i in range(int(a_b))
    )


def test_probability_to_be_best_matches_evan_millers_closed_form() -> None:
    best, _ = stats.beta_summary([(11, 91), (16, 86)])
    assert best[1] == pytest.approx(_miller(11, 91, 16, 86), abs=1e-9)
    # Beta(2, 1) against a uniform: the integral of 2x times x over [0, 1] is 2/3.
    assert stats.prob_best([(1, 1), (2, 1)])[1] == pytest.approx(2 / 3, abs=1e-6)


def test_probability_to_be_best_and_expected_loss_match_quadrature() -> None:
    best, loss = stats.beta_summary([(201, 3801), (261, 3741)])
    assert best == pytest.approx([0.0019756952605068, 0.9980243047394932], abs=1e-9)
    assert loss == pytest.approx([0.014995511731237164, 3.0079831112306277e-06], abs=1e-9)
    best, loss = stats.beta_summary([(11, 91), (16, 86), (13, 89)])
    assert best == pytest.approx([0.09710462736980094, 0.6645701169822938, 0.2383252556479026])
    assert loss == pytest.approx(
        [0.05918621618349401, 0.010166608340356764, 0.039578373046239124], abs=1e-9
    )


def test_expected_loss_of_identical_uniform_arms_is_a_quarter() -> None:
    # E[max of three uniforms] = 3/4, each mean 1/2.
    assert stats.expected_loss([(1, 1)] * 3) == pytest.approx([0.25] * 3, abs=1e-6)


def test_obrien_fleming_spending_matches_the_published_boundaries() -> None:
    # Lan-DeMets O'Brien-Fleming-type spending, alpha 0.025 a side, equally spaced looks:
    # K = 5 gives 4.877, 3.357, 2.680, 2.290, 2.031 and K = 4 gives 4.333, 2.963, 2.359,
    # 2.014 (the bounds tabulated for this design, e.g. by R's ldbounds and gsDesign).
    five = sequential.boundaries(tuple(k / 5 for k in range(1, 6)), 0.05)
    assert five == pytest.approx((4.877, 3.357, 2.680, 2.290, 2.031), abs=1e-3)
    four = sequential.boundaries(tuple(k / 4 for k in range(1, 5)), 0.05)
    assert four == pytest.approx((4.333, 2.963, 2.359, 2.014), abs=1e-3)


def test_the_boundaries_spend_exactly_alpha_over_uneven_looks() -> None:
    fractions = (0.13, 0.4, 0.55, 1.0)
    bounds = sequential.boundaries(fractions, 0.05, True)
    assert sequential.power(fractions, bounds, 0.0) == pytest.approx(0.025, abs=2e-5)
    # One look at the planned sample is the fixed-sample test.
    assert sequential.boundaries((1.0,), 0.05, True) == pytest.approx((1.959964,), abs=1e-6)


def test_the_boundary_falls_as_the_sample_grows() -> None:
    bounds = sequential.boundaries((0.2, 0.5, 0.8), 0.05)
    assert bounds[0] > bounds[1] > bounds[2] > 1.96


def test_the_sample_inflation_keeps_the_power() -> None:
    factor = sequential.inflation(0.05, 0.8)
    assert 1.0 < factor < 1.1
    fractions = tuple((k + 1) / 20 for k in range(20))
    bounds = sequential.boundaries(fractions, 0.05, True)
    drift = (special.ndtri(0.975) + special.ndtri(0.8)) * math.sqrt(factor)
    assert sequential.power(fractions, bounds, drift) == pytest.approx(0.8, abs=1e-4)


def test_thompson_shares_favour_the_better_arm_and_keep_the_floor() -> None:
    shares = bandit.thompson_shares([(21, 981), (61, 941)], floor=0.1, seed=3)
    assert sum(shares) == pytest.approx(1.0)
    assert shares[0] == pytest.approx(0.1, abs=1e-3)
    assert shares[1] > 0.89
    assert shares == bandit.thompson_shares([(21, 981), (61, 941)], floor=0.1, seed=3)


def test_thompson_shares_split_evenly_without_data() -> None:
    shares = bandit.thompson_shares([(1, 1), (1, 1), (1, 1)], floor=0.1, seed=1)
    assert shares == pytest.approx([1 / 3] * 3, abs=0.02)
    assert min(bandit.thompson_shares([(1, 1)] * 4, floor=0.4)) == pytest.approx(0.25, abs=0.05)
