"""Forecast metrics equal M4's definitions, checked against arithmetic done by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnnkit.metrics import forecast as metrics

# a history whose lag-2 differences are all 1 and lag-1 differences alternate +2, -1
HISTORY = np.array([1.0, 3.0, 2.0, 4.0, 3.0, 5.0])


def test_mae_and_rmse_by_hand() -> None:
    # errors 3 and 4: MAE = 7/2, RMSE = sqrt((9 + 16) / 2)
    assert metrics.mae([0, 0], [3, -4]) == 3.5
    assert metrics.rmse([0, 0], [3, 4]) == pytest.approx(math.sqrt(12.5))


def test_smape_is_m4s_and_counts_zero_over_zero_as_zero() -> None:
    # terms |1-2|/(1+2) = 1/3, |2-2|/4 = 0, and 0/0 -> 0;  200/3 * (1/3 + 0 + 0) = 22.222...
    assert metrics.smape([1, 2, 0], [2, 2, 0]) == pytest.approx(200 / 9)
    # a forecast of 0 for a non-zero value is the worst possible term: 200
    assert metrics.smape([5.0], [0.0]) == pytest.approx(200.0)
    # symmetric in actual and forecast
    assert metrics.smape([3, 7], [4, 1]) == pytest.approx(metrics.smape([4, 1], [3, 7]))


def test_mase_scales_by_in_sample_seasonal_naive_error() -> None:
    # m = 2: |2-1|, |4-3|, |3-2|, |5-4| -> scale 1;  errors |6-5|, |7-9| -> MAE 1.5 -> MASE 1.5
    assert metrics.mase_scale(HISTORY, 2) == 1.0
    assert metrics.mase([6, 7], [5, 9], HISTORY, 2) == pytest.approx(1.5)
    # m = 1: |2|, |-1|, |2|, |-1|, |2| -> scale 8/5;  MASE = 1.5 / 1.6 = 0.9375
    assert metrics.mase([6, 7], [5, 9], HISTORY, 1) == pytest.approx(0.9375)


def test_mase_scale_falls_back_to_lag_one_then_nan() -> None:
    # exactly periodic at m = 2: seasonal differences all 0 -> lag-1 |1| each -> scale 1
    assert metrics.mase_scale([1, 2, 1, 2, 1, 2], 2) == 1.0
    # history no longer than m: lag-1 differences |2|, |-1| -> 1.5
    assert metrics.mase_scale([1, 3, 2], 4) == 1.5
    # constant history: no scale at all
    assert math.isnan(metrics.mase_scale([3, 3, 3, 3], 2))
    assert math.isnan(metrics.mase([4], [3], [3, 3, 3, 3], 2))


def test_owa_is_the_mean_of_the_two_ratios() -> None:
    # 0.5 * (10/20 + 1/4) = 0.375; Naive2 itself scores 1
    assert metrics.owa(10.0, 1.0, 20.0, 4.0) == pytest.approx(0.375)
    assert metrics.owa(18.383, 2.395, 18.383, 2.395) == 1.0


def test_coverage_width_and_msis_by_hand() -> None:
    actual, lower, upper = [1, 5, 10], [0, 6, 8], [2, 7, 9]
    # inside: 1 in [0,2] yes; 5 < 6 no; 10 > 9 no -> 1/3
    assert metrics.coverage(actual, lower, upper) == pytest.approx(1 / 3)
    # widths 2, 1, 1 -> 4/3
    assert metrics.interval_width(lower, upper) == pytest.approx(4 / 3)
    # alpha 0.05 -> penalty 2/alpha = 40 per unit outside: widths 4 + 40*(6-5) + 40*(10-9) = 84,
    # over h = 3 -> 28, scaled by the m = 2 in-sample scale 1 -> 28
    assert metrics.msis(actual, lower, upper, HISTORY, 2, level=95) == pytest.approx(28.0)
    # 80%: alpha 0.2 -> 2/alpha = 10: (4 + 10 + 10) / 3 = 8
    assert metrics.msis(actual, lower, upper, HISTORY, 2, level=80) == pytest.approx(8.0)


def test_score_reports_every_metric_and_each_interval_level() -> None:
    out = metrics.score(
        [6, 7], [5, 9], HISTORY, 2, intervals={95: ([4, 6], [8, 9]), 80: ([5, 8], [7, 9])}
    )
    assert out["mae"] == 1.5 and out["mase"] == 1.5
    assert out["rmse"] == pytest.approx(math.sqrt(2.5))
    # 95: both inside, widths 4 and 3;  80: 7 < 8 -> 1/2 inside, widths 2 and 1
    assert out["coverage_95"] == 1.0 and out["width_95"] == 3.5
    assert out["coverage_80"] == 0.5 and out["width_80"] == 1.5
    # 80% MSIS: (2 + 1 + 10 * (8 - 7)) / 2 = 6.5, scale 1
    assert out["msis_80"] == pytest.approx(6.5)
    assert set(metrics.score([1], [1], HISTORY, 2)) == {"mae", "rmse", "smape", "mase"}


def test_summarise_means_over_series_and_counts_nonfinite() -> None:
    rows = [{"smape": 10.0, "mase": 1.0}, {"smape": 20.0, "mase": math.nan}, {"smape": 30.0}]
    out = metrics.summarise(rows)
    assert out["smape"] == 20.0 and out["mase"] == 1.0
    assert out["nonfinite_mase"] == 1 and out["series"] == 3
    assert "nonfinite_smape" not in out


def test_add_owa_uses_naive2_means() -> None:
    summaries = {"naive2": {"smape": 20.0, "mase": 2.0}, "model": {"smape": 10.0, "mase": 0.5}}
    metrics.add_owa(summaries)
    # 0.5 * (10/20 + 0.5/2) = 0.375
    assert summaries["naive2"]["owa"] == 1.0
    assert summaries["model"]["owa"] == pytest.approx(0.375)
    untouched = {"model": {"smape": 1.0, "mase": 1.0}}
    metrics.add_owa(untouched)
    assert "owa" not in untouched["model"]


def test_owa_on_the_means_differs_from_the_mean_of_per_series_owa() -> None:
    # M4 takes ratios of means. Series A: sMAPE 10 vs Naive2 10; B: 30 vs 50; MASE = Naive2's.
    # ratio of means: 0.5 * (20/30 + 1) = 0.8333;  mean of per-series OWA would be
    # 0.5 * ((10/10 + 1)/2 + (30/50 + 1)/2) = 0.9
    model = metrics.summarise([{"smape": 10.0, "mase": 1.0}, {"smape": 30.0, "mase": 1.0}])
    naive2 = metrics.summarise([{"smape": 10.0, "mase": 1.0}, {"smape": 50.0, "mase": 1.0}])
    assert metrics.owa(model["smape"], model["mase"], naive2["smape"], naive2["mase"]) == (
        pytest.approx(0.5 * (20 / 30 + 1))
    )


def test_mismatched_lengths_raise() -> None:
    with pytest.raises(ValueError, match="same length"):
        metrics.smape([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="non-empty"):
        metrics.mae([], [])
