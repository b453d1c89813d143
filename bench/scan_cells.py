"""Speed of the parallel-scan cells (minGRU, minLSTM) beside torch.nn's GRU and LSTM.

    python bench/scan_cells.py            # up to 7 repetitions, ~2 min on 2 quiet cores
    python bench/scan_cells.py --quick    # 3 repetitions, ~1 min

At B32 T1024 I256 H256, one layer, it races in one process:

- ``torch.nn.GRU``: ``torch.nn.GRU(batch_first=True)``, the baseline;
- ``torch.nn.LSTM``: the same for the LSTM;
- ``mingru`` and ``minlstm``: ``rnnkit.layers.build_stack(kind, I, H, 1)``, which runs the
  cell's whole-sequence ``scan`` (projection matmul included);
- ``control``: ``torch.nn.GRU`` raced a second time: its ratio shows the noise.

Training is forward + ``out.sum().backward()``; inference is a forward under
``torch.no_grad()``. Tokens/s = B*T / seconds; ratios are against torch.nn.GRU. Timing,
interleaving and noise are bench/layers.py's (``race_group``).
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import sys
import time
from pathlib import Path

import torch
from torch import nn

import rnnkit
from rnnkit.layers import build_stack

try:
    from layers import Shape, race_group
except ImportError:  # imported by path (the tests, a combined table): bench/ is not on sys.path
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from layers import Shape, race_group

SHAPE = Shape(32, 1024, 256, 256, 1)
BASELINE = "torch.nn.GRU"
CONTROL = "control"  # the baseline raced again under this name: its ratio is pure noise
MODES = ("train", "infer")


def contenders(shape: Shape) -> dict[str, nn.Module]:
    """The models to race, the baseline first."""
    I, H, L = shape.inputs, shape.hidden, shape.layers
    return {
        BASELINE: nn.GRU(I, H, L, batch_first=True),
        "torch.nn.LSTM": nn.LSTM(I, H, L, batch_first=True),
        "mingru": build_stack("mingru", I, H, L),
        "minlstm": build_stack("minlstm", I, H, L),
    }


def rows(quick: bool, budget: float | None = None, shape: Shape = SHAPE) -> list[dict]:
    """One row per (mode, contender): ``cell, shape, mode, contender, tokens_per_s, ratio,
    noise, n``; ``ratio`` is against torch.nn.GRU in the same mode."""
    reps = 3 if quick else 7
    budget = budget or (60.0 if quick else 150.0)
    began = time.perf_counter()
    torch.manual_seed(0)
    x = torch.randn(shape.batch, shape.steps, shape.inputs)
    table = []
    for k, mode in enumerate(MODES):
        models = contenders(shape)
        for model in models.values():
            model.train(mode == "train")
        now = time.perf_counter()
        deadline = now + (budget - (now - began)) / (len(MODES) - k)
        table += [{"cell": "scan", "shape": str(shape), "mode": mode, **row}
                  for row in race_group(models, x, mode == "train", reps, deadline)]
        del models
        gc.collect()
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 repetitions, 60 s budget")
    parser.add_argument("--budget", type=float, help="seconds for the whole run (default 150)")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"# torch {torch.__version__}, rnnkit {rnnkit.__version__}, "
          f"python {platform.python_version()}, threads {torch.get_num_threads()}, "
          f"{platform.machine()}")
    print(f"# {SHAPE}; up to {3 if args.quick else 7} timed repetitions (medians) after 2 "
          f"warm-ups, contenders interleaved; load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} cpus")
    header = (f"{'mode':5} {'contender':14} {'tokens/s':>9} {'x GRU':>6} {'noise':>5} {'n':>2}")
    print(header)
    print("-" * len(header))
    began = time.perf_counter()
    table = rows(args.quick, args.budget)
    for row in table:
        print(f"{row['mode']:5} {row['contender']:14} {row['tokens_per_s']:9,.0f} "
              f"{row['ratio']:6.2f} {row['noise']:5.0%} {row['n']:2}")
    controls = [row["ratio"] for row in table if row["contender"] == CONTROL]
    print(f"# total {time.perf_counter() - began:.0f} s; load average {os.getloadavg()[0]:.1f}")
    print(f"# {CONTROL} (torch.nn.GRU timed again) ranged {min(controls):.2f}..{max(controls):.2f}"
          ": ratio differences inside that range are noise")


if __name__ == "__main__":
    main()
