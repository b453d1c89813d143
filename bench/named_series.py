"""rnnkit against seasonal naive, ETS and ARIMA on every named series, by rolling-origin backtest.

For each dataset: the last ``windows`` horizons are forecast from origins ``T - k H`` by one model
trained on the data before the first origin (and by each baseline refitted at every origin);
the table gives the mean MASE (seasonal, with the dataset's period) and sMAPE of each method.

    python bench/named_series.py                 # about 1 minute of training per dataset
    python bench/named_series.py --time 20s --only airpassengers,nile
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from rnnkit.data.series import read_series
from rnnkit.tasks import forecast as api
from rnnkit.tasks.forecast import ForecastConfig

# dataset -> (horizon, read options): a year ahead for monthly and quarterly data, a day for the
# half-hourly electricity load, ten years for yearly series
DATASETS = {
    "airpassengers": (12, {}),
    "wineind": (12, {}),
    "ausbeer": (8, {}),
    "co2": (52, {"fill": "interpolate"}),
    "taylor": (48, {}),
    "sunspots-monthly": (12, {}),
    "sunspots": (10, {}),
    "nile": (10, {}),
    "lynx": (10, {}),
}
BASELINES = ["snaive", "naive2", "ets", "arima"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time", default="60s", help="training budget per dataset")
    parser.add_argument("--windows", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--only", default="", help="comma-separated dataset names")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    from rnnkit.cli.common import duration

    budget = duration(args.time)
    names = [n for n in args.only.split(",") if n] or list(DATASETS)
    rows = []
    for name in names:
        horizon, options = DATASETS[name]
        data = read_series(name, **options)
        started = time.perf_counter()
        with tempfile.TemporaryDirectory() as out:
            _, evaluation = api.backtest(
                data, Path(out), ForecastConfig(horizon=horizon),
                api.default_train_config(time=budget), windows=args.windows,
                baselines=BASELINES)
        seconds = time.perf_counter() - started
        s = evaluation.summary
        rows.append((name, len(data.series[0].values), data.period, horizon, s, seconds))
        print(f"{name}: done in {seconds:.0f} s", flush=True)
    print(f"\nMASE (sMAPE) over {args.windows} rolling origins, {budget:.0f} s of training per "
          f"dataset, {args.threads} threads")
    head = f"{'dataset':<17}{'T':>6}{'m':>4}{'H':>4}"
    methods = "".join(f"{m:>17}" for m in ["rnnkit"] + BASELINES)
    print(head + methods + "   rnnkit/snaive rnnkit/ets")
    for name, T, m, H, s, _ in rows:
        cells = "".join(f"{s[k]['mase']:>8.3f} ({s[k]['smape']:>5.1f})" if k in s else f"{'-':>17}"
                        for k in ["rnnkit"] + BASELINES)
        ratio = s["rnnkit"]["mase"] / s["snaive"]["mase"]
        ets = s["rnnkit"]["mase"] / s["ets"]["mase"] if "ets" in s else float("nan")
        print(f"{name:<17}{T:>6}{m:>4}{H:>4}{cells}   {ratio:>13.3f} {ets:>10.3f}")


if __name__ == "__main__":
    main()
