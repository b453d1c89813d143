"""Forecasting, the Python API the ``rnnkit forecast`` commands mirror.

``fit`` trains one global model on every series of a :class:`~rnnkit.data.series.SeriesSet`
into a model directory and scores it on the held-out last horizon of every series, beside the
classical baselines (the report goes to the directory); ``load`` opens a directory;
``forecast`` (or ``loaded.predict(data)``) forecasts past the end of each series; ``backtest``
scores the model and the baselines on the last ``windows`` horizons of every series (rolling
origin; the M4 protocol for ``"m4-hourly"``), and ``evaluate_holdout`` on given actuals.

The package: ``model`` (the network and its config), ``heads`` (output distributions),
``data`` (windows and their transform), ``task`` (the training task), ``forecaster``
(train, load, forecast), ``scores``, ``evaluate`` and ``report``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rnnkit.baselines.forecast import BASELINES
from rnnkit.data.series import SeriesSet
from rnnkit.tasks import base
from rnnkit.tasks.forecast.data import (
    difference_lag,
    invert,
    make_batch,
    standardise_columns,
)
from rnnkit.tasks.forecast.evaluate import (
    Progress,
    backtest,
    evaluate_holdout,
    evaluate_validation,
)
from rnnkit.tasks.forecast.forecaster import (
    TASK,
    LoadedForecaster,
    ensemble_forecast,
    forecast,
    load,
    resolve,
    save,
    train,
    truncate,
)
from rnnkit.tasks.forecast.model import (
    ForecastConfig,
    Forecaster,
    configure,
    default_lookback,
    default_skip,
    default_train_config,
)
from rnnkit.tasks.forecast.report import (
    forecast_index,
    prediction_folder,
    read_future,
    write_predictions,
    write_report,
)
from rnnkit.tasks.forecast.scores import Evaluation, Window, score_windows
from rnnkit.tasks.forecast.task import ForecastTask, build_panel, minimum_length
from rnnkit.train.loop import TrainConfig

VALIDATION = "the last horizon of every series (held out from training)"


def fit(data: SeriesSet | str, out: str | Path, model_config: ForecastConfig | None = None,
        train_config: TrainConfig | None = None, *, validation: bool = True,
        baselines: Sequence[str] = BASELINES, baseline_time: float | None = None,
        resume: bool = False, callback: base.Callback | None = None,
        progress: Progress | None = None, plots: bool = True, force: bool = False,
        **read_options) -> LoadedForecaster:
    """Train a global forecaster on every series of ``data`` (a SeriesSet, a dataset name or a
    file read with ``read_options``) into the directory ``out``, and write its metrics there.

    With ``validation`` the last horizon of each series is held out: it chooses the weights
    kept (those of the best validation loss), then the model and ``baselines`` are scored on
    it and the report written (:func:`write_report`: metrics.json, forecast.csv,
    series_metrics.csv, plots). ``resume`` continues a run from its checkpoint with the
    settings saved in ``out/config.json``; a directory that already holds a trained model is
    refused unless ``resume`` or ``force`` (which replaces it). The metrics are also in
    ``loaded.metrics``.
    """
    data = resolve(data, **read_options)
    loaded = train(data, out, model_config, train_config, validation=validation, resume=resume,
                   callback=callback, force=force)
    state = loaded.state
    summary = {"task": TASK, "data": data.source, "status": state.status, "steps": state.step,
               "train_seconds": round(state.elapsed, 1), "filled_values": data.filled,
               "config": loaded.config.to_dict()}
    if loaded.validation:
        kept, evaluation = evaluate_validation(loaded, data, baselines=baselines,
                                               baseline_time=baseline_time, progress=progress)
        loaded.metrics = write_report(out, kept, evaluation,
                                      {**summary, "evaluated_on": VALIDATION}, plots=plots)
    else:
        loaded.metrics = base.write_metrics(out, summary)
    return loaded


__all__ = [
    "BASELINES",
    "Evaluation",
    "ForecastConfig",
    "ForecastTask",
    "Forecaster",
    "LoadedForecaster",
    "Window",
    "backtest",
    "build_panel",
    "configure",
    "default_lookback",
    "default_skip",
    "default_train_config",
    "difference_lag",
    "ensemble_forecast",
    "evaluate_holdout",
    "evaluate_validation",
    "fit",
    "forecast",
    "forecast_index",
    "invert",
    "load",
    "make_batch",
    "minimum_length",
    "prediction_folder",
    "read_future",
    "resolve",
    "save",
    "score_windows",
    "standardise_columns",
    "train",
    "truncate",
    "write_predictions",
    "write_report",
]
