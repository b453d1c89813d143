"""Every classical baseline on M4 Hourly (414 series, h = 48, m = 24): sMAPE, MASE, OWA, time.

    OMP_NUM_THREADS=1 .venv/bin/python bench/m4_baselines.py
    .venv/bin/python bench/m4_baselines.py --methods naive2,snaive --limit 50

Reads the official M4 files (an id column "V1", then the values of each series in a row,
ragged: shorter series end in empty cells). Each method forecasts every training series;
sMAPE and MASE are averaged over all series and horizons (M4's definitions, rnnkit.metrics), OWA
is against our Naive2. The published M4 Hourly figures are printed beside ours.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from rnnkit.baselines.forecast import BASELINES, run_baselines
from rnnkit.data.series import m4_hourly_paths
from rnnkit.metrics import forecast as metrics

# (sMAPE, MASE, OWA) from the M4 competition's results for the Hourly subset
PUBLISHED = {
    "naive": (43.003, 11.608, None),
    "snaive": (13.912, 1.193, 0.628),
    "naive2": (18.383, 2.395, 1.000),
    "ets": (17.307, None, 0.852),
    "arima": (None, None, 0.581),
}


def read_m4(path: str) -> list[np.ndarray]:
    frame = pd.read_csv(path, index_col=0)
    return [row.dropna().to_numpy(dtype=np.float64) for _, row in frame.iterrows()]


def fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--train", help="Hourly-train.csv (default: $RNNKIT_M4 or "
                        "../shared/data/m4 beside the project)")
    parser.add_argument("--test", help="Hourly-test.csv (default: beside --train's default)")
    parser.add_argument("--methods", default=",".join(BASELINES))
    parser.add_argument("--horizon", type=int, default=48)
    parser.add_argument("--period", type=int, default=24)
    parser.add_argument("--limit", type=int, default=None, help="only the first N series")
    parser.add_argument("--time-limit", type=float, default=None, help="seconds per method")
    args = parser.parse_args()

    if args.train is None or args.test is None:
        train, test = m4_hourly_paths()
        args.train, args.test = args.train or train, args.test or test
    histories, actuals = read_m4(args.train), read_m4(args.test)
    histories, actuals = histories[: args.limit], actuals[: args.limit]
    names = args.methods.split(",")
    if "naive2" not in names:
        names.append("naive2")  # OWA needs it
    start = time.perf_counter()
    results = run_baselines(histories, args.horizon, args.period, names, time_limit=args.time_limit)
    total = time.perf_counter() - start

    summaries = {}
    for name, forecasts in results.items():
        rows = [
            metrics.score(y, fc.mean, x, args.period, fc.intervals)
            for x, y, fc in zip(histories, actuals, forecasts)
        ]
        summaries[name] = metrics.summarise(rows)
    metrics.add_owa(summaries)

    print(f"M4 Hourly: {len(histories)} series, h={args.horizon}, m={args.period}")
    header = (
        f"{'method':<8} {'sMAPE':>7} {'MASE':>7} {'OWA':>6} {'cov80':>6} {'cov95':>6} "
        f"{'MSIS95':>7} {'fallbk':>6} {'time s':>7}   published sMAPE / MASE / OWA"
    )
    print(header)
    print("-" * len(header))
    for name in names:
        if name in results.skipped:
            print(f"{name:<8} skipped: {results.skipped[name]}")
            continue
        s = summaries[name]
        ps, pm, po = PUBLISHED.get(name, (None, None, None))
        print(
            f"{name:<8} {s['smape']:7.3f} {s['mase']:7.3f} {s['owa']:6.3f} "
            f"{s.get('coverage_80', np.nan):6.3f} {s.get('coverage_95', np.nan):6.3f} "
            f"{s.get('msis_95', np.nan):7.3f} {results.fallbacks[name]:6d} "
            f"{results.seconds[name]:7.1f}   {fmt(ps)} / {fmt(pm)} / {fmt(po)}"
        )
    print(f"total {total:.1f} s")


if __name__ == "__main__":
    main()
