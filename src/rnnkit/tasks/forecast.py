"""Forecasting, the Python API the ``rnnkit forecast`` commands mirror.

``fit`` trains one global model on every series of a :class:`~rnnkit.data.series.SeriesSet`
into a model directory; ``load`` opens one; ``predict`` forecasts past the end of each series;
``backtest`` scores the model and the classical baselines on the last ``windows`` horizons of
every series (rolling origin), and ``evaluate_holdout`` on given actuals (the M4 protocol).
Every forecast is made from a copy of the data cut at its origin, so nothing after the origin
can reach the model or a baseline.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from rnnkit.baselines.forecast import Forecast
from rnnkit.data.series import SeriesSet, calendar_features, read_series
from rnnkit.errors import ConfigError, DataError
from rnnkit.tasks import forecast_heads as heads
from rnnkit.tasks.forecast_data import (  # noqa: F401 (difference_lag: part of the API)
    difference_lag,
    invert,
    make_batch,
    standardise_columns,
)
from rnnkit.tasks.forecast_model import (  # noqa: F401 (default_train_config: part of the API)
    ForecastConfig,
    Forecaster,
    default_lookback,
    default_skip,
    default_train_config,
)
from rnnkit.tasks.forecast_task import (  # noqa: F401 (minimum_length: part of the API)
    ForecastTask,
    build_panel,
    minimum_length,
)
from rnnkit.train import checkpoint as ckpt
from rnnkit.train.logs import write_csv
from rnnkit.train.loop import TrainConfig, Trainer

Callback = Callable[[str, dict], "bool | None"]


@dataclass
class LoadedForecaster:
    model: Forecaster
    config: ForecastConfig
    directory: Path


def resolve(data: SeriesSet | str, **read_options) -> SeriesSet:
    return data if isinstance(data, SeriesSet) else read_series(data, **read_options)


def truncate(data: SeriesSet, ends: list[int] | np.ndarray) -> SeriesSet:
    """A copy of ``data`` with series ``s`` cut to its first ``ends[s]`` values."""
    cut = []
    for s, end in zip(data.series, ends):
        end = int(end)
        cut.append(dataclasses.replace(
            s, values=s.values[:end].copy(), time=None if s.time is None else s.time[:end],
            known=s.known[:end].copy(), past=s.past[:end].copy()))
    return dataclasses.replace(data, series=cut)


def configure(data: SeriesSet, config: ForecastConfig | None) -> ForecastConfig:
    """Fill in what comes from the data: period, frequency, lookback, covariate names and the
    training statistics that standardise user covariates."""
    c = dataclasses.replace(config) if config is not None else ForecastConfig()
    if not c.period:
        c.period = max(1, int(data.period or 1))
    c.freq = data.freq
    if not c.lookback:
        c.lookback = default_lookback(c.horizon, c.period)
    if c.skip < 0:
        c.skip = default_skip(c.lookback, c.period, c.horizon) if c.decoder == "direct" else 0
    c.known_names, c.past_names = list(data.known_names), list(data.past_names)
    first = data.series[0]
    c.calendar_names = []
    if c.calendar and first.time is not None:
        _, c.calendar_names = calendar_features(first.time[:2], data.freq)
    k_mean, k_std = standardise_columns([s.known for s in data.series])
    p_mean, p_std = standardise_columns([s.past for s in data.series])
    c.known_mean, c.known_std = k_mean.tolist(), k_std.tolist()
    c.past_mean, c.past_std = p_mean.tolist(), p_std.tolist()
    c.check()
    return c


def save(loaded: LoadedForecaster, directory: str | Path, extra: dict | None = None) -> Path:
    directory = Path(directory)
    saved = {"task": "forecast", "model": loaded.config.to_dict(), **(extra or {})}
    ckpt.write_json(directory / ckpt.CONFIG, saved)
    ckpt.write_tensors(directory / ckpt.WEIGHTS, loaded.model.state_dict())
    return directory


def load(directory: str | Path) -> LoadedForecaster:
    directory = Path(directory)
    if not directory.is_dir():
        raise ckpt.CheckpointError(
            f"no model directory at {directory}; train one with rnnkit forecast train")
    saved = ckpt.read_json(directory / ckpt.CONFIG)
    task = saved.get("task") if isinstance(saved, dict) else None
    if task != "forecast":
        raise ckpt.CheckpointError(
            f"{directory}/config.json describes a {task!r} model, not a forecaster; "
            "give a directory written by rnnkit forecast train")
    try:
        config = ForecastConfig.from_dict(saved["model"])
        model = Forecaster(config)
    except (KeyError, TypeError, AttributeError, ConfigError) as bad:
        raise ckpt.CheckpointError(
            f"{directory}/config.json is damaged (model settings: {bad}); retrain or restore it"
        ) from None
    ckpt.load_weights(model, directory / ckpt.WEIGHTS)
    model.eval()
    return LoadedForecaster(model, config, directory)


def fit(data: SeriesSet | str, out: str | Path, model_config: ForecastConfig | None = None,
        train_config: TrainConfig | None = None, *, validation: bool = True,
        resume: bool = False, callback: Callback | None = None, **read_options
        ) -> LoadedForecaster:
    """Train a global forecaster on every series of ``data`` into the directory ``out``.

    With ``validation`` the last horizon of each series is held out to choose the best weights;
    the weights kept are those of the best validation loss. ``resume`` continues a run from its
    checkpoint with the settings saved in ``out/config.json``.
    """
    out = Path(out)
    data = resolve(data, **read_options)
    if resume:
        saved = ckpt.read_json(out / ckpt.CONFIG)
        config = ForecastConfig.from_dict(saved["model"])
        validation = saved.get("validation", validation)
    else:
        config = configure(data, model_config)
    train_config = train_config or default_train_config()
    torch.manual_seed(train_config.seed)
    model = Forecaster(config)
    task = ForecastTask(model, data, validation=validation, seed=train_config.seed)
    if task.num_windows == 0:
        raise DataError(
            f"no series is long enough to train on: lookback {config.lookback} + horizon "
            f"{config.horizon} needs {minimum_length(config, validation)} values; use a "
            "shorter --lookback or --horizon")
    loaded = LoadedForecaster(model, config, out)
    extra = {"validation": validation, "train": asdict(train_config),
             "data": {"source": data.source, "series": len(data.series), "freq": data.freq,
                      "period": data.period}}
    out.mkdir(parents=True, exist_ok=True)
    save(loaded, out, extra)  # config first: a crash mid-run still leaves a readable directory
    trainer = Trainer(task, train_config, out, callback)
    task.progress = trainer.progress
    state = trainer.run(resume=resume)
    ckpt.load_weights(model, out / ckpt.WEIGHTS)  # the best validation weights
    model.eval()
    write_csv(state.history, out / "metrics.csv")
    loaded.state = state  # type: ignore[attr-defined]
    return loaded


@torch.no_grad()
def forecast(loaded: LoadedForecaster, data: SeriesSet,
             future_known: list[np.ndarray] | None = None) -> list[Forecast]:
    """The model's forecast of the ``horizon`` values after the end of every series."""
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
                      future_known: list[np.ndarray] | None = None) -> list[Forecast]:
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
