"""``rnnkit forecast train|predict|backtest``: forecasting many series with one model."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from rnnkit.cli.common import duration, positive_int, print_json
from rnnkit.errors import ConfigError
from rnnkit.train.loop import TrainConfig
from rnnkit.train.progress import ProgressBar

METRIC_COLUMNS = ("smape", "mase", "mae", "rmse", "owa", "coverage_80", "coverage_95")


def _read_options(parser) -> None:
    data = parser.add_argument_group("data")
    data.add_argument("--data", help="series dataset name (rnnkit data list), m4-hourly, or a "
                                     "CSV/TSV/Parquet file")
    data.add_argument("--time-col", help="the time column (default: found by name or by parsing)")
    data.add_argument("--value-col", help="value column(s), comma-separated (default: all others)")
    data.add_argument("--id-col", help="series id column of a long file (id, time, value)")
    data.add_argument("--layout", default="auto", help="auto, long, wide or m4")
    data.add_argument("--fill", help="fill missing values: interpolate or ffill")
    data.add_argument("--freq", help="pandas frequency alias (h, D, W, MS, QS, YS...)")
    data.add_argument("--period", type=positive_int, help="seasonal period (default: from the "
                                                          "frequency or the dataset)")
    data.add_argument("--known", default="", help="known-in-advance covariate columns")
    data.add_argument("--past", default="", help="past-only covariate columns")


def _model_options(parser) -> None:
    from rnnkit.tasks.forecast_model import ForecastConfig, default_train_config

    d, t = ForecastConfig(), default_train_config()
    m = parser.add_argument_group("model")
    m.add_argument("--horizon", type=int, required=True, help="steps to forecast")
    m.add_argument("--lookback", type=int, default=0, help="steps read (default: max(2 horizons,"
                                                           " 3 periods))")
    m.add_argument("--cell", default=d.cell, help="lstm, gru, rnn, ln-lstm, ln-gru, gru-cho")
    m.add_argument("--layers", type=positive_int, default=d.layers)
    m.add_argument("--hidden", type=positive_int, default=d.hidden)
    m.add_argument("--dropout", type=float, default=d.dropout)
    m.add_argument("--decoder", default=d.decoder, help="direct or recurrent")
    m.add_argument("--head", default=d.head, help="quantile, gaussian, student-t, mae or mse")
    m.add_argument("--scaling", default=d.scaling, help="per window: mean, standard, mase, none")
    m.add_argument("--difference", default=d.difference, help="none, first or seasonal")
    m.add_argument("--base", default=d.base, help="direct decoder: none or seasonal (forecast the "
                                                  "change from seasonal naive)")
    m.add_argument("--weighting", default=d.weighting, help="none or owa (loss weights)")
    m.add_argument("--teacher", type=float, default=d.teacher,
                   help="recurrent decoder: final teacher-forcing probability (scheduled "
                        "sampling from 1 down to this)")
    m.add_argument("--no-calendar", action="store_true", help="no calendar features")
    o = parser.add_argument_group("optimisation")
    budget = o.add_mutually_exclusive_group()
    budget.add_argument("--time", type=duration, help=f"wall-time budget (default {t.time:.0f}s)")
    budget.add_argument("--steps", type=positive_int, help="optimizer steps budget")
    o.add_argument("--batch", type=positive_int, default=d.batch, help="windows per step")
    o.add_argument("--lr", type=float, default=t.lr)
    o.add_argument("--weight-decay", type=float, default=t.weight_decay)
    o.add_argument("--clip-at", type=float, default=t.clip_at, help="gradient norm clip")
    o.add_argument("--eval-every", type=positive_int, default=t.eval_every)
    o.add_argument("--patience", type=int, default=t.patience, help="early stopping; 0 = off")
    o.add_argument("--seed", type=int, default=t.seed)


def register(groups) -> None:
    fc = groups.add_parser("forecast", help="time-series forecasting with baselines beside it")
    verbs = fc.add_subparsers(dest="verb", metavar="VERB", required=True)

    train = verbs.add_parser("train", help="train one model on every series into a directory")
    _read_options(train)
    _model_options(train)
    train.add_argument("--out", required=True, type=Path, help="model directory to write")
    train.add_argument("--no-validation", action="store_true",
                       help="train on every window (no held-out last horizon)")
    train.add_argument("--baselines", default="naive,snaive,drift,naive2,ets,arima",
                       help="baselines scored beside the model ('' for none)")
    train.add_argument("--resume", action="store_true", help="continue the run saved in --out")
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
    pred.set_defaults(func=run_predict)

    back = verbs.add_parser("backtest", help="rolling-origin backtest (M4 protocol for M4 data)")
    _read_options(back)
    _model_options(back)
    back.add_argument("--out", required=True, type=Path, help="directory for model and report")
    back.add_argument("--windows", type=positive_int, default=3,
                      help="origins: the last K horizons of every series")
    back.add_argument("--baselines", default="naive,snaive,drift,naive2,ets,arima")
    back.add_argument("--baseline-time", type=duration, default=None,
                      help="time limit per baseline over all series (skip ETS/ARIMA if slower)")
    back.add_argument("--json", action="store_true")
    back.set_defaults(func=run_backtest)


def _columns(text: str) -> list[str]:
    return [c.strip() for c in text.split(",") if c.strip()] if text else []


def read_data(args):
    from rnnkit.data.series import read_series

    if not args.data:
        raise ConfigError("give the series: --data NAME|FILE (rnnkit data list shows the names)")
    return read_series(
        args.data, time_col=args.time_col, value_cols=_columns(args.value_col or "") or None,
        id_col=args.id_col, layout=args.layout, fill=args.fill, freq=args.freq,
        period=args.period, known=_columns(args.known), past=_columns(args.past))


def _configs(args):
    from rnnkit.tasks.forecast_model import ForecastConfig, default_train_config

    if args.horizon <= 0:
        raise ConfigError(f"--horizon must be positive, got {args.horizon}")
    model = ForecastConfig(
        horizon=args.horizon, lookback=args.lookback, period=args.period or 0, cell=args.cell,
        layers=args.layers, hidden=args.hidden, dropout=args.dropout, decoder=args.decoder,
        head=args.head, scaling=args.scaling, difference=args.difference, base=args.base,
        weighting=args.weighting, teacher=args.teacher, batch=args.batch,
        calendar=not args.no_calendar)
    train: TrainConfig = default_train_config(
        lr=args.lr, weight_decay=args.weight_decay, clip_at=args.clip_at,
        eval_every=args.eval_every, patience=args.patience, seed=args.seed)
    if args.steps:
        train.steps, train.time = args.steps, None
    elif args.time:
        train.time = args.time
    return model, train


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


def _baseline_names(text: str) -> list[str]:
    return _columns(text)


def run_train(args) -> int:
    from rnnkit.tasks import forecast as api
    from rnnkit.tasks import forecast_eval as ev

    data = read_data(args)
    model_config, train_config = _configs(args)
    bar = ProgressBar(train_config.steps, train_config.time if not train_config.steps else None)
    started = time.perf_counter()
    loaded = api.fit(data, args.out, model_config, train_config,
                     validation=not args.no_validation, resume=args.resume, callback=bar)
    state = loaded.state
    extra = {"task": "forecast", "data": data.source, "status": state.status,
             "steps": state.step, "train_seconds": round(state.elapsed, 1),
             "filled_values": data.filled, "config": loaded.config.to_dict()}
    metrics = extra
    if not args.no_validation:
        data_kept, evaluation = ev.evaluate_validation(
            loaded, data, baselines=_baseline_names(args.baselines), progress=SeriesBar())
        metrics = ev.write_report(args.out, data_kept, evaluation,
                                  {**extra, "evaluated_on": "the last horizon of every series "
                                                            "(held out from training)"})
    else:
        from rnnkit.train import checkpoint as ckpt

        ckpt.write_json(args.out / "metrics.json", metrics)
    metrics["seconds_total"] = round(time.perf_counter() - started, 1)
    if args.json:
        print_json(metrics)
    else:
        print(f"\n{state.status} after {state.step} steps, {state.elapsed:.0f} s; "
              f"{len(data.series)} series, horizon {loaded.config.horizon}, lookback "
              f"{loaded.config.lookback}, period {loaded.config.period}"
              + (f"; {data.filled} missing values filled" if data.filled else ""))
        if "methods" in metrics:
            _print_table(metrics["methods"], "held-out last horizon of every series:")
        print(f"model: {args.out}/model.safetensors + config.json; report: {args.out}/"
              "metrics.json, forecast.csv, plots/")
    return 130 if state.status == "interrupted" else 0


def run_predict(args) -> int:
    from rnnkit.tasks import forecast as api
    from rnnkit.tasks import forecast_report

    loaded = api.load(args.model)
    data = read_data(args)
    future = None
    if args.future:
        future = forecast_report.read_future(args.future, data, loaded, args.id_col, args.time_col)
    forecasts = api.forecast(loaded, data, future)
    out = args.out or (args.model / "prediction")
    rows = forecast_report.write_predictions(out, data, loaded, forecasts)
    if args.json:
        print_json({"forecast": rows, "csv": str(out / "forecast.csv")})
        return 0
    forecast_report.print_predictions(data, loaded, forecasts)
    print(f"forecast: {out}/forecast.csv, plots: {out}/plots/")
    return 0


def run_backtest(args) -> int:
    from rnnkit.tasks import forecast_eval as ev

    model_config, train_config = _configs(args)
    bar = ProgressBar(train_config.steps, train_config.time if not train_config.steps else None)
    names = _baseline_names(args.baselines)
    if args.data == "m4-hourly":
        from rnnkit.data.series import load_m4, m4_hourly_paths
        from rnnkit.tasks import forecast as api

        train_set, tests = load_m4(*m4_hourly_paths())
        loaded = api.fit(train_set, args.out, model_config, train_config, callback=bar)
        evaluation = ev.evaluate_holdout(loaded, train_set, tests, baselines=names,
                                         baseline_time=args.baseline_time, progress=SeriesBar())
        data, protocol = train_set, "M4: trained on Hourly-train, scored on Hourly-test"
    else:
        data = read_data(args)
        loaded, evaluation = ev.backtest(data, args.out, model_config, train_config,
                                         windows=args.windows, baselines=names,
                                         baseline_time=args.baseline_time, callback=bar,
                                         progress=SeriesBar())
        protocol = f"rolling origin over the last {args.windows} horizons"
    state = loaded.state
    metrics = ev.write_report(args.out, data, evaluation, {
        "task": "forecast-backtest", "data": data.source, "protocol": protocol,
        "steps": state.step, "train_seconds": round(state.elapsed, 1)})
    if args.json:
        print_json(metrics)
        return 0
    print(f"\n{protocol}: {metrics['series']} series, {metrics['windows']} forecasts of "
          f"{evaluation.horizon} steps; model trained {state.step} steps in {state.elapsed:.0f} s")
    _print_table(evaluation.summary, "mean over all forecasts:")
    if evaluation.skipped:
        print("skipped: " + "; ".join(f"{k} ({v})" for k, v in evaluation.skipped.items()))
    if evaluation.short:
        print(f"{len(evaluation.short)} series too short to forecast: "
              + ", ".join(evaluation.short[:5]) + (" ..." if len(evaluation.short) > 5 else ""))
    print(f"report: {args.out}/metrics.json, forecast.csv, series_metrics.csv, plots/")
    return 0
