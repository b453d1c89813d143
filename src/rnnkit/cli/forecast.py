"""``rnnkit forecast train|predict|backtest``: forecasting many series with one model."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from rnnkit.baselines.forecast import BASELINES
from rnnkit.cli.common import duration, positive_int, print_json
from rnnkit.cli.options import (
    add_config,
    add_force,
    add_precision,
    add_training,
    config_from_args,
    train_config_from_args,
)
from rnnkit.data.series import FILLS, LAYOUTS
from rnnkit.tasks import forecast as api
from rnnkit.tasks.forecast import ForecastConfig, default_train_config
from rnnkit.train.progress import ProgressBar

METRIC_COLUMNS = ("smape", "mase", "mae", "rmse", "owa", "coverage_80", "coverage_95")
# read_series's options: (flag, keyword, help); every one defaults to read_series's own
READ_OPTIONS = (
    ("--time-col", "time_col", "the time column (default: found by name or by parsing)"),
    ("--value-col", "value_cols", "value column(s), comma-separated (default: all others)"),
    ("--id-col", "id_col", "series id column of a long file (id, time, value)"),
    ("--layout", "layout", f"{', '.join(LAYOUTS)} (default: auto)"),
    ("--fill", "fill", f"fill missing values: {' or '.join(FILLS)}"),
    ("--freq", "freq", "pandas frequency alias (h, D, W, MS, QS, YS...)"),
    ("--known", "known", "known-in-advance covariate columns, comma-separated"),
    ("--past", "past", "past-only covariate columns, comma-separated"),
)
LISTS = ("value_cols", "known", "past")


def _read_options(parser) -> None:
    data = parser.add_argument_group("data")
    data.add_argument("--data", help="series dataset name (rnnkit data list), m4-hourly, or a "
                                     "CSV/TSV/Parquet file")
    for flag, name, text in READ_OPTIONS:
        aliases = ["--value-cols"] if name == "value_cols" else []  # errors name value_cols
        data.add_argument(flag, *aliases, dest=name, help=text)
    data.add_argument("--period", type=positive_int, help="seasonal period (default: from the "
                                                          "frequency or the dataset)")


def _model_options(parser) -> None:
    add_config(parser.add_argument_group("model"), ForecastConfig, skip=("period",))
    add_training(parser, default_train_config())


def _baselines(parser) -> None:
    parser.add_argument("--baselines", type=_columns, help="baselines scored beside the model, "
                        f"comma-separated ('' for none; default: {','.join(BASELINES)})")
    parser.add_argument("--baseline-time", type=duration,
                        help="time limit per baseline over all series (skip ETS/ARIMA if slower)")


def register(groups) -> None:
    fc = groups.add_parser("forecast", help="time-series forecasting with baselines beside it")
    verbs = fc.add_subparsers(dest="verb", metavar="VERB", required=True)

    train = verbs.add_parser("train", help="train one model on every series into a directory")
    _read_options(train)
    _model_options(train)
    train.add_argument("--out", required=True, type=Path, help="model directory to write")
    train.add_argument("--no-validation", dest="validation", action="store_false", default=None,
                       help="train on every window (no held-out last horizon)")
    _baselines(train)
    train.add_argument("--resume", action="store_true", help="continue the run saved in --out")
    add_force(train)
    train.add_argument("--json", action="store_true", help="print the metrics as JSON")
    train.set_defaults(func=run_train)

    pred = verbs.add_parser("predict", help="forecast past the end of every series")
    pred.add_argument("model", type=Path, help="a directory written by rnnkit forecast train")
    _read_options(pred)
    pred.add_argument("--future", help="CSV of the known covariates' future values (time + "
                                       "columns, id column for several series)")
    pred.add_argument("--out", type=Path, help="folder for forecast.csv and plots "
                                               "(default: MODEL/prediction)")
    pred.add_argument("--json", action="store_true")
    add_precision(pred)
    pred.set_defaults(func=run_predict)

    back = verbs.add_parser("backtest", help="rolling-origin backtest (M4 protocol for M4 data)")
    _read_options(back)
    _model_options(back)
    back.add_argument("--out", required=True, type=Path, help="directory for model and report")
    back.add_argument("--windows", type=positive_int,
                      help="origins: the last K horizons of every series (default: 3)")
    _baselines(back)
    add_force(back)
    back.add_argument("--json", action="store_true")
    back.set_defaults(func=run_backtest)


def _columns(text: str) -> list[str]:
    return [c.strip() for c in text.split(",") if c.strip()]


def _given(args, *names: str) -> dict:
    """The options among ``names`` the user gave (the rest keep the library's defaults)."""
    found = {name: getattr(args, name, None) for name in names}
    return {name: value for name, value in found.items() if value is not None}


def _read_kwargs(args) -> dict:
    given = _given(args, "period", *(name for _, name, _ in READ_OPTIONS))
    return {k: _columns(v) if k in LISTS else v for k, v in given.items()}


def _configs(args):
    return (config_from_args(ForecastConfig, args),
            train_config_from_args(args, default_train_config()))


class SeriesBar:
    """A tqdm bar over series for the baselines (appears at the first report)."""

    def __init__(self) -> None:
        self.bar = None
        self.stage = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        from tqdm import tqdm

        if self.bar is None or stage != self.stage:
            if self.bar is not None:
                self.bar.close()
            self.bar = tqdm(total=total, desc=stage, unit="series", file=sys.stderr,
                            dynamic_ncols=True, leave=False)
            self.stage = stage
        self.bar.update(done - self.bar.n)
        if done >= total:
            self.bar.close()
            self.bar = None


def _print_table(summary: dict, title: str) -> None:
    print(title)
    print(f"  {'method':<10}" + "".join(f"{c:>13}" for c in METRIC_COLUMNS))
    order = ["rnnkit"] + [m for m in summary if m != "rnnkit"]
    for name in order:
        if name not in summary:
            continue
        row = summary[name]
        cells = "".join(f"{row[c]:>13.4g}" if c in row else f"{'-':>13}" for c in METRIC_COLUMNS)
        print(f"  {name:<10}{cells}")


def run_train(args) -> int:
    data = api.resolve(args.data, **_read_kwargs(args))
    model_config, train_config = _configs(args)
    bar = ProgressBar(train_config.steps, train_config.time if not train_config.steps else None)
    started = time.perf_counter()
    loaded = api.fit(data, args.out, model_config, train_config, resume=args.resume,
                     force=args.force,
                     callback=bar, progress=SeriesBar(),
                     **_given(args, "validation", "baselines", "baseline_time"))
    state, metrics = loaded.state, loaded.metrics
    if args.json:
        print_json({**metrics, "seconds_total": round(time.perf_counter() - started, 1)})
        return 130 if state.status == "interrupted" else 0
    c = loaded.config
    print(f"\n{state.status} after {state.step} steps, {state.elapsed:.0f} s; "
          f"{len(data.series)} series, horizon {c.horizon}, lookback {c.lookback}, period "
          f"{c.period}" + (f"; {data.filled} missing values filled" if data.filled else ""))
    if "methods" in metrics:
        _print_table(metrics["methods"], "held-out last horizon of every series:")
    print(f"model: {args.out}/model.safetensors + config.json; report: {args.out}/"
          "metrics.json, forecast.csv, plots/")
    return 130 if state.status == "interrupted" else 0


def run_predict(args) -> int:
    loaded = api.load(args.model)
    data = api.resolve(args.data, **_read_kwargs(args))
    future = None
    if args.future:
        future = api.read_future(args.future, data, loaded, args.id_col, args.time_col)
    forecasts = loaded.predict(data, future)
    rows = api.write_predictions(data, loaded, forecasts, args.out)
    folder = api.prediction_folder(loaded, args.out)
    if args.json:
        print_json({"forecast": rows, "csv": str(folder / "forecast.csv")})
        return 0
    print_predictions(data, loaded, forecasts)
    print(f"forecast: {folder}/forecast.csv, plots: {folder}/plots/")
    return 0


def print_predictions(data, loaded, forecasts, shown: int = 5) -> None:
    """The first ``shown`` series' forecasts and intervals, one line per step."""
    H = loaded.config.horizon
    for s, fc, times in list(zip(data.series, forecasts, api.forecast_index(data, H)))[:shown]:
        print(f"{s.id}:")
        bands = sorted(fc.intervals)
        head = "  " + f"{'time':<22}{'forecast':>12}" + "".join(
            f"{f'{lv}% interval':>26}" for lv in bands)
        print(head)
        for k in range(H):
            cells = "".join(f"{fc.intervals[lv][0][k]:>12.4g} .. {fc.intervals[lv][1][k]:<10.4g}"
                            for lv in bands)
            print(f"  {str(times[k]):<22}{fc.mean[k]:>12.4g}  {cells}")
    if len(data.series) > shown:
        print(f"... and {len(data.series) - shown} more series (all in forecast.csv)")


def run_backtest(args) -> int:
    model_config, train_config = _configs(args)
    bar = ProgressBar(train_config.steps, train_config.time if not train_config.steps else None)
    loaded, evaluation = api.backtest(
        args.data, args.out, model_config, train_config, callback=bar, progress=SeriesBar(),
        force=args.force,
        **_given(args, "windows", "baselines", "baseline_time"), **_read_kwargs(args))
    metrics, state = loaded.metrics, loaded.state
    if args.json:
        print_json(metrics)
        return 0
    print(f"\n{metrics['protocol']}: {metrics['series']} series, {metrics['windows']} forecasts "
          f"of {evaluation.horizon} steps; model trained {state.step} steps in "
          f"{state.elapsed:.0f} s")
    _print_table(evaluation.summary, "mean over all forecasts:")
    if evaluation.skipped:
        print("skipped: " + "; ".join(f"{k} ({v})" for k, v in evaluation.skipped.items()))
    if evaluation.short:
        print(f"{len(evaluation.short)} series too short to forecast: "
              + ", ".join(evaluation.short[:5]) + (" ..." if len(evaluation.short) > 5 else ""))
    print(f"report: {args.out}/metrics.json, forecast.csv, series_metrics.csv, plots/")
    return 0
