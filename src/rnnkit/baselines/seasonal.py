"""M4's seasonal adjustment for Naive2: an autocorrelation test at lag m, then classical
multiplicative decomposition (R's ``decompose(type="multiplicative")``).

Seasonality test (90%): with r_k the sample autocorrelation of the history x (length n) at lag k,
the series is seasonal when

    |r_m| > 1.645 * sqrt((1 + 2 * sum_{k=1}^{m-1} r_k^2) / n)     and n >= 3m.

(M4's R code calls ``acf`` with R's default ``lag.max = 10*log10(n)``, so for m = 24 it silently
finds no seasonality in series shorter than 251 points, and never for m = 52; we compute r_m
always. On M4 Hourly, whose series are 700 points or longer, the two agree.)

Decomposition: a centred moving average of order m (2xm for even m) estimates the trend T_t;
the seasonal index of phase i (i = t mod m) is the mean of x_t / T_t over the t of that phase
where T_t exists, and the m indices are divided by their mean so they average 1. A history with
a value <= 0 is treated as not seasonal: the multiplicative model needs positive data.
"""

from __future__ import annotations

import numpy as np

TCRIT_90 = 1.645


def autocorrelations(x: np.ndarray, max_lag: int) -> np.ndarray:
    """Sample autocorrelations r_0..r_max_lag (as R's ``acf``: mean removed, divided by n*c_0)."""
    d = np.asarray(x, dtype=np.float64) - np.mean(x)
    c0 = float(np.dot(d, d))
    if c0 == 0:
        return np.r_[1.0, np.zeros(max_lag)]
    return np.array([np.dot(d[k:], d[: d.size - k]) / c0 for k in range(max_lag + 1)])


def seasonality_test(x: np.ndarray, period: int) -> bool:
    """M4's 90% autocorrelation test for seasonality at lag ``period`` (see module doc)."""
    x = np.asarray(x, dtype=np.float64)
    if period <= 1 or x.size < 3 * period:
        return False
    r = autocorrelations(x, period)
    limit = TCRIT_90 * np.sqrt((1.0 + 2.0 * np.sum(r[1:period] ** 2)) / x.size)
    return bool(abs(r[period]) > limit)


def centred_moving_average(x: np.ndarray, period: int) -> np.ndarray:
    """Trend of the classical decomposition, NaN where the window does not fit: (n,)."""
    x = np.asarray(x, dtype=np.float64)
    if period % 2 == 0:
        weights = np.r_[0.5, np.ones(period - 1), 0.5] / period
    else:
        weights = np.ones(period) / period
    half = weights.size // 2
    trend = np.full(x.size, np.nan)
    if x.size >= weights.size:
        trend[half : x.size - half] = np.convolve(x, weights, mode="valid")
    return trend


def seasonal_indices(x: np.ndarray, period: int) -> np.ndarray:
    """Multiplicative seasonal indices (m,) averaging 1; index i applies to every t = i mod m."""
    x = np.asarray(x, dtype=np.float64)
    ratio = x / centred_moving_average(x, period)
    phases = np.arange(x.size) % period
    indices = np.array([np.nanmean(ratio[phases == i]) for i in range(period)])
    return indices / indices.mean()


def seasonal_adjustment(
    x: np.ndarray, period: int, horizon: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(adjusted history (n,), in-sample indices (n,), future indices (h,))``, as M4's Naive2.

    When the test finds no seasonality (or the history has values <= 0) the indices are all 1
    and the adjusted history is the history itself.
    """
    x = np.asarray(x, dtype=np.float64)
    if not (np.all(x > 0) and seasonality_test(x, period)):
        return x.copy(), np.ones(x.size), np.ones(horizon)
    indices = seasonal_indices(x, period)
    inside = indices[np.arange(x.size) % period]
    future = indices[np.arange(x.size, x.size + horizon) % period]
    return x / inside, inside, future
