"""What people look at after forecasting: the forecast CSV, plots per series (or of the best
and worst few when there are many), and the future covariates a prediction needs."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from rnnkit.baselines.forecast import Forecast
from rnnkit.data.series import SeriesSet, future_index
from rnnkit.errors import DataError

# one PNG per series up to this many series; beyond it, a gallery of the best and worst
PER_SERIES_PLOTS = 12
GALLERY = 6  # series shown at each end


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in str(name))[:80]


def _context(data: SeriesSet, horizon: int) -> int:
    """History shown before the forecast: a few seasons or horizons."""
    return max(4 * horizon, 3 * data.period if data.period > 1 else 0, 24)


def plot_evaluation(out: Path, data: SeriesSet, evaluation) -> list[Path]:
    """A PNG per scored window (few series) or a gallery of the best and worst by sMAPE."""
    from rnnkit import plots
    from rnnkit.tasks.forecast_eval import forecast_times

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


def read_future(path: str, data: SeriesSet, loaded, id_col: str | None = None,
                time_col: str | None = None) -> list[np.ndarray]:
    """The known covariates' future values from a CSV (read like the history: same columns,
    ``horizon`` rows per series after each series' end)."""
    from rnnkit.data.series import read_series

    names = loaded.config.known_names
    if not names:
        raise DataError("this model reads no known covariates; drop --future")
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
    return [np.arange(len(s.values), len(s.values) + horizon) if s.time is None
            else future_index(s.time, data.freq, horizon) for s in data.series]


def write_predictions(out: Path, data: SeriesSet, loaded, forecasts: list[Forecast]
                      ) -> list[dict]:
    """``forecast.csv`` (id, step, time, forecast, 80/95% bounds) and plots; returns the rows."""
    from rnnkit import plots

    out = Path(out)
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


def print_predictions(data: SeriesSet, loaded, forecasts: list[Forecast]) -> None:
    H = loaded.config.horizon
    for s, fc, times in list(zip(data.series, forecasts, forecast_index(data, H)))[:5]:
        print(f"{s.id}:")
        bands = sorted(fc.intervals)
        head = "  " + f"{'time':<22}{'forecast':>12}" + "".join(
            f"{f'{lv}% interval':>26}" for lv in bands)
        print(head)
        for k in range(H):
            cells = "".join(f"{fc.intervals[lv][0][k]:>12.4g} .. {fc.intervals[lv][1][k]:<10.4g}"
                            for lv in bands)
            print(f"  {str(times[k]):<22}{fc.mean[k]:>12.4g}  {cells}")
    if len(data.series) > 5:
        print(f"... and {len(data.series) - 5} more series (all in forecast.csv)")
