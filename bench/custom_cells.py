"""Training speed of the layer-normalised cells' whole-sequence path beside torch.nn.LSTM.

    python bench/custom_cells.py            # 7 repetitions, ~2-3 min on 2 quiet cores
    python bench/custom_cells.py --quick    # 3 repetitions, ~1 min

For each shape of ``bench/layers.py`` it races, in one process, training steps (forward +
``out.sum().backward()``) of:

- ``torch.nn``: ``torch.nn.LSTM(I, H, L, batch_first=True)``, the baseline;
- ``ln-lstm ref`` / ``ln-gru ref``: ``build_stack(kind, I, H, L, backend="reference")``, the
  per-step Python loop under autograd;
- ``ln-lstm`` / ``ln-gru``: the same stacks with ``backend="auto"``, which run the cells'
  ``scan`` (one autograd node per layer with a hand-written backward,
  :mod:`rnnkit.cells.layernorm_scan`);
- ``control``: the torch.nn model raced a second time: its ratio shows the noise;
- with ``--compile``, ``ln-lstm compiled`` / ``ln-gru compiled``: the reference loop with each
  cell's step compiled by ``torch.compile`` (inductor; autograd through the compiled step),
  the alternative to a hand-written backward. Compiling takes ~10-30 s per kind and shape.

Tokens/s = B*T / seconds; ``x torch`` is the ratio to torch.nn (higher is faster). Contenders
are interleaved and the medians reported (see ``race_group`` in ``bench/layers.py``); the
header gives the load average: compare it with the number of cpus before trusting a row.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import time

import torch
from layers import SHAPES, Shape, race_group
from torch import nn

import rnnkit
from rnnkit.layers import build_stack

CONTROL = "control"


def compiled_steps(kind: str, I: int, H: int, L: int) -> nn.Module:
    """The reference loop whose every step runs the cell's math compiled by torch.compile."""
    stack = build_stack(kind, I, H, L, backend="reference")
    for layer in stack.layers:
        layer.cell._advance = torch.compile(layer.cell._advance, dynamic=False)
    return stack


def contenders(shape: Shape, compiled: bool = False) -> dict[str, nn.Module]:
    """The models to race at one shape, torch.nn first (it is the baseline)."""
    I, H, L = shape.inputs, shape.hidden, shape.layers
    models: dict[str, nn.Module] = {"torch.nn": nn.LSTM(I, H, L, batch_first=True)}
    for kind in ("ln-lstm", "ln-gru"):
        models[f"{kind} ref"] = build_stack(kind, I, H, L, backend="reference")
        models[kind] = build_stack(kind, I, H, L, backend="auto")
        if compiled:
            models[f"{kind} compiled"] = compiled_steps(kind, I, H, L)
    return models


def rows(quick: bool = False, reps: int | None = None, budget: float | None = None,
         shapes: tuple[Shape, ...] = SHAPES, compiled: bool = False) -> list[dict]:
    """Race every shape's contenders in training; one dict per (shape, contender):
    ``shape, contender, tokens_per_s, ratio`` (to torch.nn), ``noise``, ``n``."""
    reps = reps or (3 if quick else 7)
    budget = budget or (60.0 if quick else 200.0)
    began = time.perf_counter()
    found = []
    torch.manual_seed(0)
    for k, shape in enumerate(shapes):
        x = torch.randn(shape.batch, shape.steps, shape.inputs)
        models = {name: model.train() for name, model in contenders(shape, compiled).items()}
        now = time.perf_counter()
        deadline = now + (budget - (now - began)) / (len(shapes) - k)
        found += [{"shape": str(shape), **row}
                  for row in race_group(models, x, True, reps, deadline)]
        del models
        gc.collect()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 repetitions, 60 s budget")
    parser.add_argument("--reps", type=int, help="timed repetitions per contender (default 7)")
    parser.add_argument("--budget", type=float, help="seconds for the whole run (default 200)")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    parser.add_argument("--compile", action="store_true", help="also race torch.compile'd steps")
    parser.add_argument("--shapes", default="0,1", help="indices into the shape list (0,1)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"# torch {torch.__version__}, rnnkit {rnnkit.__version__}, "
          f"python {platform.python_version()}, threads {torch.get_num_threads()}, "
          f"{platform.machine()}; training (forward + backward of out.sum())")
    print(f"# contenders interleaved, medians; load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cpus")
    header = f"{'shape':22} {'contender':16} {'tokens/s':>9} {'x torch':>7} {'noise':>5} {'n':>2}"
    print(header)
    print("-" * len(header))
    began = time.perf_counter()
    shapes = tuple(SHAPES[int(i)] for i in args.shapes.split(",") if i)
    found = rows(args.quick, args.reps, args.budget, shapes, args.compile)
    for row in found:
        print(f"{row['shape']:22} {row['contender']:16} {row['tokens_per_s']:9,.0f} "
              f"{row['ratio']:7.2f} {row['noise']:5.0%} {row['n']:2}")
    controls = [row["ratio"] for row in found if row["contender"] == CONTROL]
    print(f"# total {time.perf_counter() - began:.0f} s; load average {os.getloadavg()[0]:.1f}")
    print(f"# {CONTROL} ranged {min(controls):.2f}..{max(controls):.2f}: ratio differences "
          "inside that range are noise")


if __name__ == "__main__":
    main()
