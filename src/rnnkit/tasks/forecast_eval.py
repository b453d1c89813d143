"""Scoring forecasts against actuals, rnnkit beside the classical baselines on the same windows.

``evaluate_holdout`` scores one origin per series (the M4 protocol: the actuals come from a
separate test file); ``backtest`` rolls the origin over the last ``windows`` horizons of every
series. Both return an :class:`Evaluation` and can write a report folder: ``metrics.json``
(every metric for every method), ``forecast.csv`` (one row per series, origin and step),
``series_metrics.csv`` and PNG plots.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rnnkit import metrics as M
from rnnkit.baselines.forecast import BASELINES, Forecast, run_baselines
from rnnkit.data.series import SeriesSet, future_index
from rnnkit.errors import ConfigError, DataError
from rnnkit.tasks import forecast as api
from rnnkit.train import checkpoint as ckpt

Progress = Callable[[str, int, int], None]


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


def _check_baselines(names) -> list[str]:
    names = list(names)
    for name in names:
        if name not in BASELINES:
            raise ConfigError(f"unknown baseline {name!r}; choose from {', '.join(BASELINES)}")
    if names and "naive2" not in names:
        names.append("naive2")  # OWA is relative to Naive2
    return names


def score_windows(windows: list[Window], histories: list[np.ndarray], period: int
                  ) -> dict[str, dict[str, float]]:
    """Per-window metrics for every method, then their means and OWA (relative to Naive2)."""
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


def evaluate_holdout(loaded: api.LoadedForecaster, histories: SeriesSet,
                     actuals: list[np.ndarray], *, baselines=BASELINES,
                     baseline_time: float | None = None, progress: Progress | None = None,
                     ) -> Evaluation:
    """Forecast the end of every series of ``histories`` and score against ``actuals``."""
    H = loaded.config.horizon
    for s, actual in zip(histories.series, actuals):
        if len(actual) < H:
            raise DataError(f"series {s.id} has {len(actual)} actual values; the horizon is {H}")
    windows = [Window(i, len(s.values), np.asarray(a[:H], dtype=float))
               for i, (s, a) in enumerate(zip(histories.series, actuals))]
    return _forecast_and_score(loaded, [histories], [windows], baselines, baseline_time,
                               progress)


def evaluate_validation(loaded: api.LoadedForecaster, data: SeriesSet, *, baselines=BASELINES,
                        baseline_time: float | None = None, progress: Progress | None = None,
                        ) -> tuple[SeriesSet, Evaluation]:
    """Score a model trained with validation on the held-out last horizon of every series long
    enough to have one (those series are returned with the evaluation)."""
    H = loaded.config.horizon
    need = api.minimum_length(loaded.config, validation=True)
    kept = dataclasses.replace(data, series=[s for s in data.series if len(s.values) >= need])
    cut = api.truncate(kept, [len(s.values) - H for s in kept.series])
    actual = [s.values[-H:] for s in kept.series]
    return kept, evaluate_holdout(loaded, cut, actual, baselines=baselines,
                                  baseline_time=baseline_time, progress=progress)


def _forecast_and_score(loaded, cuts: list[SeriesSet], groups: list[list[Window]], baselines,
                        baseline_time, progress) -> Evaluation:
    c = loaded.config
    names = _check_baselines(baselines)
    report = progress or (lambda stage, done, total: None)
    seconds = {"rnnkit": 0.0}
    skipped: dict[str, str] = {}
    all_windows, all_histories = [], []
    for cut, windows in zip(cuts, groups):
        started = time.perf_counter()
        for w, fc in zip(windows, api.forecast(loaded, cut)):
            w.forecasts["rnnkit"] = fc
        seconds["rnnkit"] += time.perf_counter() - started
        histories = [s.values for s in cut.series]  # windows[j] forecasts cut.series[j]
        if names:
            done = run_baselines(histories, c.horizon, c.period, names=names,
                                 progress=lambda d, t: report("baselines", d, t),
                                 time_limit=baseline_time)
            for name in names:
                result = done.get(name)
                if result is None:
                    skipped[name] = done.skipped.get(name, "skipped")
                    continue
                seconds[name] = seconds.get(name, 0.0) + done.seconds.get(name, math.nan)
                for w, fc in zip(windows, result):
                    w.forecasts[name] = fc
        all_windows += windows
        all_histories += histories
    summary = score_windows(all_windows, all_histories, c.period)
    return Evaluation(c.horizon, c.period, all_windows, summary, seconds, skipped)


def backtest(data: SeriesSet, out: str | Path, model_config=None, train_config=None, *,
             windows: int = 3, baselines=BASELINES, baseline_time: float | None = None,
             callback=None, progress: Progress | None = None
             ) -> tuple[api.LoadedForecaster, Evaluation]:
    """Rolling-origin backtest: fit once on each series cut before its first origin
    ``T - windows * H``, then forecast from origins ``T - k H`` (k = windows..1), every forecast
    reading a copy of the data cut at its origin. Baselines are fitted on the same cuts."""
    if windows <= 0:
        raise ConfigError(f"--windows must be positive, got {windows}")
    config = api.configure(data, model_config)
    H = config.horizon
    lengths = np.array([len(s.values) for s in data.series])
    first = lengths - windows * H
    need = api.minimum_length(config)
    if (first < need).all():
        raise DataError(
            f"the longest series has {lengths.max()} values: {windows} backtest windows of "
            f"{H} after a training part of at least {need} (lookback {config.lookback} + "
            f"horizon {H}) need {need + windows * H}; use fewer --windows or a shorter "
            "--lookback or --horizon")
    lag = api.difference_lag(config.difference, config.period)
    keep = [i for i, n in enumerate(first) if n >= config.lookback + lag]
    train_part = api.truncate(data, first)
    validation = bool((first >= api.minimum_length(config, validation=True)).any())
    loaded = api.fit(train_part, out, config, train_config, validation=validation,
                     callback=callback)
    cuts, groups = [], []
    for k in range(windows, 0, -1):
        ends = lengths - k * H
        cut = api.truncate(data, ends)
        cut = dataclasses.replace(cut, series=[cut.series[i] for i in keep])
        groups.append([Window(i, int(ends[i]), data.series[i].values[ends[i]:ends[i] + H])
                       for i in keep])
        cuts.append(cut)
    evaluation = _forecast_and_score(loaded, cuts, groups, baselines, baseline_time, progress)
    evaluation.short = [data.series[i].id for i in range(len(lengths)) if i not in set(keep)]
    return loaded, evaluation


def forecast_times(data: SeriesSet, w: Window, horizon: int):
    s = data.series[w.series]
    if s.time is None:
        return np.arange(w.origin, w.origin + horizon)
    return future_index(s.time[:w.origin], data.freq, horizon)


def write_report(out: str | Path, data: SeriesSet, evaluation: Evaluation, extra: dict,
                 plots: bool = True) -> dict:
    """``metrics.json``, ``forecast.csv``, ``series_metrics.csv`` and plots in ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    methods = list(evaluation.summary)
    metrics = {**extra, "horizon": evaluation.horizon, "period": evaluation.period,
               "series": len({w.series for w in evaluation.windows}),
               "windows": len(evaluation.windows), "methods": evaluation.summary,
               "seconds": evaluation.seconds, "skipped": evaluation.skipped,
               "short_series": evaluation.short}
    ckpt.write_json(out / "metrics.json", metrics)
    _write_forecast_csv(out / "forecast.csv", data, evaluation, methods)
    _write_series_csv(out / "series_metrics.csv", data, evaluation, methods)
    if plots:
        from rnnkit.tasks.forecast_report import plot_evaluation

        plot_evaluation(out, data, evaluation)
    return metrics


def _write_forecast_csv(path: Path, data: SeriesSet, ev: Evaluation, methods: list[str]) -> None:
    import csv

    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        head = ["id", "origin", "step", "time", "actual"]
        bands = [f"rnnkit_{side}{lv}" for lv in (80, 95) for side in ("lo", "hi")]
        writer.writerow(head + methods + bands)
        for w in ev.windows:
            times = forecast_times(data, w, ev.horizon)
            fc = w.forecasts.get("rnnkit")
            for k in range(ev.horizon):
                row = [data.series[w.series].id, w.origin, k + 1, str(times[k]),
                       f"{w.actual[k]:.6g}"]
                row += [f"{w.forecasts[m].mean[k]:.6g}" if m in w.forecasts else ""
                        for m in methods]
                for lv in (80, 95):
                    band = fc.intervals.get(lv) if fc else None
                    row += [f"{band[0][k]:.6g}", f"{band[1][k]:.6g}"] if band else ["", ""]
                writer.writerow(row)


def _write_series_csv(path: Path, data: SeriesSet, ev: Evaluation, methods: list[str]) -> None:
    import csv

    keys = ["smape", "mase"]
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "origin"] + [f"{m}_{k}" for m in methods for k in keys])
        for w in ev.windows:
            writer.writerow([data.series[w.series].id, w.origin] + [
                f"{w.scores[m][k]:.6g}" if m in w.scores else "" for m in methods for k in keys])
