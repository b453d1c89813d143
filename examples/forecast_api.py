"""Forecast from Python: ``rnnkit.tasks.forecast`` fit -> load -> predict.

The data is ``airpassengers`` (Box & Jenkins series G): monthly airline passengers 1949-1960,
144 values with a trend and a yearly season. ``fit`` holds out the last year (the horizon, 12
months), trains on the rest, and scores the network on that year beside the classical
baselines (naive, seasonal naive, drift, Naive2, ETS, ARIMA), all on the same values; the
report (``metrics.json``, ``forecast.csv``, plots) goes to the model directory. ``load`` opens
the directory, and ``predict`` forecasts the 12 months after the end of the series, with 80%
and 95% intervals.

    python examples/forecast_api.py               # 300 steps, a few seconds
    python examples/forecast_api.py --steps 2000 --out runs/air
"""

from __future__ import annotations

import argparse
import tempfile

from rnnkit.tasks import forecast


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=300, help="optimizer steps (the budget)")
    parser.add_argument("--data", default="airpassengers", help="a series dataset or file")
    parser.add_argument("--out", default=None, help="model directory (default: a temporary one)")
    args = parser.parse_args(argv)

    train = forecast.default_train_config(steps=args.steps, eval_every=max(1, args.steps // 3))
    with tempfile.TemporaryDirectory() as scratch:
        out = args.out or scratch
        metrics = forecast.fit(args.data, out, train_config=train, force=True).metrics
        model = forecast.load(out)
        (future,) = model.predict(args.data)  # one Forecast per series

    methods = metrics["methods"]  # name -> scores on the held-out year
    print(f"{metrics['steps']} steps; the held-out last {metrics['horizon']} months:")
    print(f"  {'method':8} {'MASE':>7} {'sMAPE %':>8}")
    for name, scores in sorted(methods.items(), key=lambda item: item[1]["mase"]):
        print(f"  {name:8} {scores['mase']:7.3f} {scores['smape']:8.2f}")
    low, high = future.intervals[80]
    print("the next 12 months (80% interval):")
    for month, (mean, lo, hi) in enumerate(zip(future.mean, low, high), 1):
        print(f"  +{month:<2} {mean:6.1f} [{lo:6.1f}, {hi:6.1f}]")
    return metrics


if __name__ == "__main__":
    main()
