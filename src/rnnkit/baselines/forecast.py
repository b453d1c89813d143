"""Classical forecasting baselines printed beside every rnnkit forecast.

For a history x_1..x_n, horizon h, period m, and step j = 1..h:

    naive   f_j = x_n
    snaive  f_j = x_{n - m + ((j-1) mod m) + 1}            (naive when n <= m or m = 1)
    drift   f_j = x_n + j * (x_n - x_1) / (n - 1)
    naive2  f_j = a_n * s_{n+j}, a = x / s                   (M4: see :mod:`.seasonal`)
    ets     exponential smoothing, statsmodels (see :mod:`.statistical`)
    arima   seasonal ARIMA, statsmodels (see :mod:`.statistical`)

Intervals of the first four are Hyndman's (fpp3, section 5.5) from the residuals e of the
one-step (naive, drift) or one-season (snaive) fit, sigma^2 = sum e^2 / (N - k) with k = 1
parameter for drift and 0 otherwise, and z the normal quantile of the level:

    naive   f_j +- z * sigma * sqrt(j)
    snaive  f_j +- z * sigma * sqrt(floor((j-1)/m) + 1)
    drift   f_j +- z * sigma * sqrt(j * (1 + j/n))
    naive2  (a_n +- z * sigma_a * sqrt(j)) * s_{n+j}, sigma_a from the naive residuals of a

Failures: ets and arima fall back to naive2 on any exception or non-finite output; the returned
:class:`Forecast` then has ``method="naive2"`` and ``fallback=True``. :func:`run_baselines`
counts them (``BaselineResults.fallbacks``) and skips a model that would blow its time budget.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.stats import norm

from rnnkit.baselines.seasonal import seasonal_adjustment
from rnnkit.baselines.statistical import arima, ets
from rnnkit.errors import ConfigError, DataError

BASELINES = ("naive", "snaive", "drift", "naive2", "ets", "arima")
Intervals = dict[int, tuple[np.ndarray, np.ndarray]]


@dataclass
class Forecast:
    """A point forecast (h,) and its intervals {level: (lower (h,), upper (h,))}."""

    mean: np.ndarray
    intervals: Intervals = field(default_factory=dict)
    method: str = ""  # the method that produced it: differs from the one asked for on a fallback
    fallback: bool = False


class BaselineResults(dict):
    """``{name: [Forecast per series]}`` from :func:`run_baselines`, plus what happened:

    - ``fallbacks[name]``: how many series fell back to naive2 (ets, arima);
    - ``skipped[name]``: why a model was not run to the end (time budget); absent from the dict;
    - ``seconds[name]``: wall time spent on the model.
    """

    def __init__(self) -> None:
        super().__init__()
        self.fallbacks: dict[str, int] = {}
        self.skipped: dict[str, str] = {}
        self.seconds: dict[str, float] = {}


def _bands(mean: np.ndarray, sd: np.ndarray, levels: Sequence[int]) -> Intervals:
    out = {}
    for level in levels:
        z = float(norm.ppf(0.5 + level / 200.0))
        out[int(level)] = (mean - z * sd, mean + z * sd)
    return out


def _sigma(residuals: np.ndarray, params: int = 0) -> float:
    # at least 1: drift on 2 points has one residual, exactly 0, and a zero-width interval
    dof = max(residuals.size - params, 1)
    return math.sqrt(float(np.sum(residuals**2)) / dof)


def naive(x: np.ndarray, horizon: int, levels: Sequence[int] = (80, 95)) -> Forecast:
    steps = np.arange(1, horizon + 1)
    mean = np.full(horizon, x[-1])
    sd = _sigma(np.diff(x)) * np.sqrt(steps)
    return Forecast(mean, _bands(mean, sd, levels), "naive")


def snaive(x: np.ndarray, horizon: int, period: int, levels: Sequence[int] = (80, 95)) -> Forecast:
    if period <= 1 or x.size <= period:
        return replace(naive(x, horizon, levels), method="snaive")
    steps = np.arange(horizon)
    mean = x[x.size - period + steps % period]
    sigma = _sigma(x[period:] - x[:-period])
    sd = sigma * np.sqrt(steps // period + 1)
    return Forecast(mean, _bands(mean, sd, levels), "snaive")


def drift(x: np.ndarray, horizon: int, levels: Sequence[int] = (80, 95)) -> Forecast:
    steps = np.arange(1, horizon + 1)
    slope = (x[-1] - x[0]) / (x.size - 1) if x.size > 1 else 0.0
    mean = x[-1] + slope * steps
    sd = _sigma(np.diff(x) - slope, params=1) * np.sqrt(steps * (1 + steps / x.size))
    return Forecast(mean, _bands(mean, sd, levels), "drift")


def naive2(x: np.ndarray, horizon: int, period: int, levels: Sequence[int] = (80, 95)) -> Forecast:
    adjusted, _, future = seasonal_adjustment(x, period, horizon)
    flat = naive(adjusted, horizon, levels)
    intervals = {lv: (lo * future, hi * future) for lv, (lo, hi) in flat.intervals.items()}
    return Forecast(flat.mean * future, intervals, "naive2")


def _finite(fc: Forecast) -> bool:
    return bool(np.all(np.isfinite(fc.mean))) and all(
        np.all(np.isfinite(lo)) and np.all(np.isfinite(hi)) for lo, hi in fc.intervals.values()
    )


def _check(name: str, history, horizon: int, period: int) -> np.ndarray:
    if name not in BASELINES:
        raise ConfigError(f"unknown baseline {name!r}: choose from {', '.join(BASELINES)}")
    if horizon <= 0:
        raise ConfigError(f"horizon must be >= 1 (got {horizon})")
    if period < 1:
        raise ConfigError(f"period must be >= 1 (got {period})")
    x = np.asarray(history, dtype=np.float64).reshape(-1)
    if x.size < 2 or not np.all(np.isfinite(x)):
        raise DataError(f"a baseline needs >= 2 finite history values (got {x.size}, or NaN/inf)")
    return x


def forecast_baseline(
    name: str, history, horizon: int, period: int, level: Sequence[int] = (80, 95)
) -> Forecast:
    """Forecast ``horizon`` steps after ``history`` (n,) with baseline ``name`` (see BASELINES).

    ets and arima return naive2's forecast, marked ``fallback=True``, when their fit raises or
    gives a non-finite forecast or interval.
    """
    x = _check(name, history, horizon, period)
    if name == "naive":
        return naive(x, horizon, level)
    if name == "snaive":
        return snaive(x, horizon, period, level)
    if name == "drift":
        return drift(x, horizon, level)
    if name == "naive2":
        return naive2(x, horizon, period, level)
    fit = ets if name == "ets" else arima
    try:
        mean, intervals = fit(x, horizon, period, level)
        fc = Forecast(mean, intervals, name)
        if _finite(fc):
            return fc
    except Exception:  # any failure of a fit, whatever its kind, means "use the fallback"
        pass
    fc = naive2(x, horizon, period, level)
    fc.fallback = True
    return fc


def run_baselines(
    histories: Sequence[np.ndarray],
    horizon: int,
    period: int,
    names: Sequence[str] = BASELINES,
    progress: Callable[[int, int], None] | None = None,
    time_limit: float | None = None,
    level: Sequence[int] = (80, 95),
    probe: int = 5,
) -> BaselineResults:
    """Every baseline in ``names`` on every history: ``{name: [Forecast]}`` (a BaselineResults).

    ``progress(done, total)`` is called after each (model, series) fit, total = models x series.
    ``time_limit`` (seconds per model over all series): after the first ``probe`` series a model
    whose projected total time exceeds it (or, later, whose elapsed time does) is stopped and
    listed in ``skipped`` instead of the dict.
    """
    for name in names:
        _check(name, [0.0, 0.0], horizon, period)
    results = BaselineResults()
    total, done = len(names) * len(histories), 0
    for name in names:
        start, forecasts = time.perf_counter(), []
        for i, history in enumerate(histories):
            forecasts.append(forecast_baseline(name, history, horizon, period, level))
            done += 1
            if progress is not None:
                progress(done, total)
            if time_limit is None:
                continue
            elapsed = time.perf_counter() - start
            projected = elapsed / (i + 1) * len(histories)
            if (i + 1 >= probe and projected > time_limit) or elapsed > time_limit:
                results.skipped[name] = (
                    f"stopped after {i + 1} of {len(histories)} series: projected "
                    f"{projected:.0f} s > time limit {time_limit:g} s"
                )
                break
        results.seconds[name] = time.perf_counter() - start
        if name in results.skipped:
            done += len(histories) - len(forecasts)
            if progress is not None:
                progress(done, total)
            continue
        results[name] = forecasts
        results.fallbacks[name] = sum(fc.fallback for fc in forecasts)
    return results
