"""Captioning strings of handwritten digits (mnist-strings: 1 to 10 real MNIST digits, the test
strings composed from source images never seen in training) with the default captioner
(convolutional front end, bidirectional LSTM encoder, LSTM decoder with general attention),
beside the same network without attention (the context-vector model) at the same budget.

``--time`` is the whole budget: the captioner and the baseline get half each. The test strings
(1,000) are captioned with greedy search and beam search (4 beams) and scored with BLEU
(sacrebleu), word accuracy (reference words matched in the edit-distance alignment) and exact
match. Run it alone: a second torch process on the same 2 cores halves every model's steps.

    python bench/caption_mnist.py --time 5m
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from rnnkit.cli.common import duration
from rnnkit.tasks import caption as api


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time", type=duration, default=300.0,
                        help="the whole budget (model + baseline), e.g. 5m (default 300 s)")
    parser.add_argument("--data", default="mnist-strings", choices=api.DATASETS)
    parser.add_argument("--out", type=Path, help="model directory (default: a temporary one)")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="caption-")) / "model"
    train = api.default_train_config()
    train.time = args.time
    metrics = api.fit(args.data, out, train_config=train, force=True)
    print(f"{metrics['data']}: {metrics['sizes']['train']:,} training strings per epoch "
          f"({metrics['split']}), {metrics['sizes']['test']:,} test strings; budget "
          f"{args.time:.0f} s in all, half each")
    print(f"rnnkit: {metrics['model']}, {metrics['parameters']:,} parameters, "
          f"{metrics['steps']} steps, {metrics['epochs']} epochs")
    print(f"baseline: {metrics['baseline']['model']}")
    print(f"{'test':<28}{'BLEU':>8}{'words':>9}{'exact':>9}")
    for name, scores in metrics["test"].items():
        print(f"{name:<28}{scores['bleu']:>8.2f}{100 * scores['word_accuracy']:>8.1f}%"
              f"{100 * scores['exact']:>8.1f}%")
    print(f"model directory: {out}")


if __name__ == "__main__":
    main()
