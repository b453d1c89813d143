"""rnnkit's speed in one table: every race of issue 15, as ratios to what people use today.

    python bench/speed.py            # everything, ~8 min on 2 quiet cores (make bench)
    python bench/speed.py --quick    # fewer repetitions and smaller budgets, ~3 min
    python bench/speed.py --only layers,generate

Sections, each raced in this one process (contenders interleaved, medians, a ``control`` row
that races the baseline a second time so its ratio shows the noise):

- ``layers``: rnnkit's LSTM/GRU/RNN stacks beside torch.nn, fp32 and bf16 (bench/layers.py);
- ``custom``: LayerNorm-LSTM/GRU, reference loop and whole-sequence path (bench/custom_cells.py);
- ``scan``: minGRU/minLSTM beside torch.nn.GRU at T = 1024 (bench/scan_cells.py);
- ``generate``: writing text one token at a time, batch 1 and 32 (bench/generation.py);
- ``precision``: the default character LM trained for the same steps in fp32 and in bf16,
  tokens/s and validation loss (the loss column says whether bf16 costs quality).

The header gives torch, the thread count and the load average at the start; the footer the
load average at the end. Compare them with the number of cpus before trusting a row: on a
busy machine every ratio moves, which the control rows show.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

import rnnkit

SECTIONS = ("layers", "custom", "scan", "generate", "precision")


def layer_rows(quick: bool):
    import layers

    kinds = ("lstm", "gru") if quick else ("lstm", "gru", "rnn")
    shapes = layers.SHAPES[:1] if quick else layers.SHAPES
    yield from layers.rows(quick, kinds=kinds, shapes=shapes)


def module_rows(name: str, quick: bool, baseline: str):
    """Rows of a bench module written beside this one (``rows(quick)``: dicts of ``shape,
    [mode,] contender, tokens_per_s, ratio, noise, n``), in this table's form."""
    try:
        module = importlib.import_module(name)
    except ImportError as missing:
        print(f"# {name}: not run ({missing})")
        return
    for row in module.rows(quick):
        yield {**row, "group": f"{row['shape']} {row.get('mode', 'train')}",
               "rate": row["tokens_per_s"], "unit": "tokens/s", "baseline": baseline}


def generation_rows(quick: bool):
    import generation

    torch.set_num_threads(1)  # generation at batch 1 is measured on one thread (issue 15)
    try:
        yield from generation.rows(quick)
    finally:
        torch.set_num_threads(THREADS)


def precision_rows(quick: bool):
    """The default character LM on Tiny Shakespeare, same steps in fp32 and bf16."""
    from rnnkit.tasks import lm

    steps = 150 if quick else 400
    rates: dict[str, list[float]] = {"fp32": [], "bf16": []}
    losses: dict[str, float] = {}
    for precision in ("fp32", "bf16", "bf16", "fp32"):  # ABBA: a drift in load hits both
        out = Path(tempfile.mkdtemp(prefix=f"speed-{precision}-"))
        train = lm.default_train_config(steps=steps, time=None, eval_every=steps,
                                        precision=precision)
        metrics = lm.fit("shakespeare", out, lm.LMConfig(), train, split=(0.9, 0.1, 0.0),
                         baseline=False)
        rates[precision].append(metrics["tokens_per_second"])
        losses[precision] = metrics["valid"]["loss"]
    base = statistics.median(rates["fp32"])
    for precision, values in rates.items():
        rate = statistics.median(values)
        yield {"group": f"char LM train {steps} steps", "contender": precision,
               "baseline": "fp32", "rate": rate, "unit": "tokens/s", "ratio": rate / base,
               "noise": (max(values) - min(values)) / rate, "n": len(values),
               "extra": f"valid {losses[precision]:.4f} nats/char"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, ~3 min")
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help="comma-separated sections: " + ",".join(SECTIONS))
    args = parser.parse_args()
    wanted = [s for s in args.only.split(",") if s]
    unknown = sorted(set(wanted) - set(SECTIONS))
    if unknown:
        sys.exit(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    sys.path.insert(0, str(Path(__file__).parent))
    sources = {
        "layers": lambda: layer_rows(args.quick),
        "custom": lambda: module_rows("custom_cells", args.quick, "nn.LSTM"),
        "scan": lambda: module_rows("scan_cells", args.quick, "nn.GRU"),
        "generate": lambda: generation_rows(args.quick),
        "precision": lambda: precision_rows(args.quick),
    }
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"# rnnkit {rnnkit.__version__}, torch {torch.__version__}, python "
          f"{platform.python_version()}, {platform.machine()}, {os.cpu_count()} cpus, "
          f"{THREADS} torch threads (generation: 1); load average {load} at the start")
    header = (f"{'section':9} {'race':36} {'contender':30} {'rate':>10} {'unit':8} "
              f"{'ratio':>6} {'to':10} {'noise':>5} {'n':>2}  note")
    print(header)
    print("-" * len(header))
    began = time.perf_counter()
    controls = []
    for section in wanted:
        for row in sources[section]():
            if row["contender"].startswith("control"):
                controls.append((section, row["ratio"]))
            noise = "" if row.get("noise") is None else f"{row['noise']:.0%}"
            print(f"{section:9} {row['group'][:36]:36} {row['contender'][:30]:30} "
                  f"{row['rate']:10,.0f} {row['unit']:8} {row['ratio']:6.2f} "
                  f"{row['baseline'][:10]:10} {noise:>5} {row['n']:2}  {row.get('extra', '')}",
                  flush=True)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"# {time.perf_counter() - began:.0f} s; load average {load} at the end")
    if controls:
        low, high = min(r for _, r in controls), max(r for _, r in controls)
        print(f"# control rows (a baseline raced twice) ranged {low:.2f}..{high:.2f}: ratio "
              "differences inside that range are noise")


THREADS = torch.get_num_threads()

if __name__ == "__main__":
    main()
