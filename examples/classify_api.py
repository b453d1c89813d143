"""Classify sequences from Python: ``rnnkit.tasks.classify`` fit -> load -> predict.

The data is ``japanese-vowels`` (UCI): nine speakers saying the vowel pair /ae/, each utterance
7-29 frames of 12 LPC cepstrum coefficients; the task is who spoke. The dataset fixes its own
split (270 training and 370 test utterances; rnnkit holds validation rows out of the training
part). ``fit`` trains a bidirectional LSTM with attention pooling and scores it on the same
rows as a baseline (logistic regression on per-feature summary statistics); ``load`` opens
the model directory; ``predict`` takes raw sequences ``(T_i, 12)`` of any lengths.

    python examples/classify_api.py              # 300 steps, about 10 s
    python examples/classify_api.py --steps 2000 --out runs/vowels
    python examples/classify_api.py --data sentiment    # or any labelled dataset or file
"""

from __future__ import annotations

import argparse
import tempfile

from rnnkit.data import read_labelled
from rnnkit.tasks import classify


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=300, help="optimizer steps (the budget)")
    parser.add_argument("--hidden", type=int, default=32, help="hidden units per direction")
    parser.add_argument("--data", default="japanese-vowels",
                        help="a labelled dataset name (rnnkit data list) or file")
    parser.add_argument("--out", default=None, help="model directory (default: a temporary one)")
    args = parser.parse_args(argv)

    config = classify.ClassifyConfig(hidden=args.hidden)
    train = classify.default_train_config(steps=args.steps, eval_every=max(1, args.steps // 3))
    data = read_labelled(args.data)  # a LabelledSet: sequences (or texts), labels, names
    # rows to predict: six spread over the dataset's own test part (japanese-vowels' goes
    # speaker by speaker), or over the whole set when it has no given split
    rows = [k for k, part in enumerate(data.parts or []) if part == "test"]
    rows = rows or list(range(len(data)))
    test = rows[:: max(1, len(rows) // 6)][:6]
    with tempfile.TemporaryDirectory() as scratch:
        out = args.out or scratch
        # force: a second run replaces the model an earlier one left in --out
        metrics = classify.fit(data, out, config, train, force=True)  # or fit(args.data, ...)
        model = classify.load(out)
        inputs = data.texts if data.kind == "text" else data.sequences
        prediction = model.predict([inputs[k] for k in test])

    ours, baseline = metrics["rnnkit"]["test"], metrics["baseline"]["test"]
    print(f"{metrics['rnnkit']['steps']} steps, {ours['count']} test utterances")
    print(f"test accuracy {ours['accuracy']:.4f} (baseline {baseline['accuracy']:.4f})")
    for k, label, row in zip(test, prediction.labels, prediction.probabilities):
        print(f"  row {k}: {label} (p={row.max():.2f}), truly {data.names[data.labels[k]]}")
    return metrics


if __name__ == "__main__":
    main()
