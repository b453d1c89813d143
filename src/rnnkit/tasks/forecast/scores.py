"""Scored forecast origins: what an evaluation is made of, read by the scoring and the report.

A :class:`Window` is one origin of one series with the actual values after it, every method's
forecast from it and their scores; an :class:`Evaluation` is the windows of a backtest or a
holdout with the mean metrics of every method (and OWA relative to Naive2).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rnnkit.baselines.forecast import Forecast
from rnnkit.data.series import SeriesSet, future_index
from rnnkit.metrics import forecast as M


@dataclass
class Window:
    """One scored forecast origin of one series."""

    series: int  # index in the SeriesSet
    origin: int  # index of the first forecast value
    actual: np.ndarray  # (H,)
    forecasts: dict[str, Forecast] = field(default_factory=dict)
    scores: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass
class Evaluation:
    horizon: int
    period: int
    windows: list[Window]
    summary: dict[str, dict[str, float]]  # method -> mean metrics (+ owa)
    seconds: dict[str, float]  # method -> wall time
    skipped: dict[str, str] = field(default_factory=dict)  # baselines that did not run
    short: list[str] = field(default_factory=list)  # ids of series too short to forecast


def score_windows(windows: list[Window], histories: list[np.ndarray], period: int
                  ) -> dict[str, dict[str, float]]:
    """Per-window metrics for every method (``histories[j]``: the values before window
    ``j``'s origin, for MASE's scale), then their means and OWA (relative to Naive2)."""
    per_method: dict[str, list[dict]] = {}
    for w, history in zip(windows, histories):
        for name, fc in w.forecasts.items():
            w.scores[name] = M.score(w.actual, fc.mean, history, period, intervals=fc.intervals)
            per_method.setdefault(name, []).append(w.scores[name])
    summary = {name: M.summarise(rows) for name, rows in per_method.items()}
    if "naive2" in summary:
        ref = summary["naive2"]
        for row in summary.values():
            row["owa"] = M.owa(row["smape"], row["mase"], ref["smape"], ref["mase"])
    return summary


def forecast_times(data: SeriesSet, w: Window, horizon: int):
    """The ``horizon`` timestamps (or step numbers) that window ``w`` forecasts."""
    s = data.series[w.series]
    if s.time is None:
        return np.arange(w.origin, w.origin + horizon)
    return future_index(s.time[:w.origin], data.freq, horizon)
