"""Speed of rnnkit's layers beside torch.nn: training and inference tokens/s, as ratios.

    python bench/layers.py            # full run (a few minutes on 2 cores)
    python bench/layers.py --quick    # fewer repetitions, for a quick look

For LSTM, GRU and RNN(tanh) at two shapes it times, in one process:

- ``torch.nn``: ``torch.nn.LSTM / GRU / RNN(batch_first=True)``, the baseline;
- ``auto``: ``rnnkit.layers.build_stack(kind, I, H, L, backend="auto")`` (torch's fused kernels);
- ``reference``: the same stack with ``backend="reference"`` (the per-step Python loop);
- ``rnnkit.nn``: the torch.nn drop-ins, when that module exists;

and the layer-normalised LSTM (``LayerNormLSTMCell`` in a ``Stack`` of ``Recurrent``) against
plain ``torch.nn.LSTM``. Training is forward + ``out.sum().backward()``; inference is a forward
under ``torch.no_grad()``. Tokens/s = B*T / seconds, and each ratio is against torch.nn.

The machine may be shared, so contenders are interleaved (ABC, BCA, CAB, ...) after a warm-up,
and the table reports medians; ``noise`` is each contender's interquartile range over its
median (its min..max range with fewer than 4 repetitions).
"""

from __future__ import annotations

import argparse
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


def contenders(kind: str, shape: Shape) -> dict[str, nn.Module]:
    """The models to race for one cell kind and shape, torch.nn first (it is the baseline)."""
    I, H, L = shape.inputs, shape.hidden, shape.layers
    if kind == "ln-lstm":
        return {
            "torch.nn": nn.LSTM(I, H, L, batch_first=True),
            "ln-lstm": build_stack("ln-lstm", I, H, L),
        }
    models = {
        "torch.nn": TORCH_LAYERS[kind](I, H, L, batch_first=True),
        "auto": build_stack(kind, I, H, L, backend="auto"),
        "reference": build_stack(kind, I, H, L, backend="reference"),
    }
    drop_in = getattr(rnnkit_nn, kind.upper(), None) if rnnkit_nn is not None else None
    if drop_in is not None:
        try:
            models["rnnkit.nn"] = drop_in(I, H, L, batch_first=True)
        except Exception as error:  # a drop-in still being written must not stop the bench
            print(f"# rnnkit.nn.{kind.upper()} skipped: {type(error).__name__}: {error}")
    return models


def timer(model: nn.Module, x: torch.Tensor, train: bool) -> Callable[[], float]:
    """A function that runs one training step (or one inference pass) and returns its seconds."""
    params = list(model.parameters())

    def train_once() -> float:
        for p in params:
            p.grad = None
        start = time.perf_counter()
        model(x)[0].sum().backward()
        return time.perf_counter() - start

    def infer_once() -> float:
        start = time.perf_counter()
        with torch.no_grad():
            model(x)
        return time.perf_counter() - start

    return train_once if train else infer_once


def race(runs: dict[str, Callable[[], float]], reps: int, warmup: int) -> dict[str, list[float]]:
    """Interleave the contenders, rotating who goes first each round; returns all timings."""
    names = list(runs)
    for _ in range(warmup):
        for name in names:
            runs[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(reps):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            times[name].append(runs[name]())
    return times


def spread(samples: list[float]) -> float:
    """Interquartile range over median (0 with fewer than 4 samples: use min..max then)."""
    med = statistics.median(samples)
    if len(samples) < 4:
        return (max(samples) - min(samples)) / med
    q1, _, q3 = statistics.quantiles(samples, n=4)
    return (q3 - q1) / med


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 repetitions instead of 7")
    parser.add_argument("--reps", type=int, help="timed repetitions per contender")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    parser.add_argument("--kinds", default=",".join(KINDS), help="comma-separated subset of "
                        + ",".join(KINDS))
    parser.add_argument("--shapes", default="0,1", help="indices into the shape list (0,1)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    reps = args.reps or (3 if args.quick else 7)
    kinds = [k for k in args.kinds.split(",") if k]
    shapes = [SHAPES[int(i)] for i in args.shapes.split(",") if i]

    print(f"# torch {torch.__version__}, rnnkit {rnnkit.__version__}, "
          f"python {platform.python_version()}, threads {torch.get_num_threads()}, "
          f"mkldnn {torch.backends.mkldnn.is_available()}")
    print(f"# {reps} timed repetitions (medians), 1 warm-up, contenders interleaved; "
          f"rnnkit.nn {'present' if rnnkit_nn is not None else 'absent'}")
    header = f"{'cell':8} {'shape':24} {'mode':5} {'contender':10} {'tokens/s':>10} " \
             f"{'x torch':>8} {'noise':>6}"
    print(header)
    print("-" * len(header))
    began = time.perf_counter()
    torch.manual_seed(0)
    for shape in shapes:
        x = torch.randn(shape.batch, shape.steps, shape.inputs)
        tokens = shape.batch * shape.steps
        for kind in kinds:
            models = contenders(kind, shape)
            for mode in ("train", "infer"):
                for model in models.values():
                    model.train(mode == "train")
                runs = {name: timer(m, x, mode == "train") for name, m in models.items()}
                times = race(runs, reps, warmup=1)
                base = statistics.median(times["torch.nn"])
                for name, t in times.items():
                    med = statistics.median(t)
                    print(f"{kind:8} {str(shape):24} {mode:5} {name:10} {tokens / med:10,.0f} "
                          f"{base / med:8.2f} {spread(t):6.0%}", flush=True)
            del models
    print(f"# total {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
