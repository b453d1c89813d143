"""Tagging with and without the future: forward-only against bidirectional, beside the majority tag.

Two tasks built from the same real text (default ``alice``, Alice's Adventures in Wonderland),
split 80/10/10 in contiguous blocks, scored on the test block:

- ``punct``: restore punctuation and capitals to lower-cased, unpunctuated words (a tag per
  word: case class and the mark after it); the mark after a word depends on the words that
  follow it, which only a bidirectional model reads.
- ``segment``: restore the spaces of text written without them (a B/I tag per character);
  whether a word ends here depends on the characters after it.

Each task trains a forward-only and a bidirectional LSTM with the same number of optimizer steps
(the same batches, seed and settings), so the only difference is the backward reader.

    python bench/tagging.py                              # about 100 s on 2 idle cores
    python bench/tagging.py --steps 200 --tasks segment  # a quick look

On a machine shared with other jobs use ``--threads 1`` (and OMP_NUM_THREADS=1): two OpenMP
threads competing for busy cores made the bidirectional punct run 6x slower (174 s vs 28 s).
The scores do not depend on the thread count (same seed, same numbers).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import torch

from rnnkit.data.registry import resolve_text
from rnnkit.data.tagging import build_task, split_data
from rnnkit.tasks import tag as api
from rnnkit.tasks.tag import MajorityTagger, TagConfig, default_train_config, headline, tag_metrics
from rnnkit.tasks.tag.data import tag_names
from rnnkit.train.progress import ProgressBar

COLUMNS = {"punct": ("accuracy", "macro_f1", "punct_f1", "case_f1"),
           "segment": ("accuracy", "macro_f1", "word_f1")}


def baseline_row(task: str, data) -> tuple[dict, float]:
    train, _, test = split_data(data)
    names = tag_names(train)
    started = time.perf_counter()
    predicted = MajorityTagger.fit(train, names).predict(test.sentences)
    seconds = time.perf_counter() - started
    return tag_metrics(task, test.tags, predicted, names), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="alice", help="corpus name or text file")
    parser.add_argument("--tasks", default="punct,segment")
    parser.add_argument("--steps", type=int, default=600, help="optimizer steps per model")
    parser.add_argument("--cell", default="lstm")
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None, help="keep models and report here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    out = args.out or Path(tempfile.mkdtemp(prefix="rnnkit-tagging-"))
    text = resolve_text(args.data)
    print(f"{args.data}: {len(text):,} characters; {args.steps} steps per model, "
          f"{args.cell} {args.hidden} hidden, {args.threads} threads; models in {out}",
          file=sys.stderr)
    report: dict = {}
    for task in args.tasks.split(","):
        data = build_task(text, task, source=args.data)
        rows = {"majority tag": baseline_row(task, data)}
        for name, bidirectional in (("forward-only", False), ("bidirectional", True)):
            config = TagConfig(cell=args.cell, hidden=args.hidden, bidirectional=bidirectional)
            train = default_train_config(steps=args.steps, time=None, eval_every=100)
            bar = ProgressBar(args.steps, None, metric="accuracy")
            started = time.perf_counter()
            metrics = api.fit(data, out / f"{task}-{name}", config, train, task=task,
                              callback=bar, force=True)
            rows[name] = (metrics["rnnkit"]["test"], time.perf_counter() - started)
        report[task] = {name: {**headline(task, m), "seconds": round(s, 1)}
                        for name, (m, s) in rows.items()}
        report[task]["sizes"] = metrics["sizes"]
    (out / "tagging.json").write_text(json.dumps(report, indent=2))
    print(f"\n{args.data}, test block (last 10%), same steps for both models:")
    for task, rows in report.items():
        sizes = rows.pop("sizes")
        columns = COLUMNS[task]
        print(f"\n{task}: {sizes['train']['tokens']:,} training / {sizes['test']['tokens']:,} "
              "test tokens")
        print(f"  {'model':<16}" + "".join(f"{c:>10}" for c in columns) + f"{'seconds':>10}")
        for name, row in rows.items():
            print(f"  {name:<16}" + "".join(f"{row[c]:>10.4f}" for c in columns)
                  + f"{row['seconds']:>10.1f}")
    print(f"\nreport: {out}/tagging.json")


if __name__ == "__main__":
    main()
