"""Speed of rnnkit's layers beside torch.nn: training and inference tokens/s, as ratios.

    python bench/layers.py            # full run: up to 7 repetitions, ~2.5 min on 2 quiet cores
    python bench/layers.py --quick    # 3 repetitions, ~1 min

For LSTM, GRU and RNN(tanh) at two shapes it times, in one process:

- ``torch.nn``: ``torch.nn.LSTM / GRU / RNN(batch_first=True)``, the baseline;
- ``auto``: ``rnnkit.layers.build_stack(kind, I, H, L, backend="auto")`` (torch's fused kernels);
- ``reference``: the same stack with ``backend="reference"`` (the per-step Python loop);
- ``rnnkit.nn``: the torch.nn drop-ins, when that module exists;
- ``auto bf16``: ``auto`` under torch's CPU autocast to bfloat16 (``--precision bf16``);
- ``control``: the torch.nn model itself, raced a second time: its ratio shows the noise;

and the layer-normalised LSTM (``LayerNormLSTMCell`` in a ``Stack`` of ``Recurrent``) against
plain ``torch.nn.LSTM``. Training is forward + ``out.sum().backward()``; inference is a forward
under ``torch.no_grad()``. Tokens/s = B*T / seconds, and each ratio is against torch.nn.

The machine may be shared, so contenders are interleaved (ABC, BCA, CAB, ...) after warm-ups,
and the table reports medians; ``noise`` is each contender's interquartile range over its
median (its min..max range with fewer than 4 repetitions) and ``n`` the repetitions timed
(each repeats a short call until it lasts 0.2 s). A loaded machine would stretch the run, so
a group that overruns its share of ``--budget`` stops at 3. The header gives the load
average: compare it with the number of cpus before trusting a row.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

import rnnkit
from rnnkit.layers import build_stack

try:  # the drop-ins are being written alongside this benchmark
    import rnnkit.nn as rnnkit_nn
except ImportError:
    rnnkit_nn = None


@dataclass(frozen=True)
class Shape:
    batch: int
    steps: int
    inputs: int
    hidden: int
    layers: int

    def __str__(self) -> str:
        return f"B{self.batch} T{self.steps} I{self.inputs} H{self.hidden} x{self.layers}"


SHAPES = (Shape(32, 128, 128, 256, 1), Shape(32, 128, 256, 512, 2))
TORCH_LAYERS = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}
KINDS = ("lstm", "gru", "rnn", "ln-lstm")
MODES = ("train", "infer")
CONTROL = "control"  # the torch.nn model raced again under this name: its ratio is pure noise
MIN_SAMPLE = 0.2  # seconds: one timed sample repeats a short call until it lasts this long


class Autocast(nn.Module):
    """``inner`` run under CPU autocast to bfloat16, as ``--precision bf16`` trains."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return self.inner(x)


def contenders(kind: str, shape: Shape) -> dict[str, nn.Module]:
    """The models to race for one cell kind and shape, torch.nn first (it is the baseline)."""
    I, H, L = shape.inputs, shape.hidden, shape.layers
    if kind == "ln-lstm":
        return {
            "torch.nn": nn.LSTM(I, H, L, batch_first=True),
            "ln-lstm": build_stack("ln-lstm", I, H, L),
            "ln-lstm bf16": Autocast(build_stack("ln-lstm", I, H, L)),
        }
    models = {
        "torch.nn": TORCH_LAYERS[kind](I, H, L, batch_first=True),
        "auto": build_stack(kind, I, H, L, backend="auto"),
        "reference": build_stack(kind, I, H, L, backend="reference"),
        "auto bf16": Autocast(build_stack(kind, I, H, L, backend="auto")),
    }
    drop_in = getattr(rnnkit_nn, kind.upper(), None) if rnnkit_nn is not None else None
    if drop_in is not None:
        try:
            models["rnnkit.nn"] = drop_in(I, H, L, batch_first=True)
        except Exception as error:  # a drop-in still being written must not stop the bench
            print(f"# rnnkit.nn.{kind.upper()} skipped: {type(error).__name__}: {error}")
    return models


def timer(model: nn.Module, x: torch.Tensor, train: bool) -> Callable[[int], float]:
    """``run(calls)``: that many training steps (or inference passes); returns seconds per call."""
    params = list(model.parameters())

    def train_steps(calls: int) -> float:
        start = time.perf_counter()
        for _ in range(calls):
            for p in params:
                p.grad = None
            model(x)[0].sum().backward()
        return (time.perf_counter() - start) / calls

    def infer_passes(calls: int) -> float:
        start = time.perf_counter()
        with torch.no_grad():
            for _ in range(calls):
                model(x)
        return (time.perf_counter() - start) / calls

    return train_steps if train else infer_passes


def race(
    runs: dict[str, Callable[[int], float]], reps: int, deadline: float, least: int
) -> dict[str, list[float]]:
    """Interleave the contenders, rotating who goes first each round; seconds per call.

    Two warm-up calls each; the second sets how many calls make one sample (at least
    ``MIN_SAMPLE`` seconds, so that short runs are not all timer and scheduler noise). Stops
    after ``reps`` rounds, or after ``least`` rounds once ``time.perf_counter()`` passes
    ``deadline`` (a loaded machine must not stretch the run without bound).
    """
    names = list(runs)
    calls = {}
    for name in names:
        runs[name](1)
        calls[name] = max(1, round(MIN_SAMPLE / runs[name](1)))
    times: dict[str, list[float]] = {name: [] for name in names}
    gc.disable()  # a collection inside one contender's timing is noise
    try:
        for r in range(reps):
            if r >= least and time.perf_counter() > deadline:
                break
            for name in names[r % len(names) :] + names[: r % len(names)]:
                times[name].append(runs[name](calls[name]))
    finally:
        gc.enable()
    return times


def race_group(models: dict[str, nn.Module], x: torch.Tensor, train: bool, reps: int,
               deadline: float) -> list[dict]:
    """Race ``models`` on ``x`` (the first is the baseline, raced again as ``control``); one
    dict per contender: ``contender, tokens_per_s, ratio`` (to the baseline), ``noise, n``."""
    runs = {name: timer(model, x, train) for name, model in models.items()}
    baseline = next(iter(runs))
    runs[CONTROL] = runs[baseline]
    times = race(runs, reps, deadline, least=min(reps, 3))
    base = statistics.median(times[baseline])
    tokens = x.shape[0] * x.shape[1]
    return [{"contender": name, "tokens_per_s": tokens / statistics.median(t),
             "ratio": base / statistics.median(t), "noise": spread(t), "n": len(t)}
            for name, t in times.items()]


def spread(samples: list[float]) -> float:
    """Interquartile range over median (0 with fewer than 4 samples: use min..max then)."""
    med = statistics.median(samples)
    if len(samples) < 4:
        return (max(samples) - min(samples)) / med
    q1, _, q3 = statistics.quantiles(samples, n=4)
    return (q3 - q1) / med


def rows(quick: bool = False, kinds=KINDS, shapes=SHAPES, reps: int | None = None,
         budget: float | None = None):
    """The races, one row per contender and group as a dict, yielded as each group ends."""
    reps = reps or (3 if quick else 7)
    budget = budget or (90.0 if quick else 270.0)
    began = time.perf_counter()
    groups = [(shape, kind, mode) for shape in shapes for kind in kinds for mode in MODES]
    torch.manual_seed(0)
    for k, (shape, kind, mode) in enumerate(groups):
        x = torch.randn(shape.batch, shape.steps, shape.inputs)
        models = contenders(kind, shape)
        for model in models.values():
            model.train(mode == "train")
        now = time.perf_counter()
        deadline = now + (budget - (now - began)) / (len(groups) - k)
        for row in race_group(models, x, mode == "train", reps, deadline):
            yield {**row, "group": f"{kind} {shape} {mode}", "kind": kind, "shape": str(shape),
                   "mode": mode, "baseline": "torch.nn", "rate": row["tokens_per_s"],
                   "unit": "tokens/s"}
        del models
        gc.collect()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 repetitions, 90 s budget")
    parser.add_argument("--reps", type=int, help="timed repetitions per contender (default 7)")
    parser.add_argument("--budget", type=float, help="seconds for the whole run (default 270); "
                        "a group past its share stops at 3 repetitions")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    parser.add_argument("--kinds", default=",".join(KINDS), help="comma-separated subset of "
                        + ",".join(KINDS))
    parser.add_argument("--shapes", default="0,1", help="indices into the shape list (0,1)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    reps = args.reps or (3 if args.quick else 7)
    budget = args.budget or (90.0 if args.quick else 270.0)
    kinds = [k for k in args.kinds.split(",") if k]
    shapes = [SHAPES[int(i)] for i in args.shapes.split(",") if i]

    print(f"# torch {torch.__version__}, rnnkit {rnnkit.__version__}, "
          f"python {platform.python_version()}, threads {torch.get_num_threads()}, "
          f"mkldnn {torch.backends.mkldnn.is_available()}, {platform.machine()}")
    print(f"# up to {reps} timed repetitions (medians) after 2 warm-ups, contenders interleaved, "
          f"budget {budget:.0f} s; rnnkit.nn {'present' if rnnkit_nn is not None else 'absent'}; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cpus")
    header = (f"{'cell':8} {'shape':22} {'mode':5} {'contender':12} {'tokens/s':>9} "
              f"{'x torch':>7} {'noise':>5} {'n':>2}")
    print(header)
    print("-" * len(header))
    began = time.perf_counter()
    worst: dict[tuple[str, str], float] = {}  # (contender, mode) -> lowest ratio to torch.nn
    controls: list[float] = []
    for row in rows(args.quick, kinds, shapes, reps, budget):
        name, mode, ratio = row["contender"], row["mode"], row["ratio"]
        if name == CONTROL:
            controls.append(ratio)
        elif name != "torch.nn":
            worst[name, mode] = min(ratio, worst.get((name, mode), ratio))
        print(f"{row['kind']:8} {row['shape']:22} {mode:5} {name:12} {row['rate']:9,.0f} "
              f"{ratio:7.2f} {row['noise']:5.0%} {row['n']:2}", flush=True)
    print(f"# total {time.perf_counter() - began:.0f} s; load average {os.getloadavg()[0]:.1f}")
    print(f"# {CONTROL} (the torch.nn model timed again) ranged {min(controls):.2f}.."
          f"{max(controls):.2f}: ratio differences inside that range are noise")
    print("# lowest ratio to torch.nn: " + ", ".join(
        f"{name} {mode} {ratio:.2f}" for (name, mode), ratio in sorted(worst.items())))


if __name__ == "__main__":
    main()
