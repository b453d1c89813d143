"""What people look at after forecasting: ``metrics.json``, the forecast CSVs, plots per series
(or of the best and worst few when there are many), and the future covariates a prediction
needs.

An evaluation's report folder (:func:`write_report`) holds ``metrics.json`` (every metric for
every method), ``forecast.csv`` (one row per series, origin and step), ``series_metrics.csv``
and PNG plots; a prediction's (:func:`write_predictions`) ``forecast.csv`` and plots.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from rnnkit.baselines.forecast import Forecast
from rnnkit.data.series import SeriesSet, future_index, read_series
from rnnkit.errors import DataError
from rnnkit.tasks import base
from rnnkit.tasks.forecast.forecaster import LoadedForecaster
from rnnkit.tasks.forecast.scores import Evaluation, forecast_times

# one PNG per series up to this many series; beyond it, a gallery of the best and worst
PER_SERIES_PLOTS = 12
GALLERY = 6  # series shown at each end


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in str(name))[:80]


def _context(data: SeriesSet, horizon: int) -> int:
    """History shown before the forecast: a few seasons or horizons."""
    return max(4 * horizon, 3 * data.period if data.period > 1 else 0, 24)


def write_report(out: str | Path, data: SeriesSet, evaluation: Evaluation, extra: dict,
                 plots: bool = True) -> dict:
    """``metrics.json`` (``extra``, then the evaluation), ``forecast.csv``,
    ``series_metrics.csv`` and plots in ``out``; returns the metrics written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    methods = list(evaluation.summary)
    metrics = {**extra, "horizon": evaluation.horizon, "period": evaluation.period,
               "series": len({w.series for w in evaluation.windows}),
               "windows": len(evaluation.windows), "methods": evaluation.summary,
               "seconds": evaluation.seconds, "skipped": evaluation.skipped,
               "short_series": evaluation.short}
    base.write_metrics(out, metrics)
    _write_forecast_csv(out / "forecast.csv", data, evaluation, methods)
    _write_series_csv(out / "series_metrics.csv", data, evaluation, methods)
    if plots:
        plot_evaluation(out, data, evaluation)
    return metrics


def _write_forecast_csv(path: Path, data: SeriesSet, ev: Evaluation, methods: list[str]) -> None:
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
    keys = ["smape", "mase"]
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "origin"] + [f"{m}_{k}" for m in methods for k in keys])
        for w in ev.windows:
            writer.writerow([data.series[w.series].id, w.origin] + [
                f"{w.scores[m][k]:.6g}" if m in w.scores else "" for m in methods for k in keys])


def plot_evaluation(out: Path, data: SeriesSet, evaluation: Evaluation) -> list[Path]:
    """A PNG per scored window (few series) or a gallery of the best and worst by sMAPE."""
    from rnnkit import plots  # matplotlib costs a second to import: only when plotting

    folder = Path(out) / "plots"
    folder.mkdir(parents=True, exist_ok=True)
    H = evaluation.horizon
    items = []
    for w in evaluation.windows:
        s = data.series[w.series]
        fc = w.forecasts.get("rnnkit")
        if fc is None:
            continue
        history = s.values[:w.origin]
        hist_time = None if s.time is None else s.time[:w.origin]
        f_time = forecast_times(data, w, H)
        if hist_time is None:
            hist_time, f_time = np.arange(w.origin), np.arange(w.origin, w.origin + H)
        others = {name: w.forecasts[name].mean for name in ("snaive", "ets")
                  if name in w.forecasts}
        smape = w.scores.get("rnnkit", {}).get("smape", math.nan)
        items.append({"history_time": hist_time, "history": history, "forecast_time": f_time,
                      "mean": fc.mean, "intervals": fc.intervals, "actual": w.actual,
                      "baselines": others, "context": _context(data, H),
                      "label": f"{s.id} @{w.origin}  sMAPE {smape:.2f}", "_smape": smape})
    written = []
    if len(items) <= PER_SERIES_PLOTS:
        for item in items:
            label = item.pop("label")
            item.pop("_smape")
            path = folder / f"{_safe(label.split()[0])}-{_safe(label.split()[1][1:])}.png"
            written.append(plots.forecast_plot(path, title=label, **item))
        return written
    ranked = sorted(items, key=lambda it: (math.isnan(it["_smape"]), it["_smape"]))
    for name, chosen in (("best", ranked[:GALLERY]), ("worst", ranked[-GALLERY:][::-1])):
        for item in chosen:
            item.pop("_smape", None)
        path = folder / f"{name}.png"
        written.append(plots.forecast_gallery(path, chosen, f"rnnkit: the {len(chosen)} "
                                                            f"{name} forecasts by sMAPE"))
    return written


def read_future(path: str, data: SeriesSet, loaded: LoadedForecaster, id_col: str | None = None,
                time_col: str | None = None) -> list[np.ndarray]:
    """The known covariates' future values from a CSV (read like the history: same columns,
    ``horizon`` rows per series after each series' end), per series ``(H, K)``."""
    names = loaded.config.known_names
    if not names:
        raise DataError(f"this model reads no known covariates; {path} is not needed")
    future = read_series(path, value_cols=[names[0]], known=names[1:], fill=None,
                         freq=data.freq, period=data.period, id_col=id_col, time_col=time_col)
    by_id = {s.id: s for s in future.series}
    H = loaded.config.horizon
    out = []
    for s in data.series:
        f = by_id.get(s.id) if len(future.series) > 1 else future.series[0]
        if f is None or len(f.values) < H:
            raise DataError(f"{path} must give {H} future rows of {', '.join(names)} for "
                            f"series {s.id}")
        if s.time is not None and f.time is not None:
            expected = future_index(s.time, data.freq, 1)[0]
            if f.time[0] != expected:
                raise DataError(f"{path}: the future of series {s.id} must start at {expected}"
                                f" (the step after its last value), not at {f.time[0]}")
        out.append(np.column_stack([f.values[:H], f.known[:H]]))
    return out


def forecast_index(data: SeriesSet, horizon: int) -> list:
    """Per series, the ``horizon`` timestamps (or step numbers) after its end."""
    return [np.arange(len(s.values), len(s.values) + horizon) if s.time is None
            else future_index(s.time, data.freq, horizon) for s in data.series]


def prediction_folder(loaded: LoadedForecaster, out: str | Path | None = None) -> Path:
    """Where a prediction's files go: ``out``, or ``prediction/`` in the model directory."""
    return Path(out) if out is not None else Path(loaded.directory) / "prediction"


def write_predictions(data: SeriesSet, loaded: LoadedForecaster, forecasts: list[Forecast],
                      out: str | Path | None = None) -> list[dict]:
    """``forecast.csv`` (id, step, time, forecast, 80/95% bounds) and plots in
    :func:`prediction_folder`; returns the rows."""
    from rnnkit import plots

    out = prediction_folder(loaded, out)
    (out / "plots").mkdir(parents=True, exist_ok=True)
    H = loaded.config.horizon
    rows = []
    for s, fc, times in zip(data.series, forecasts, forecast_index(data, H)):
        for k in range(H):
            row = {"id": s.id, "step": k + 1, "time": str(times[k]),
                   "forecast": float(fc.mean[k])}
            for level, (lo, hi) in sorted(fc.intervals.items()):
                row[f"lo{level}"], row[f"hi{level}"] = float(lo[k]), float(hi[k])
            rows.append(row)
    with open(out / "forecast.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    shown = data.series[:PER_SERIES_PLOTS]
    for s, fc, times in zip(shown, forecasts, forecast_index(data, H)):
        hist_time = s.time if s.time is not None else np.arange(len(s.values))
        plots.forecast_plot(out / "plots" / f"{_safe(s.id)}.png", hist_time, s.values, times,
                            fc.mean, fc.intervals, title=f"{s.id}: forecast of {H} steps",
                            context=_context(data, H))
    return rows
