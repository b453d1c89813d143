"""Exposure bias, measured: the same model trained with teacher forcing (ratio 1 throughout) and
with scheduled sampling (the ratio falls from 1 to ``--teacher`` over training), the same
steps, seed and batches, then scored both ways on the test part:

- teacher forced (every previous token the true one): loss per token and token accuracy, what
  training optimises;
- free running (every previous token the model's own, greedy): exact match and chrF, what a
  user gets.

The claim (Bengio et al. 2015): a model that has only ever seen true prefixes does worse once
it must read its own mistakes, so scheduled sampling narrows the gap between the two columns.

    python bench/seq2seq_exposure.py                          # reverse, 2 x 1,500 steps
    python bench/seq2seq_exposure.py --data bible-en-es --level subword --steps 1500

Run it alone (two torch processes on the same cores slow each other several-fold).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from rnnkit.tasks import seq2seq as api
from rnnkit.train.loop import TrainConfig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="reverse")
    parser.add_argument("--examples", type=int, default=20_000, help="synthetic pairs")
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--attention", default="bahdanau", choices=api.ATTENTIONS)
    parser.add_argument("--level", default="char")
    parser.add_argument("--teacher", type=float, default=0.5,
                        help="the ratio scheduled sampling falls to")
    parser.add_argument("--schedule", default="inverse-sigmoid")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    folder = args.out or Path(tempfile.mkdtemp(prefix="rnnkit-exposure-"))
    runs = {"teacher forcing (ratio 1)": dict(teacher=1.0, teacher_schedule="constant"),
            f"scheduled sampling ({args.schedule} to {args.teacher})":
                dict(teacher=args.teacher, teacher_schedule=args.schedule)}
    rows = []
    for k, (name, teaching) in enumerate(runs.items()):
        config = api.Seq2SeqConfig(hidden=args.hidden, attention=args.attention,
                                   level=args.level, **teaching)
        metrics = api.fit(args.data, folder / f"run{k}", config,
                          TrainConfig(steps=args.steps, eval_every=max(1, args.steps // 5),
                                      checkpoint_every=10_000),
                          read=api.ReadOptions(examples=args.examples), force=True)
        rows.append((name, metrics["rnnkit"]["test"], metrics["train_seconds"]))
        print(f"{name}: {metrics['steps']} steps in {metrics['train_seconds']:.0f} s, "
              f"{metrics['model']}", flush=True)
    print(f"\n{args.data}, test part, {rows[0][1]['pairs']:,} pairs")
    print(f"  {'':<44}{'teacher forced':>24}{'free running':>22}")
    print(f"  {'':<44}{'loss':>12}{'token acc':>12}{'exact':>11}{'chrF':>11}")
    for name, test, _ in rows:
        print(f"  {name:<44}{test['loss']:>12.4f}{100 * test['token_accuracy']:>11.2f}%"
              f"{100 * test['exact']:>10.2f}%{test['chrf']:>11.2f}")
    print(f"\nmodels in {folder}")


if __name__ == "__main__":
    main()
