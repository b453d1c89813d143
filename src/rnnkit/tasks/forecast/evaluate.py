"""Scoring forecasts against actuals, rnnkit beside the classical baselines on the same windows.

``evaluate_holdout`` scores one origin per series (the M4 protocol: the actuals come from a
separate test file); ``evaluate_validation`` scores a model on the horizon it held out in
training; ``backtest`` trains a model and rolls the origin over the last ``windows`` horizons of
every series (for ``"m4-hourly"``, the M4 protocol), then writes its report
(:func:`~rnnkit.tasks.forecast.report.write_report`). Every forecast reads a copy of the data
cut at its origin, so nothing after the origin can reach the model or a baseline; known
covariates, known in advance, are given for the horizon.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from rnnkit.baselines.forecast import BASELINES, run_baselines
from rnnkit.data.series import M4_HOURLY, SeriesSet, load_m4, m4_hourly_paths
from rnnkit.errors import ConfigError, DataError
from rnnkit.tasks.forecast.data import difference_lag
from rnnkit.tasks.forecast.forecaster import (
    LoadedForecaster,
    forecast,
    resolve,
    train,
    truncate,
)
from rnnkit.tasks.forecast.model import ForecastConfig, configure
from rnnkit.tasks.forecast.report import write_report
from rnnkit.tasks.forecast.scores import Evaluation, Window, score_windows
from rnnkit.tasks.forecast.task import minimum_length
from rnnkit.train.loop import TrainConfig

Progress = Callable[[str, int, int], None]


def _check_baselines(names: Sequence[str]) -> list[str]:
    names = list(names)
    for name in names:
        if name not in BASELINES:
            raise ConfigError.bad("baselines", f"has an unknown baseline {name!r}; choose from "
                                               f"{', '.join(BASELINES)}")
    if names and "naive2" not in names:
        names.append("naive2")  # OWA is relative to Naive2
    return names


def _known_future(data: SeriesSet, ends: Sequence[int], horizon: int) -> list[np.ndarray]:
    """The known covariates of the ``horizon`` steps after ``ends[s]``, per series (H, K)."""
    return [s.known[int(end):int(end) + horizon] for s, end in zip(data.series, ends)]


def evaluate_holdout(loaded: LoadedForecaster, histories: SeriesSet,
                     actuals: Sequence[np.ndarray], *, baselines: Sequence[str] = BASELINES,
                     baseline_time: float | None = None, progress: Progress | None = None,
                     future_known: Sequence[np.ndarray] | None = None) -> Evaluation:
    """Forecast the end of every series of ``histories`` and score against ``actuals``."""
    H = loaded.config.horizon
    for s, actual in zip(histories.series, actuals):
        if len(actual) < H:
            raise DataError(f"series {s.id} has {len(actual)} actual values; the horizon is {H}")
    windows = [Window(i, len(s.values), np.asarray(a[:H], dtype=float))
               for i, (s, a) in enumerate(zip(histories.series, actuals))]
    return _forecast_and_score(loaded, [histories], [windows], [future_known], baselines,
                               baseline_time, progress)


def evaluate_validation(loaded: LoadedForecaster, data: SeriesSet, *,
                        baselines: Sequence[str] = BASELINES, baseline_time: float | None = None,
                        progress: Progress | None = None) -> tuple[SeriesSet, Evaluation]:
    """Score a model trained with validation on the held-out last horizon of every series long
    enough to have one (those series are returned with the evaluation)."""
    H = loaded.config.horizon
    need = minimum_length(loaded.config, validation=True)
    kept = dataclasses.replace(data, series=[s for s in data.series if len(s.values) >= need])
    ends = [len(s.values) - H for s in kept.series]
    cut = truncate(kept, ends)
    actual = [s.values[-H:] for s in kept.series]
    future = _known_future(kept, ends, H) if loaded.config.known_names else None
    return kept, evaluate_holdout(loaded, cut, actual, baselines=baselines,
                                  baseline_time=baseline_time, progress=progress,
                                  future_known=future)


def _forecast_and_score(loaded: LoadedForecaster, cuts: list[SeriesSet],
                        groups: list[list[Window]], futures: list, baselines, baseline_time,
                        progress: Progress | None) -> Evaluation:
    """Every method's forecast of every window, cut ``j`` giving group ``j``, then scores."""
    c = loaded.config
    names = _check_baselines(baselines)
    report = progress or (lambda stage, done, total: None)
    seconds = {"rnnkit": 0.0}
    skipped: dict[str, str] = {}
    all_windows, all_histories = [], []
    for cut, windows, future in zip(cuts, groups, futures):
        started = time.perf_counter()
        for w, fc in zip(windows, forecast(loaded, cut, future)):
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


def backtest(data: SeriesSet | str, out: str | Path, model_config: ForecastConfig | None = None,
             train_config: TrainConfig | None = None, *, windows: int = 3,
             baselines: Sequence[str] = BASELINES, baseline_time: float | None = None,
             callback=None, progress: Progress | None = None, plots: bool = True,
             force: bool = False, **read_options) -> tuple[LoadedForecaster, Evaluation]:
    """Train a model into ``out`` and score it beside the baselines; the report (metrics.json,
    forecast.csv, series_metrics.csv, plots) goes to ``out`` too, its metrics also to
    ``loaded.metrics``.

    Rolling origin: fit once on each series cut before its first origin ``T - windows * H``,
    then forecast from origins ``T - k H`` (k = windows..1), every forecast reading a copy of
    the data cut at its origin; baselines are fitted on the same cuts. ``data`` may be a
    SeriesSet, a dataset name or a file (read with ``read_options``); the name
    ``"m4-hourly"`` runs the M4 protocol instead: train on Hourly-train (with the last horizon
    held out for validation), score on Hourly-test (``windows`` does not apply).
    """
    _check_baselines(baselines)  # before training, not after
    if isinstance(data, str) and data == M4_HOURLY:
        train_set, tests = load_m4(*m4_hourly_paths())
        loaded = train(train_set, out, model_config, train_config, callback=callback,
                       force=force)
        evaluation = evaluate_holdout(loaded, train_set, tests, baselines=baselines,
                                      baseline_time=baseline_time, progress=progress)
        data, protocol = train_set, "M4: trained on Hourly-train, scored on Hourly-test"
    else:
        data = resolve(data, **read_options)
        loaded, evaluation = _rolling_origin(data, out, model_config, train_config, windows,
                                             baselines, baseline_time, callback, progress, force)
        protocol = f"rolling origin over the last {windows} horizons"
    state = loaded.state
    loaded.metrics = write_report(out, data, evaluation, {
        "task": "forecast-backtest", "data": data.source, "protocol": protocol,
        "steps": state.step, "train_seconds": round(state.elapsed, 1)}, plots=plots)
    return loaded, evaluation


def _rolling_origin(data: SeriesSet, out, model_config, train_config, windows: int, baselines,
                    baseline_time, callback, progress, force=False
                    ) -> tuple[LoadedForecaster, Evaluation]:
    if windows <= 0:
        raise ConfigError.bad("windows", f"must be positive, got {windows}")
    config = configure(data, model_config)
    H = config.horizon
    lengths = np.array([len(s.values) for s in data.series])
    first = lengths - windows * H
    need = minimum_length(config)
    if (first < need).all():
        raise DataError(
            f"the longest series has {lengths.max()} values: {windows} backtest windows of "
            f"{H} after a training part of at least {need} (lookback {config.lookback} + "
            f"horizon {H}) need {need + windows * H}; use fewer windows or a shorter "
            "lookback or horizon")
    lag = difference_lag(config.difference, config.period)
    keep = [i for i, n in enumerate(first) if n >= config.lookback + lag]
    train_part = truncate(data, first)
    validation = bool((first >= minimum_length(config, validation=True)).any())
    loaded = train(train_part, out, config, train_config, validation=validation,
                   callback=callback, force=force)
    cuts, groups, futures = [], [], []
    for k in range(windows, 0, -1):
        ends = lengths - k * H
        cut = truncate(data, ends)
        cuts.append(dataclasses.replace(cut, series=[cut.series[i] for i in keep]))
        groups.append([Window(i, int(ends[i]), data.series[i].values[ends[i]:ends[i] + H])
                       for i in keep])
        known = _known_future(data, ends, H) if config.known_names else None
        futures.append([known[i] for i in keep] if known is not None else None)
    evaluation = _forecast_and_score(loaded, cuts, groups, futures, baselines, baseline_time,
                                     progress)
    evaluation.short = [data.series[i].id for i in range(len(lengths)) if i not in set(keep)]
    return loaded, evaluation
