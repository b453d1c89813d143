"""Character-level LM quality per CPU minute: rnnkit's default model on any text file.

    python bench/charlm.py ../shared/data/tinyshakespeare.txt [--time 103] [rnnkit lm train options]

Splits the file 90/10 (nanoGPT's split of Tiny Shakespeare: 1,003,854 / 111,540 characters),
trains the default character model for the time budget and prints validation loss in nats/char
against wall time, then the n-gram baseline. Reference points on this kind of machine (103 s):
nanoGPT's CPU recipe 1.886, a plain torch.nn.LSTM 1x256 script 1.584.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
from pathlib import Path

import torch

from rnnkit.cli.lm import register
from rnnkit.cli.options import config_from_args, train_config_from_args
from rnnkit.tasks import lm as api


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    groups = parser.add_subparsers(dest="group")
    register(groups)
    argv = sys.argv[1:]
    if not argv or argv[0].startswith("-"):
        sys.exit("usage: python bench/charlm.py FILE [--time 103] [lm train options]")
    path, rest = argv[0], argv[1:]
    if "--time" not in rest and "--steps" not in rest:
        rest += ["--time", "103"]
    out = Path(tempfile.mkdtemp(prefix="charlm-"))
    args = parser.parse_args(["lm", "train", "--data", path, "--out", str(out), *rest])
    model_config = config_from_args(api.LMConfig, args)
    train_config = train_config_from_args(args, api.default_train_config())
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; model {model_config}")
    metrics = api.fit(path, out, model_config, train_config, split=(0.9, 0.1, 0.0),
                      baseline=not args.no_baseline)
    print(f"\n{'seconds':>8} {'step':>6} {'valid nats/char':>16}")
    with open(out / "metrics.csv", encoding="utf-8") as f:
        for record in csv.DictReader(f):
            if record.get("valid_loss"):
                seconds, loss = float(record["time"]), float(record["valid_loss"])
                print(f"{seconds:>8.1f} {record['step']:>6} {loss:>16.4f}")
    valid = metrics["valid"]
    print(f"\nfinal: validation {valid['loss']:.4f} nats/char ({valid['bpc']:.3f} bpc) after "
          f"{metrics['train_seconds']:.0f} s, {metrics['steps']} steps, "
          f"{metrics['tokens_per_second']:,} tokens/s, {metrics['parameters']:,} parameters")
    if "baseline" in metrics:
        best = metrics["baseline"]["best"]
        print(f"best n-gram: {best['order']}-gram Kneser-Ney {best['loss']:.4f} nats/char "
              f"({best['bpc']:.3f} bpc)")
    print("reference (103 s): nanoGPT CPU recipe 1.886, torch.nn.LSTM 1x256 script 1.584")


if __name__ == "__main__":
    main()
