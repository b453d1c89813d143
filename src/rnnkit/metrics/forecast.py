"""Forecast accuracy as the M4 competition defines it: numpy arrays in, floats out.

For one series with in-sample history ``x`` (length n), actuals ``y`` and forecasts ``f`` over the
horizon (length h) and seasonal period ``m``:

    MAE   = 1/h * sum_t |y_t - f_t|
    RMSE  = sqrt(1/h * sum_t (y_t - f_t)^2)
    sMAPE = 200/h * sum_t |y_t - f_t| / (|y_t| + |f_t|)            (percent, in [0, 200])
    MASE  = MAE / scale,   scale = 1/(n-m) * sum_{t>m} |x_t - x_{t-m}|
    MSIS  = 1/h * sum_t [(U_t - L_t) + 2/a (L_t - y_t) 1{y_t < L_t} + 2/a (y_t - U_t) 1{y_t > U_t}]
            / scale,   a = 1 - level/100 (M4 reports a = 0.05, the 95% interval)

and over a set of series (M4: the metric's mean over series, then the ratio of means)

    OWA = 0.5 * (sMAPE / sMAPE_Naive2 + MASE / MASE_Naive2).

Edge cases (M4's reference code leaves them to NaN; we define them so one odd series cannot turn
a whole table into NaN):
- sMAPE: a term with y_t = f_t = 0 is 0 (a perfect forecast of zero), not 0/0.
- MASE scale: when the history is no longer than m, or its seasonal differences are all zero
  (an exactly periodic or constant history), the lag-1 differences are used instead; when those
  are zero too (a constant history) the scale is undefined and MASE/MSIS are NaN.
  :func:`summarise` skips non-finite values and counts them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

__all__ = [
    "add_owa",
    "coverage",
    "interval_width",
    "mae",
    "mase",
    "mase_scale",
    "msis",
    "owa",
    "rmse",
    "score",
    "smape",
    "summarise",
]


def _pair(actual, forecast) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(actual, dtype=np.float64).reshape(-1)
    f = np.asarray(forecast, dtype=np.float64).reshape(-1)
    if y.shape != f.shape or y.size == 0:
        raise ValueError(f"actual {y.shape} and forecast {f.shape} must be non-empty, same length")
    return y, f


def mae(actual, forecast) -> float:
    """Mean absolute error over the horizon."""
    y, f = _pair(actual, forecast)
    return float(np.mean(np.abs(y - f)))


def rmse(actual, forecast) -> float:
    """Root mean squared error over the horizon."""
    y, f = _pair(actual, forecast)
    return float(np.sqrt(np.mean((y - f) ** 2)))


def smape(actual, forecast) -> float:
    """M4's symmetric MAPE in percent: ``200/h * sum |y-f| / (|y|+|f|)``; a 0/0 term counts 0."""
    y, f = _pair(actual, forecast)
    num = np.abs(y - f)
    den = np.abs(y) + np.abs(f)
    terms = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
    return float(200.0 * np.mean(terms))


def mase_scale(insample, period: int) -> float:
    """In-sample MAE of the seasonal naive forecast: ``mean |x[m:] - x[:-m]|`` (see module doc).

    Falls back to lag-1 differences when ``len(x) <= m`` or the seasonal ones are all zero;
    returns NaN when the history is constant (or has one point).
    """
    x = np.asarray(insample, dtype=np.float64).reshape(-1)
    m = max(int(period), 1)
    for lag in (m, 1) if m > 1 else (1,):
        if x.size > lag:
            scale = float(np.mean(np.abs(x[lag:] - x[:-lag])))
            if scale > 0:
                return scale
    return math.nan


def mase(actual, forecast, insample, period: int) -> float:
    """Mean absolute scaled error: MAE over the horizon / :func:`mase_scale` of the history."""
    return mae(actual, forecast) / mase_scale(insample, period)


def owa(smape_value: float, mase_value: float, smape_naive2: float, mase_naive2: float) -> float:
    """M4's overall weighted average, from sMAPE and MASE means over all series."""
    return 0.5 * (smape_value / smape_naive2 + mase_value / mase_naive2)


def coverage(actual, lower, upper) -> float:
    """Share of actuals inside the closed interval ``[lower, upper]`` (0..1)."""
    y, lo = _pair(actual, lower)
    _, hi = _pair(actual, upper)
    return float(np.mean((y >= lo) & (y <= hi)))


def interval_width(lower, upper) -> float:
    """Mean width ``mean(upper - lower)`` of an interval over the horizon (in the data's units)."""
    lo, hi = _pair(lower, upper)
    return float(np.mean(hi - lo))


def msis(actual, lower, upper, insample, period: int, level: float = 95) -> float:
    """M4's mean scaled interval score of a ``level``% interval (alpha = 1 - level/100)."""
    y, lo = _pair(actual, lower)
    _, hi = _pair(actual, upper)
    alpha = 1.0 - level / 100.0
    penalty = (2.0 / alpha) * (np.maximum(lo - y, 0.0) + np.maximum(y - hi, 0.0))
    return float(np.mean(hi - lo + penalty)) / mase_scale(insample, period)


def score(
    actual,
    forecast,
    insample,
    period: int,
    intervals: Mapping[int, tuple[np.ndarray, np.ndarray]] | None = None,
) -> dict[str, float]:
    """Every metric of one forecast: mae, rmse, smape, mase, and for each interval level L given
    in ``intervals`` ({80: (lower, upper), ...}): coverage_L, width_L and msis_L."""
    out = {
        "mae": mae(actual, forecast),
        "rmse": rmse(actual, forecast),
        "smape": smape(actual, forecast),
        "mase": mase(actual, forecast, insample, period),
    }
    for level, (lower, upper) in sorted((intervals or {}).items()):
        out[f"coverage_{level}"] = coverage(actual, lower, upper)
        out[f"width_{level}"] = interval_width(lower, upper)
        out[f"msis_{level}"] = msis(actual, lower, upper, insample, period, level)
    return out


def summarise(per_series: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """Means over series of every key, skipping non-finite values.

    Returns the means, ``series`` (how many dicts), and ``nonfinite_<key>`` for each key where
    some values were skipped (e.g. MASE of a constant history). A key whose values are all
    non-finite has mean NaN. OWA needs Naive2's means: see :func:`add_owa`.
    """
    keys: list[str] = []
    for row in per_series:
        keys.extend(k for k in row if k not in keys)
    out: dict[str, float] = {}
    for key in keys:
        values = np.array([row[key] for row in per_series if key in row], dtype=np.float64)
        finite = values[np.isfinite(values)]
        out[key] = float(finite.mean()) if finite.size else math.nan
        if finite.size < values.size:
            out[f"nonfinite_{key}"] = int(values.size - finite.size)
    out["series"] = len(per_series)
    return out


def add_owa(summaries: Mapping[str, dict[str, float]], reference: str = "naive2") -> None:
    """Set ``owa`` in every summary (method -> :func:`summarise` output) against ``reference``.

    Does nothing when the reference method is absent.
    """
    ref = summaries.get(reference)
    if ref is None:
        return
    for summary in summaries.values():
        summary["owa"] = owa(summary["smape"], summary["mase"], ref["smape"], ref["mase"])
