"""The trained forecaster: train one into a model directory, open it, forecast with it.

``train`` fits one global model on every series of a :class:`~rnnkit.data.series.SeriesSet`
(the public :func:`rnnkit.tasks.forecast.fit` adds the scoring of the held-out horizon);
``load`` opens a directory; ``forecast`` (= :meth:`LoadedForecaster.predict`) forecasts past
the end of every series. Every forecast of a cut series (``truncate``) reads only the values
before its end.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from rnnkit.baselines.forecast import Forecast
from rnnkit.data.series import SeriesSet, read_series
from rnnkit.errors import ConfigError, DataError
from rnnkit.tasks import base
from rnnkit.tasks.forecast import heads
from rnnkit.tasks.forecast.data import difference_lag, invert, make_batch
from rnnkit.tasks.forecast.model import (
    ForecastConfig,
    Forecaster,
    configure,
    default_train_config,
)
from rnnkit.tasks.forecast.task import ForecastTask, build_panel, minimum_length
from rnnkit.train import checkpoint as ckpt
from rnnkit.train.loop import TrainConfig, TrainState

TASK = "forecast"
FutureKnown = Sequence[np.ndarray] | None  # per series (horizon, known covariates)


@dataclass
class LoadedForecaster:
    """A trained forecaster: what :func:`load` and ``fit`` give.

    ``state`` is the trainer's (after ``fit``), ``metrics`` what ``fit`` or ``backtest`` wrote
    to ``directory/metrics.json``; ``validation``: trained with the last horizon held out.
    """

    model: Forecaster
    config: ForecastConfig
    directory: Path
    validation: bool = True
    state: TrainState | None = None
    metrics: dict | None = None

    def predict(self, data: SeriesSet | str, future_known: FutureKnown = None
                ) -> list[Forecast]:
        """The forecast of the ``horizon`` values after the end of every series of ``data``
        (a SeriesSet, a dataset name or a file): :func:`forecast`."""
        return forecast(self, resolve(data), future_known)


def resolve(data: SeriesSet | str | Path | None, **read_options) -> SeriesSet:
    """``data`` itself, or the series read from a dataset name or a file."""
    if data is None:
        raise ConfigError("data is missing: give the series, a dataset name (rnnkit data "
                          "list) or a CSV/TSV/Parquet file", "data")
    return data if isinstance(data, SeriesSet) else read_series(data, **read_options)


def truncate(data: SeriesSet, ends: Sequence[int] | np.ndarray) -> SeriesSet:
    """A copy of ``data`` with series ``s`` cut to its first ``ends[s]`` values."""
    cut = []
    for s, end in zip(data.series, ends):
        end = int(end)
        cut.append(dataclasses.replace(
            s, values=s.values[:end].copy(), time=None if s.time is None else s.time[:end],
            known=s.known[:end].copy(), past=s.past[:end].copy()))
    return dataclasses.replace(data, series=cut)


def save(loaded: LoadedForecaster, directory: str | Path, extra: dict | None = None) -> Path:
    """Write ``config.json`` (the model settings and ``extra``) and ``model.safetensors``."""
    directory = Path(directory)
    base.write_config(directory, TASK, {"model": loaded.config.to_dict(), **(extra or {})})
    ckpt.write_tensors(directory / ckpt.WEIGHTS, loaded.model.state_dict())
    return directory


def load(directory: str | Path) -> LoadedForecaster:
    """Open a directory written by ``fit`` or ``backtest`` (or :func:`save`)."""

    def build(saved: dict) -> LoadedForecaster:
        config = ForecastConfig.from_dict(saved["model"])
        return LoadedForecaster(Forecaster(config), config, Path(directory),
                                bool(saved.get("validation", True)))

    loaded, _ = base.load_model(directory, TASK, build)
    return loaded


def train(data: SeriesSet, out: str | Path, model_config: ForecastConfig | None = None,
          train_config: TrainConfig | None = None, *, validation: bool = True,
          resume: bool = False, callback: base.Callback | None = None,
          force: bool = False) -> LoadedForecaster:
    """Train a global forecaster on every series of ``data`` into the directory ``out``; the
    weights kept are those of the best validation loss.

    With ``validation`` the last horizon of each series is held out to choose the weights.
    ``resume`` continues the run in ``out`` with its saved settings (``train_config`` may
    extend the budget). Nothing is written before the settings and data are found usable.
    """
    out = Path(out)
    if resume:
        saved = base.resume_settings(out, TASK, data)
        config = ForecastConfig.from_dict(saved["model"])
        validation = saved.get("validation", validation)
        train_config = base.resumed_train_config(saved, train_config)
    else:
        config = configure(data, model_config)
        train_config = train_config or default_train_config()
    train_config.check()
    torch.manual_seed(train_config.seed)
    model = Forecaster(config)
    task = ForecastTask(model, data, validation=validation, seed=train_config.seed)
    if task.num_windows == 0:
        raise DataError(
            f"no series is long enough to train on: lookback {config.lookback} + horizon "
            f"{config.horizon} needs {minimum_length(config, validation)} values; use a "
            "shorter lookback or horizon")
    loaded = LoadedForecaster(model, config, out, validation)
    with base.claim(out, resume, force):
        if not resume:  # config first: a crash mid-run still leaves a readable directory
            save(loaded, out, {"validation": validation, "train": asdict(train_config),
                               "data": {"source": data.source, "series": len(data.series),
                                        "freq": data.freq, "period": data.period}})
        loaded.state = base.train(task, train_config, out, callback, resume,
                                  progress_hook=True)
    return loaded


@torch.no_grad()
def forecast(loaded: LoadedForecaster, data: SeriesSet, future_known: FutureKnown = None
             ) -> list[Forecast]:
    """The model's forecast of the ``horizon`` values after the end of every series: per
    series a mean ``(H,)`` and central intervals ``{80: (lo, hi), 95: (lo, hi)}``.
    ``future_known``: the known covariates' values over the horizon, per series ``(H, K)``."""
    c = loaded.config
    lag = difference_lag(c.difference, c.period)
    need = c.lookback + lag
    for s in data.series:
        if len(s.values) < need:
            raise DataError(f"series {s.id} has {len(s.values)} values; the model reads "
                            f"{need} (lookback {c.lookback}" + (f" + {lag} for differencing"
                            if lag else "") + ")")
    panel = build_panel(data, c, extend=c.horizon, future_known=future_known)
    model = loaded.model.eval()
    results: list[Forecast] = []
    lengths = np.array([len(s.values) for s in data.series])
    for k in range(0, len(lengths), 256):
        series = np.arange(k, min(k + 256, len(lengths)))
        batch = make_batch(panel, series, lengths[series], c.lookback, c.horizon, lag, c.scaling,
                           c.period)
        raw = model(batch.inputs, batch.future)
        mean = invert(heads.point(c.head, raw), batch, lag).double().numpy()
        bands = {level: (invert(lo, batch, lag).double().numpy(),
                         invert(hi, batch, lag).double().numpy())
                 for level, (lo, hi) in heads.bounds(c.head, raw).items()}
        for i in range(len(series)):
            results.append(Forecast(mean=mean[i], intervals={
                level: (lo[i], hi[i]) for level, (lo, hi) in bands.items()}))
    return results


def ensemble_forecast(members: list[LoadedForecaster], data: SeriesSet,
                      future_known: FutureKnown = None) -> list[Forecast]:
    """The median, step by step, of several models' forecasts (and of their interval bounds):
    the way N-BEATS and the M4 winners combined models trained with different seeds and
    lookbacks. The members must share the horizon."""
    if len({m.config.horizon for m in members}) != 1:
        raise ConfigError("ensemble members must have the same horizon")
    runs = [forecast(m, data, future_known) for m in members]
    out = []
    for per_series in zip(*runs):
        def median(get, per_series=per_series):
            return np.median(np.stack([get(f) for f in per_series]), axis=0)

        levels = set.intersection(*(set(f.intervals) for f in per_series))
        out.append(Forecast(mean=median(lambda f: f.mean), intervals={
            lv: (median(lambda f, lv=lv: f.intervals[lv][0]),
                 median(lambda f, lv=lv: f.intervals[lv][1])) for lv in sorted(levels)}))
    return out
