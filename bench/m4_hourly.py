"""The M4 Hourly protocol end to end: rnnkit against the classical baselines, in one table.

414 series, train on ``Hourly-train.csv``, forecast h = 48 from the end of each, score on
``Hourly-test.csv`` with M4's sMAPE, MASE (seasonal, m = 24) and OWA (relative to Naive2),
and the 80%/95% interval coverage. The published column is the M4 paper's figures for the
same set (Makridakis et al. 2020, Hourly: Naive2 OWA 1.000, ETS 0.852, seasonal naive 0.628,
ARIMA 0.581; N-BEATS 0.442).

    python bench/m4_hourly.py                      # about 10 min of training + baselines
    python bench/m4_hourly.py --time 2m --ensemble 1 --baselines snaive,naive2   # quick look
    python bench/m4_hourly.py --steps 300 --baselines snaive,naive2   # figures that repeat

The data: ``$RNNKIT_M4`` or ``../shared/data/m4`` (see ``rnnkit.data.series.m4_hourly_paths``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

from rnnkit.cli.forecast import SeriesBar
from rnnkit.data.series import load_m4, m4_hourly_paths
from rnnkit.tasks import forecast as api
from rnnkit.tasks.forecast import ForecastConfig
from rnnkit.train.progress import ProgressBar

PUBLISHED = {"naive2": 1.000, "ets": 0.852, "snaive": 0.628, "arima": 0.581, "n-beats": 0.442}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time", default="10m", help="training budget per model (s, m, h)")
    parser.add_argument("--steps", type=int, default=None,
                        help="a step budget per model instead: figures that repeat exactly")
    parser.add_argument("--ensemble", type=int, default=1,
                        help="models trained with different seeds and lookbacks; the forecast "
                             "is their median")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--baselines", default="naive,snaive,drift,naive2,ets,arima")
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--lookback", type=int, default=168)
    parser.add_argument("--out", type=Path, default=None, help="keep the report here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    from rnnkit.cli.common import duration

    budget = duration(args.time) if not args.steps else None
    train_set, tests = load_m4(*m4_hourly_paths())
    out = args.out or Path(tempfile.mkdtemp(prefix="rnnkit-m4-"))
    print(f"M4 Hourly: {len(train_set.series)} series, h=48, m=24; {args.threads} threads; "
          f"{args.ensemble} model(s) x "
          f"{f'{args.steps} steps' if args.steps else f'{budget:.0f} s'}; report in {out}",
          file=sys.stderr)
    members, started = [], time.perf_counter()
    for k in range(args.ensemble):
        lookback = args.lookback if k % 2 == 0 else 2 * args.lookback
        config = ForecastConfig(horizon=48, lookback=lookback, hidden=args.hidden,
                                scaling="standard", base="seasonal", weighting="owa")
        train = api.default_train_config(seed=k, eval_every=500).with_budget(args.steps, budget)
        bar = ProgressBar(args.steps, budget)
        members.append(api.fit(train_set, out / f"model{k}", config, train, callback=bar,
                               force=True))
    train_seconds = time.perf_counter() - started
    names = [n for n in args.baselines.split(",") if n]
    evaluation = api.evaluate_holdout(members[0], train_set, tests, baselines=names,
                                     progress=SeriesBar())
    if len(members) > 1:
        for w, fc in zip(evaluation.windows, api.ensemble_forecast(members, train_set)):
            w.forecasts["rnnkit"] = fc
        histories = [s.values for s in train_set.series]
        evaluation.summary = api.score_windows(evaluation.windows, histories, 24)
    api.write_report(out, train_set, evaluation, {"task": "m4-hourly-bench",
                                                 "ensemble": args.ensemble})
    evaluation.seconds["rnnkit"] = train_seconds + evaluation.seconds.get("rnnkit", 0.0)
    print(f"\n{'method':<10}{'sMAPE':>9}{'MASE':>8}{'OWA':>8}{'cov80':>7}{'cov95':>7}"
          f"{'seconds':>9}   published OWA")
    for name in ["rnnkit"] + [n for n in evaluation.summary if n != "rnnkit"]:
        row = evaluation.summary[name]
        print(f"{name:<10}{row['smape']:>9.3f}{row['mase']:>8.3f}{row['owa']:>8.3f}"
              f"{row.get('coverage_80', float('nan')):>7.2f}"
              f"{row.get('coverage_95', float('nan')):>7.2f}"
              f"{evaluation.seconds.get(name, float('nan')):>9.1f}   "
              f"{PUBLISHED.get(name, '')}")
    print(f"{'n-beats':<10}{'':>40}   {PUBLISHED['n-beats']} (published, 4-core CPU)")
    steps = sum(m.state.step for m in members)
    print(f"\nrnnkit: {args.ensemble} x LSTM {args.hidden}, lookback {args.lookback}"
          f"{' and ' + str(2 * args.lookback) if args.ensemble > 1 else ''}, {steps} steps, "
          f"{train_seconds:.0f} s of training on {args.threads} threads")


if __name__ == "__main__":
    main()
