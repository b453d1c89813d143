"""``rnnkit demo``: a short tour of the recurrent core against torch.nn."""

from __future__ import annotations

import time

import torch

from rnnkit import nn as rnn
from rnnkit.layers import Recurrent


def register(groups) -> None:
    parser = groups.add_parser("demo", help="check rnnkit's layers against torch.nn and time them")
    parser.add_argument("--seed", type=int, default=0)
    parser.set_defaults(func=run)


def _time(fn, repeat: int = 3) -> float:
    fn()
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


def run(args) -> int:
    torch.manual_seed(args.seed)
    B, T, F, H = 16, 64, 32, 128
    x = torch.randn(T, B, F)
    print(f"rnnkit vs torch.nn, seq-first input (T={T}, B={B}, F={F}), hidden {H}, 2 layers")
    print(f"{'layer':<6} {'backend':<10} {'max |Δ output|':>15} {'ms/forward':>11} {'torch ms':>9}")
    for name in ("RNN", "LSTM", "GRU"):
        ours = getattr(rnn, name)(F, H, num_layers=2)
        ref = getattr(torch.nn, name)(F, H, num_layers=2)
        ref.load_state_dict(ours.state_dict())
        with torch.no_grad():
            ref_out, _ = ref(x)
            ref_ms = _time(lambda m=ref: m(x)) * 1e3
            for backend in ("native", "reference"):
                ours.backend = backend
                out, _ = ours(x)
                diff = (out - ref_out).abs().max().item()
                ms = _time(lambda m=ours: m(x)) * 1e3
                print(f"{name:<6} {backend:<10} {diff:>15.2e} {ms:>11.2f} {ref_ms:>9.2f}")
    layer = Recurrent(rnn.LSTMCell(F, H))
    out, state, traj = layer(x.transpose(0, 1), trajectories=True)
    forget = traj.gates["f"].mean().item()
    print(f"\ninside an LSTM layer: mean forget-gate activation {forget:.3f} over {T} steps")
    return 0
