"""CRNN with CTC on real digit strings: test CER and string accuracy against wall time, greedy
vs prefix beam vs beam + character n-gram fusion, bidirectional vs unidirectional vs no RNN.

    python bench/ctc_digits.py --data mnist-strings --time 600 --systems bi
    python bench/ctc_digits.py --data mnist-strings --time 300 --systems bi,forward,conv
    python bench/ctc_digits.py --data spoken-digits --time 300

Each system trains alone, one after the other, with the same budget, seed and split (run
nothing else meanwhile: two torch processes on 2 cores slow each other). Prints the table
and writes ``OUT/cer_vs_time.png`` (validation CER against training seconds).
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path

import torch

from rnnkit.tasks import ctc

SYSTEMS = {"bi": {}, "forward": {"bidirectional": False}, "conv": {"rnn": False}}


def curve(directory: Path) -> list[tuple[float, float]]:
    with open(directory / "metrics.csv") as handle:
        return [(float(r["time"]), float(r["valid_cer"])) for r in csv.DictReader(handle)
                if r.get("valid_cer")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="mnist-strings")
    parser.add_argument("--time", type=float, default=600.0, help="seconds per system")
    parser.add_argument("--systems", default="bi")
    parser.add_argument("--out", type=Path, default=Path("runs/bench-ctc"))
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows, curves = [], {}
    for name in args.systems.split(","):
        out = args.out / name
        started = time.perf_counter()
        metrics = ctc.fit(args.data, out, ctc.CTCConfig(**SYSTEMS[name]),
                          ctc.default_train_config().with_budget(time=args.time),
                          baselines=(), force=True)
        wall = time.perf_counter() - started
        curves[name] = curve(out)
        for decoding, scores in metrics["test"].items():
            rows.append((name, decoding.replace("rnnkit", "").strip() or "greedy", scores,
                         metrics["steps"], wall))
        print(json.dumps({"system": name, "steps": metrics["steps"],
                          "train_seconds": metrics["train_seconds"], "wall": round(wall),
                          "model": metrics["model"], "parameters": metrics["parameters"],
                          "test": metrics["test"]}), flush=True)
    print(f"\n{args.data}, {args.time:.0f} s of training per system, test part")
    print(f"{'system':<10}{'decoding':<18}{'CER':>8}{'exact':>8}{'steps':>7}{'wall s':>8}")
    for name, decoding, scores, steps, wall in rows:
        print(f"{name:<10}{decoding:<18}{100 * scores['cer']:>7.2f}%"
              f"{100 * scores['exact']:>7.1f}%{steps:>7}{wall:>8.0f}")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4), dpi=120)
    ax = fig.subplots()
    for name, points in curves.items():
        if points:
            ax.plot(*zip(*points), marker="o", label=name)
    ax.set_yscale("log")
    ax.set_xlabel("training seconds (2 cores)")
    ax.set_ylabel("validation CER (greedy)")
    ax.set_title(f"CTC on {args.data}")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.out / "cer_vs_time.png")
    print(f"picture: {args.out / 'cer_vs_time.png'}")


if __name__ == "__main__":
    main()
