"""NPS and its 95 % interval against examples worked by hand (z = 1.959964)."""

from __future__ import annotations

import pytest

from nurture.reviews.nps import SMALL_SAMPLE, NpsCounts, nps


def test_sixty_promoters_twenty_five_passives_fifteen_detractors_give_45_plus_minus_14_5() -> None:
    # pP = 0.60, pD = 0.15: NPS = 100 · (0.60 - 0.15) = 45.
    # var = (0.60 + 0.15 - 0.45²) / 100 = (0.75 - 0.2025) / 100 = 0.005475;
    # SE = √0.005475 = 0.07399; half width = 1.96 · 0.07399 = 0.14502 → 14.5 points.
    result = nps(NpsCounts(promoters=60, passives=25, detractors=15))
    assert result.score == pytest.approx(45.0)
    assert result.low == pytest.approx(30.4976, abs=1e-3)
    assert result.high == pytest.approx(59.5024, abs=1e-3)
    assert result.method == "wald"
    assert not result.small
    assert result.share("promoter") == pytest.approx(0.60)
    assert result.share("passive") == pytest.approx(0.25)


def test_a_small_sample_gets_the_adjusted_interval() -> None:
    # 6 promoters, 2 passives, 2 detractors: NPS = 40.
    # Adjusted: n' = 13, pP' = 6.75/13 = 0.519231, pD' = 2.75/13 = 0.211538,
    # centre = 0.307692; var = (0.730769 - 0.094675) / 13 = 0.048930; SE = 0.221201;
    # half = 1.96 · 0.221201 = 0.433546 → -12.59 to 74.12.
    result = nps(NpsCounts(6, 2, 2))
    assert result.score == pytest.approx(40.0)
    assert result.method == "adjusted"
    assert result.small
    assert result.low == pytest.approx(-12.5856, abs=1e-3)
    assert result.high == pytest.approx(74.1240, abs=1e-3)


def test_all_promoters_still_get_an_interval_of_some_width_clamped_at_100() -> None:
    # The plain formula gives var = (1 + 0 - 1²)/50 = 0: no width at all. Adjusted:
    # n' = 53, pP' = 50.75/53 = 0.957547, pD' = 0.75/53 = 0.014151, centre = 0.943396;
    # var = (0.971698 - 0.889996) / 53 = 0.0015416; SE = 0.039263; half = 0.076954
    # → 86.64 to 102.03, clamped to 100.
    result = nps(NpsCounts(50, 0, 0))
    assert result.score == 100.0
    assert result.method == "adjusted"
    assert result.low == pytest.approx(86.6443, abs=1e-3)
    assert result.high == 100.0


def test_all_detractors_mirror_all_promoters() -> None:
    result = nps(NpsCounts(0, 0, 40))
    assert result.score == -100.0
    assert result.low == -100.0
    assert result.high is not None
    assert -100 < result.high < -80


def test_no_answers_have_no_score_and_no_interval() -> None:
    result = nps(NpsCounts(0, 0, 0))
    assert (result.score, result.low, result.high, result.method) == (None, None, None, "")
    assert result.share("promoter") is None


def test_only_passives_score_zero_with_a_symmetric_interval() -> None:
    # n' = 8, pP' = pD' = 0.75/8 = 0.09375: centre 0, var = 0.1875/8 = 0.0234375,
    # SE = 0.153093, half = 0.300057 → ±30.0.
    result = nps(NpsCounts(0, 5, 0))
    assert result.score == 0.0
    assert result.low == pytest.approx(-30.0057, abs=1e-3)
    assert result.high == pytest.approx(30.0057, abs=1e-3)


def test_the_adjustment_stops_at_the_small_sample_line() -> None:
    below = nps(NpsCounts(SMALL_SAMPLE - 2, 1, 0))
    at = nps(NpsCounts(SMALL_SAMPLE - 1, 1, 0))
    assert below.method == "adjusted"
    assert at.method == "wald"


def test_counts_add_up_and_refuse_negatives() -> None:
    assert NpsCounts(1, 2, 3) + NpsCounts(4, 5, 6) == NpsCounts(5, 7, 9)
    with pytest.raises(ValueError, match="detractors"):
        NpsCounts(1, 1, -1)
    with pytest.raises(ValueError, match="confidence"):
        nps(NpsCounts(1, 1, 1), confidence=1.0)
