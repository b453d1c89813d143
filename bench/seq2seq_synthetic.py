"""The synthetic seq2seq tasks against wall time: addition (Keras's example: "123+45" -> "168"),
reverse and sort, each trained for a time budget with validation every few hundred steps.

Prints, per task: exact match of whole answers on 256 validation pairs (greedy, free running)
at each evaluation with the wall time it was reached, then the test scores beside the copy and
nearest-neighbour baselines, and the decoding throughput (sentences/s) of greedy search and of
beam search with 5 beams on the test sources.

    python bench/seq2seq_synthetic.py                            # addition, 5 minutes
    python bench/seq2seq_synthetic.py --tasks reverse,sort --time 120

The goal of issue 12: addition (3 digits, 50,000 pairs) at >= 99% exact match in 5 minutes or
less on 2 cores. Run it alone: another torch process on the same cores halves the steps.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from rnnkit.tasks import seq2seq as api
from rnnkit.train.loop import TrainConfig


def throughput(loaded, sources: list[str], beam: int) -> float:
    started = time.perf_counter()
    loaded.predict(sources, api.DecodeOptions(beam=beam))
    return len(sources) / (time.perf_counter() - started)


def recorder(curve: list):
    """A training callback keeping ``(step, seconds, validation exact match)``."""

    def record(event: str, info: dict) -> None:
        if event == "eval" and "valid_exact" in info:
            curve.append((info["step"], info["time"], info["valid_exact"]))

    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default="addition")
    parser.add_argument("--time", type=float, default=300.0, help="seconds per task")
    parser.add_argument("--examples", type=int, default=50_000)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--attention", default="general", choices=api.ATTENTIONS)
    parser.add_argument("--input-feeding", action="store_true")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--eval-every", type=int, default=200)
    parser.add_argument("--out", type=Path, help="keep the models here (default: a temp dir)")
    args = parser.parse_args()
    folder = args.out or Path(tempfile.mkdtemp(prefix="rnnkit-seq2seq-"))
    for task in args.tasks.split(","):
        config = api.Seq2SeqConfig(hidden=args.hidden, attention=args.attention,
                                   input_feeding=args.input_feeding, batch=args.batch)
        curve: list[tuple[int, float, float]] = []
        record = recorder(curve)

        metrics = api.fit(task, folder / task, config,
                          TrainConfig(time=args.time, lr=args.lr, eval_every=args.eval_every,
                                      checkpoint_every=10_000),
                          read=api.ReadOptions(examples=args.examples), callback=record,
                          force=True)
        print(f"\n{task}: {metrics['model']}, {metrics['parameters']:,} parameters, "
              f"{metrics['steps']} steps in {metrics['train_seconds']:.0f} s "
              f"({metrics['sizes']['train']:,} training pairs)")
        print(f"  {'step':>6} {'seconds':>8} {'valid exact':>12}")
        for step, seconds, exact in curve:
            print(f"  {step:>6} {seconds:>8.1f} {100 * exact:>11.1f}%")
        reached = next((s for _, s, e in curve if e >= 0.99), None)
        print(f"  99% validation exact match first reached at: "
              f"{f'{reached:.0f} s' if reached is not None else 'not within the budget'}")
        print(f"  {'test':<28}{'exact':>8}{'chrF':>8}")
        for key, name in (("rnnkit", "rnnkit (greedy)"), ("copy", "copy the source"),
                          ("nearest", "nearest neighbour")):
            scores = metrics[key]["test"]
            print(f"  {name:<28}{100 * scores['exact']:>7.2f}%{scores['chrf']:>8.2f}")
        loaded = api.load(folder / task)
        sources = [s for s, _ in api.read_parts(task, api.ReadOptions(
            examples=args.examples)).test[:1000]]
        greedy, beam = throughput(loaded, sources, 1), throughput(loaded, sources, 5)
        print(f"  decoding {len(sources)} test sources: greedy {greedy:,.0f} sentences/s, "
              f"beam 5 {beam:,.0f} sentences/s ({greedy / beam:.1f}x slower)")
    print(f"\nmodels in {folder}")


if __name__ == "__main__":
    main()
