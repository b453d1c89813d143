"""Classical forecast baselines: hand-computed forecasts and intervals, M4's Naive2 pieces against
statsmodels, ETS/ARIMA behaviour, fallbacks, time budgets, and the forecast plots."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from rnnkit.baselines import forecast as fc
from rnnkit.baselines.seasonal import (
    autocorrelations,
    seasonal_adjustment,
    seasonal_indices,
    seasonality_test,
)
from rnnkit.baselines.statistical import sarima_forecast
from rnnkit.errors import ConfigError, DataError
from rnnkit.metrics import forecast as metrics

Z80, Z95 = norm.ppf(0.9), norm.ppf(0.975)  # 1.2816, 1.9600
PATTERN = np.array([0.6, 0.7, 0.9, 1.1, 1.3, 1.4, 1.4, 1.3, 1.1, 0.9, 0.7, 0.6])  # mean 1, m=12


def seasonal_series(n: int, seed: int = 0, noise: float = 0.03) -> np.ndarray:
    """Level 100 with a slow upward drift, PATTERN as the season, multiplicative noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return (100 + 0.2 * t) * PATTERN[t % 12] * np.exp(noise * rng.standard_normal(n))


def test_naive_forecast_and_intervals_by_hand() -> None:
    # residuals 1, 2, 3: sigma^2 = 14/3;  sd_j = sigma * sqrt(j)
    out = fc.forecast_baseline("naive", [1, 2, 4, 7], 4, 1)
    np.testing.assert_allclose(out.mean, [7, 7, 7, 7])
    lo, hi = out.intervals[80]
    np.testing.assert_allclose(hi - 7, Z80 * math.sqrt(14 / 3) * np.sqrt([1, 2, 3, 4]))
    np.testing.assert_allclose(7 - lo, hi - 7)
    assert out.method == "naive" and not out.fallback


def test_drift_forecast_and_intervals_by_hand() -> None:
    # slope (7-1)/3 = 2 -> 9, 11;  residuals 1-2, 2-2, 3-2 -> sigma^2 = 2 / (3 - 1) = 1
    # sd_j = sqrt(j (1 + j/4)): sqrt(1.25), sqrt(3)
    out = fc.forecast_baseline("drift", [1, 2, 4, 7], 2, 1)
    np.testing.assert_allclose(out.mean, [9, 11])
    np.testing.assert_allclose(out.intervals[95][1] - out.mean, Z95 * np.sqrt([1.25, 3.0]))


def test_seasonal_naive_forecast_and_intervals_by_hand() -> None:
    # m = 3: repeat the last season 4, 5, 6; residuals x_t - x_{t-3} = 3, 3, 3 -> sigma = 3
    # sd_j = 3 * sqrt(floor((j-1)/3) + 1): 3, 3, 3, 3*sqrt(2)
    out = fc.forecast_baseline("snaive", [1, 2, 3, 4, 5, 6], 4, 3)
    np.testing.assert_allclose(out.mean, [4, 5, 6, 4])
    np.testing.assert_allclose(
        out.intervals[80][1] - out.mean, Z80 * 3 * np.array([1, 1, 1, math.sqrt(2)])
    )
    # a history of at most one season: the naive forecast (no seasonal residual to size it)
    np.testing.assert_allclose(fc.forecast_baseline("snaive", [1, 2], 3, 12).mean, [2, 2, 2])
    short = fc.forecast_baseline("snaive", [1, 2, 4], 2, 3)
    assert short.method == "snaive" and np.all(np.isfinite(short.intervals[95][1]))
    np.testing.assert_allclose(short.mean, [4, 4])


def test_two_point_history_gives_finite_forecasts_and_intervals() -> None:
    for name in ("naive", "snaive", "drift", "naive2"):
        out = fc.forecast_baseline(name, [3.0, 5.0], 3, 4)
        assert np.all(np.isfinite(out.mean)) and not out.fallback
        assert all(np.all(np.isfinite(b)) for pair in out.intervals.values() for b in pair)
    # drift on 2 points: slope 2 and a zero residual, so a zero-width interval
    np.testing.assert_allclose(fc.forecast_baseline("drift", [3.0, 5.0], 2, 1).mean, [7, 9])


def test_autocorrelations_and_indices_match_statsmodels() -> None:
    from statsmodels.tsa.seasonal import seasonal_decompose
    from statsmodels.tsa.stattools import acf

    x = seasonal_series(50, seed=1)  # 4 seasons and 2 points: the last season is incomplete
    np.testing.assert_allclose(autocorrelations(x, 12), acf(x, nlags=12, fft=False))
    for m in (12, 5):
        reference = seasonal_decompose(x, model="multiplicative", period=m).seasonal
        np.testing.assert_allclose(seasonal_indices(x, m)[np.arange(50) % m], reference)
        assert seasonal_indices(x, m).mean() == pytest.approx(1.0)


def test_seasonality_test_finds_seasons_and_rejects_noise_and_short_series() -> None:
    rng = np.random.default_rng(0)
    assert seasonality_test(seasonal_series(72), 12)
    assert not seasonality_test(100 + rng.standard_normal(200), 12)
    assert not seasonality_test(seasonal_series(35), 12)  # < 3 seasons
    assert not seasonality_test(seasonal_series(72), 1)


def test_naive2_is_exact_on_a_purely_multiplicative_season() -> None:
    # x_t = 10 * s_{t mod 12}: the 2x12 moving average is 10 everywhere, the ratios are s exactly,
    # the adjusted series is 10, so Naive2 = 10 * s_{n+j} (the next phases after n = 75 -> 3, 4..)
    x = 10 * PATTERN[np.arange(75) % 12]
    out = fc.forecast_baseline("naive2", x, 14, 12)
    np.testing.assert_allclose(out.mean, 10 * PATTERN[np.arange(75, 89) % 12])
    adjusted, inside, _ = seasonal_adjustment(x, 12, 14)
    np.testing.assert_allclose(adjusted, 10.0)
    np.testing.assert_allclose(inside * adjusted, x)


def test_naive2_is_naive_without_a_season_or_with_non_positive_values() -> None:
    rng = np.random.default_rng(3)
    noise = 50 + rng.standard_normal(100)
    np.testing.assert_allclose(fc.naive2(noise, 5, 12).mean, fc.naive(noise, 5).mean)
    shifted = seasonal_series(72) - 80  # seasonal but crosses zero: no multiplicative model
    np.testing.assert_allclose(fc.naive2(shifted, 5, 12).mean, shifted[-1])


@pytest.mark.parametrize(
    "order, seasonal",
    [((1, 0, 1), (0, 0, 0, 0)), ((1, 1, 1), (0, 0, 0, 0)), ((1, 0, 1), (0, 1, 1, 4))],
)
def test_sarima_forecast_matches_statsmodels_kalman_filter(order, seasonal) -> None:
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    rng = np.random.default_rng(0)
    e = rng.standard_normal(800)
    arma = np.zeros(800)
    for t in range(1, 800):  # ARMA(1,1): phi 0.6, theta 0.3, around 5
        arma[t] = 0.6 * arma[t - 1] + e[t] + 0.3 * e[t - 1]
    x = 5 + arma
    if order[1]:
        x = np.cumsum(0.1 + arma)
    if seasonal[1]:
        x = x + np.tile([3.0, -1.0, 0.0, -2.0], 200)
    d, big_d = order[1], seasonal[1]
    mu = 0.0 if seasonal[1] else (0.1 if d else 5.0)
    big_theta = np.array([-0.5]) if seasonal[2] else np.array([])
    mean, sd = sarima_forecast(x, 12, 4, d, big_d, mu, [0.6], [0.3], big_theta, 1.0)
    params = ([mu * 0.4] if mu else []) + [0.6, 0.3] + list(big_theta) + [1.0]
    model = SARIMAX(x, order=order, seasonal_order=seasonal, trend="c" if mu else "n")
    reference = model.filter(np.array(params)).get_forecast(12)
    np.testing.assert_allclose(mean, reference.predicted_mean, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(sd, reference.se_mean, rtol=1e-6)


@pytest.mark.parametrize("name", ["ets", "arima"])
def test_statistical_models_beat_naive_on_a_seasonal_series(name: str) -> None:
    x = seasonal_series(132, seed=2)
    history, actual = x[:108], x[108:]
    out = fc.forecast_baseline(name, history, 24, 12)
    assert out.method == name and not out.fallback
    assert out.mean.shape == (24,)
    model = metrics.mase(actual, out.mean, history, 12)
    assert model < 0.8 * metrics.mase(actual, fc.naive(history, 24).mean, history, 12)
    assert model < 1.5  # seasonal naive scores about 1 here
    (lo80, hi80), (lo95, hi95) = out.intervals[80], out.intervals[95]
    assert np.all(lo95 <= lo80) and np.all(lo80 <= out.mean) and np.all(out.mean <= hi80)
    assert np.all(hi80 <= hi95)
    assert metrics.coverage(actual, lo95, hi95) >= 0.75


def test_failed_fit_falls_back_to_naive2_and_is_counted(monkeypatch) -> None:
    def broken(x, horizon, period, levels):
        raise np.linalg.LinAlgError("singular")

    def non_finite(x, horizon, period, levels):
        return np.full(horizon, np.nan), {}

    monkeypatch.setattr(fc, "ets", broken)
    monkeypatch.setattr(fc, "arima", non_finite)
    x = seasonal_series(72)
    expected = fc.naive2(x, 6, 12)
    for name in ("ets", "arima"):
        out = fc.forecast_baseline(name, x, 6, 12)
        assert out.fallback and out.method == "naive2"
        np.testing.assert_allclose(out.mean, expected.mean)
    results = fc.run_baselines([x, x[:-1]], 6, 12, names=("naive", "ets"))
    assert results.fallbacks == {"naive": 0, "ets": 2}


def test_run_baselines_reports_progress_and_one_forecast_per_series() -> None:
    calls = []
    histories = [seasonal_series(60, seed=s) for s in range(3)]
    results = fc.run_baselines(
        histories,
        5,
        12,
        names=("naive", "snaive", "naive2"),
        progress=lambda d, t: calls.append((d, t)),
    )
    assert calls == [(i, 9) for i in range(1, 10)]
    assert list(results) == ["naive", "snaive", "naive2"]
    for forecasts in results.values():
        assert len(forecasts) == 3 and all(f.mean.shape == (5,) for f in forecasts)
    np.testing.assert_allclose(results["snaive"][1].mean, histories[1][48:53])
    assert set(results.seconds) == {"naive", "snaive", "naive2"} and not results.skipped


def test_run_baselines_skips_a_model_projected_over_its_time_limit() -> None:
    calls = []
    histories = [seasonal_series(60, seed=s) for s in range(4)]
    results = fc.run_baselines(
        histories,
        5,
        12,
        names=("naive",),
        progress=lambda d, t: calls.append(d),
        time_limit=1e-9,
        probe=2,
    )
    assert "naive" not in results
    assert results.skipped["naive"].startswith("stopped after 1 of 4 series")
    assert calls[-1] == 4  # progress still reaches the total


def test_bad_arguments_raise_rnnkit_errors() -> None:
    with pytest.raises(ConfigError, match="unknown baseline 'theta'"):
        fc.forecast_baseline("theta", [1, 2, 3], 2, 1)
    with pytest.raises(ConfigError, match="horizon"):
        fc.forecast_baseline("naive", [1, 2, 3], 0, 1)
    with pytest.raises(DataError, match="finite"):
        fc.forecast_baseline("naive", [1, np.nan, 3], 2, 1)
    with pytest.raises(ConfigError, match="unknown baseline"):
        fc.run_baselines([[1.0, 2.0]], 2, 1, names=("naive", "prophet"))


def test_forecast_plot_and_gallery_write_png_files(tmp_path) -> None:
    import pandas as pd

    from rnnkit.plots import forecast_gallery, forecast_plot

    x = seasonal_series(60)
    history, actual = x[:48], x[48:]
    out = fc.forecast_baseline("snaive", history, 12, 12)
    times = pd.date_range("2024-01-01", periods=60, freq="MS")
    png = forecast_plot(
        tmp_path / "one.png",
        times[:48],
        history,
        times[48:],
        out.mean,
        out.intervals,
        actual=actual,
        title="monthly",
        baselines={"naive": fc.naive(history, 12).mean},
    )
    item = dict(
        history_time=None,
        history=history,
        forecast_time=None,
        mean=out.mean,
        intervals=out.intervals,
        actual=actual,
        label="steps",
    )
    gallery = forecast_gallery(tmp_path / "grid.png", [item] * 4, "four")
    steps = forecast_plot(  # integer arrays as times (what a series without timestamps has)
        tmp_path / "steps.png", np.arange(48), history, np.arange(48, 60), out.mean, out.intervals
    )
    for path in (png, gallery, steps):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000
    with pytest.raises(ValueError, match="must match"):
        forecast_plot(tmp_path / "bad.png", times[:40], history, times[48:], out.mean, {})
