"""Figures, one function per picture (matplotlib, no screen needed).

Figures are made with matplotlib's object API (``Figure``), never ``pyplot``: no backend is
chosen or switched, so importing rnnkit in a notebook leaves ``matplotlib.get_backend()`` as the
user set it, and no figure is left open in pyplot's registry.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib.dates as mdates
import numpy as np
from matplotlib.figure import Figure


def training_curves(
    history: list[dict],
    path: Path,
    title: str,
    metric: str = "loss",
    baseline: float | None = None,
    baseline_label: str = "baseline",
) -> Path:
    """Train and validation ``metric`` against step (and a horizontal baseline), saved as PNG."""
    train = [(r["step"], r[f"train_{metric}"]) for r in history if f"train_{metric}" in r]
    valid = [(r["step"], r[f"valid_{metric}"]) for r in history if f"valid_{metric}" in r]
    fig = Figure(figsize=(7, 4), dpi=120)
    ax = fig.subplots()
    if train:
        ax.plot(*zip(*train), label=f"train {metric}", alpha=0.6)
    if valid:
        ax.plot(*zip(*valid), marker="o", label=f"validation {metric}")
    if baseline is not None:
        ax.axhline(baseline, color="grey", linestyle="--", label=baseline_label)
    ax.set_xlabel("step")
    ax.set_ylabel(metric)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    return Path(path)


def _is_dates(time) -> bool:
    """Whether ``time`` holds timestamps (a DatetimeIndex, tz-aware or not, or datetime64)."""
    return str(getattr(time, "dtype", "")).startswith("datetime64")


def _steps(time, start: int, size: int):
    """The x values: the timestamps when given, else integer steps start..start+size-1."""
    return np.arange(start, start + size) if time is None else time


def _draw_forecast(
    ax,
    history_time,
    history,
    forecast_time,
    mean,
    intervals,
    actual=None,
    baselines=None,
    context: int | None = None,
) -> None:
    if (history_time is None) != (forecast_time is None):
        raise ValueError("give both history_time and forecast_time, or neither (integer steps)")
    history = np.asarray(history, dtype=float)
    mean = np.asarray(mean, dtype=float)
    horizon = mean.size
    shown = max(4 * horizon, 48) if context is None else context
    first = max(history.size - shown, 0)
    hist_x = _steps(history_time, 0, history.size)
    fc_x = _steps(forecast_time, history.size, horizon)
    if len(hist_x) != history.size or len(fc_x) != horizon:
        raise ValueError(
            f"times ({len(hist_x)}, {len(fc_x)}) must match history ({history.size}) "
            f"and forecast ({horizon}) lengths"
        )
    hist_x = hist_x[first:]
    ax.plot(hist_x, history[first:], color="0.35", linewidth=1, label="history")
    for level, alpha in sorted(((lv, 0.15 if lv >= 90 else 0.3) for lv in intervals), reverse=True):
        lo, hi = intervals[level]
        ax.fill_between(fc_x, lo, hi, color="C0", alpha=alpha, linewidth=0, label=f"{level}%")
    ax.plot(fc_x, mean, color="C0", linewidth=1.6, label="forecast")
    for i, (name, values) in enumerate((baselines or {}).items()):
        ax.plot(fc_x, values, color=f"C{i + 1}", linestyle="--", linewidth=1.2, label=name)
    if actual is not None:
        ax.plot(
            fc_x, actual, color="black", linewidth=1.2, marker=".", markersize=3, label="actual"
        )
    ax.axvline(hist_x[-1], color="0.5", linestyle=":", linewidth=1)
    if _is_dates(history_time):
        locator = mdates.AutoDateLocator(maxticks=7)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.grid(alpha=0.3)


def forecast_plot(
    path: Path,
    history_time,
    history,
    forecast_time,
    mean,
    intervals: dict | None,
    actual=None,
    title: str = "",
    baselines: dict | None = None,
    context: int | None = None,
) -> Path:
    """One series: history, forecast, its 80/95% bands, the actuals (in a backtest), baselines.

    ``history_time`` (T,) and ``forecast_time`` (h,) are timestamps or None (integer steps, the
    forecast continuing at T); ``intervals`` {level: (lower (h,), upper (h,))}; ``baselines``
    {name: mean (h,)} drawn dashed. Only the last ``context`` history points are drawn (default
    max(4h, 48)) so the forecast stays readable; a dotted line marks the forecast origin.
    """
    fig = Figure(figsize=(9, 4), dpi=120)
    ax = fig.subplots()
    _draw_forecast(
        ax, history_time, history, forecast_time, mean, intervals or {}, actual, baselines, context
    )
    ax.set_xlabel("time" if _is_dates(history_time) else "step")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8, ncol=2)
    with warnings.catch_warnings():
        # AutoDateLocator warns when no tick interval fits maxticks; it then picks one itself
        warnings.filterwarnings("ignore", "AutoDateLocator was unable", UserWarning)
        fig.tight_layout()
        fig.savefig(path)
    return Path(path)


def forecast_gallery(path: Path, items: list[dict], title: str, columns: int = 3) -> Path:
    """A grid of small forecast plots (e.g. the best and worst series), one legend for all.

    Each item has the keyword arguments of :func:`forecast_plot` (without ``path``) plus
    ``label``, the title of its panel (e.g. "H37  sMAPE 3.1").
    """
    if not items:
        raise ValueError("forecast_gallery needs at least one item")
    columns = min(columns, len(items))
    rows = -(-len(items) // columns)
    fig = Figure(figsize=(4.2 * columns, 2.6 * rows + 0.6), dpi=110, layout="constrained")
    axes = fig.subplots(rows, columns, squeeze=False)
    for ax, item in zip(axes.flat, items):
        _draw_forecast(
            ax,
            item.get("history_time"),
            item["history"],
            item.get("forecast_time"),
            item["mean"],
            item.get("intervals") or {},
            item.get("actual"),
            item.get("baselines"),
            item.get("context"),
        )
        ax.set_title(item.get("label", item.get("title", "")), fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(items) :]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=len(labels), fontsize=8)
    fig.suptitle(title, fontsize=11)
    fig.savefig(path)
    return Path(path)


def confusion_matrix(path: Path, matrix, labels: list[str], title: str) -> Path:
    """A confusion matrix (rows = true class, columns = predicted), each cell showing its count
    and its share of the row (the recall of the row's class on the diagonal)."""
    counts = np.asarray(matrix, dtype=float)
    rows = counts / np.maximum(counts.sum(1, keepdims=True), 1)
    size = 1.6 + 0.7 * len(labels)
    fig = Figure(figsize=(size + 1.2, size), dpi=120)
    ax = fig.subplots()
    image = ax.imshow(rows, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(j, i, f"{counts[i, j]:.0f}\n{rows[i, j]:.0%}", ha="center", va="center",
                    fontsize=8, color="white" if rows[i, j] > 0.6 else "black")
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=9)
    fig.colorbar(image, ax=ax, fraction=0.046, label="share of the row")
    fig.tight_layout()
    fig.savefig(path)
    return Path(path)


def tag_scores(path: Path, model: dict, baseline: dict, title: str, top: int = 30) -> Path:
    """F1 of each tag present in the truth (the ``top`` most frequent, frequent first), the
    model's bar beside the baseline's; ``model`` and ``baseline`` are ``label_report``
    ``per_class`` dicts."""
    names = sorted((n for n in model if model[n]["support"]), key=lambda n: -model[n]["support"])
    names = names[:top]
    y = np.arange(len(names))
    fig = Figure(figsize=(7, 1.2 + 0.32 * len(names)), dpi=120)
    ax = fig.subplots()
    ax.barh(y - 0.2, [model[n]["f1"] for n in names], height=0.4, label="rnnkit")
    ax.barh(y + 0.2, [baseline.get(n, {}).get("f1", 0.0) for n in names], height=0.4,
            color="grey", alpha=0.6, label="majority tag")
    ax.set_yticks(y, [f"{n} ({model[n]['support']:,})" for n in names], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("F1 (support in brackets)")
    ax.set_title(title, fontsize=9)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    return Path(path)


def attention_map(path: Path, source: list[str], output: list[str], weights, title: str) -> Path:
    """Attention weights ``(len(output) + 1, len(source))`` as a heatmap: source tokens along
    the bottom, output tokens (then ``</s>``) down the side."""
    weights = np.asarray(weights)
    rows, columns = [*output, "</s>"][: weights.shape[0]], source[: weights.shape[1]]
    width = min(16.0, 2.0 + 0.28 * len(columns))
    height = min(16.0, 1.8 + 0.28 * len(rows))
    fig = Figure(figsize=(max(4.0, width), max(3.0, height)), dpi=120)
    ax = fig.subplots()
    image = ax.imshow(weights, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
    shown = lambda tokens: [t if t.strip() else repr(t) for t in tokens]  # noqa: E731
    ax.set_xticks(range(len(columns)), shown(columns), rotation=90, fontsize=7)
    ax.set_yticks(range(len(rows)), shown(rows), fontsize=7)
    ax.set_xlabel("source")
    ax.set_ylabel("output")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, fraction=0.04)
    fig.tight_layout()
    fig.savefig(path)
    return Path(path)


def ctc_columns(path: Path, picture, probabilities, labels: list[str], title: str) -> Path:
    """An input (an image, or a spectrogram ``(mels, frames)``) above the per-column label
    probabilities ``(columns, len(labels))`` that CTC read from it (``labels[0]``: the blank),
    both stretched over the same horizontal axis of columns."""
    picture, probabilities = np.asarray(picture), np.asarray(probabilities)
    columns = probabilities.shape[0]
    width = min(16.0, max(5.0, 2.0 + 0.22 * columns))
    fig = Figure(figsize=(width, 2.6 + 0.18 * len(labels)), dpi=120)
    top, bottom = fig.subplots(2, 1, height_ratios=[1.2, 0.18 * len(labels)], sharex=True)
    image_like = picture.min() >= 0
    top.imshow(picture, cmap="gray_r" if image_like else "magma", aspect="auto",
               origin="upper" if image_like else "lower",
               extent=(-0.5, columns - 0.5, picture.shape[0], 0) if image_like
               else (-0.5, columns - 0.5, 0, picture.shape[0]))
    top.set_yticks([])
    top.set_title(title)
    shown = bottom.imshow(probabilities.T, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto",
                          interpolation="nearest")
    bottom.set_yticks(range(len(labels)), labels, fontsize=7)
    bottom.set_xlabel("column (time after the front end)")
    fig.colorbar(shown, ax=[top, bottom], fraction=0.03, label="probability")
    fig.savefig(path)
    return Path(path)
