"""Open any trained rnnkit model directory and predict with it: ``rnnkit.load(DIR).predict(...)``.

Every task writes a model directory (``config.json`` + ``model.safetensors``) and
``rnnkit.load`` opens it whatever the task; the loaded model's ``predict`` takes the task's
natural input:

    language model   a prompt             -> the most likely next tokens, with probabilities
    classifier       texts (or a dataset of sequences) -> a label and class probabilities
    tagger           token lists          -> a tag per token
    forecaster       series (a name/file) -> forecasts past the end of each series

    python examples/load_any.py                      # trains a tiny LM on Alice first
    python examples/load_any.py runs/lm "Alice was"  # a prompt
    python examples/load_any.py runs/sentiment "a moving film" "dull and long"
    python examples/load_any.py runs/tagger "The cat sat ."
    python examples/load_any.py runs/vowels japanese-vowels
    python examples/load_any.py runs/air airpassengers
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import rnnkit
from rnnkit.tasks.base import read_config

EXAMPLE_INPUTS = {
    "lm": ["Alice was beginning to"],
    "classify": ["a moving, beautifully acted film", "dull, long and pointless"],
    "tag": ["The cat sat on the mat ."],
}


def natural_inputs(task: str, given: list[str], model):
    """What ``predict`` of a ``task`` model takes, from command-line strings."""
    given = given or EXAMPLE_INPUTS.get(task, [])
    if task == "lm":
        return " ".join(given)  # one prompt
    if task == "tag":
        return [sentence.split() for sentence in given]  # token lists
    if task == "forecast" or (task == "classify" and model.config.kind == "series"):
        if len(given) != 1:
            raise SystemExit(f"a {task} model here reads a dataset name or a file: give one")
        if task == "forecast":
            return given[0]  # predict reads the series itself
        from rnnkit.data import read_labelled

        return read_labelled(given[0])  # numeric sequences (their labels are not used)
    return given  # classify: texts


def tiny_language_model(out: Path, steps: int, data: str = "alice") -> Path:
    """A small LSTM language model trained on ``data`` (Alice) for ``steps`` steps, in ``out``."""
    from rnnkit.tasks import lm

    config = lm.LMConfig(hidden=64, embedding=32, batch=16, bptt=32)
    train = lm.default_train_config(steps=steps, warmup=steps // 5, eval_every=steps)
    lm.fit(data, out, config, train, baseline=False)
    return out


def main(argv: list[str] | None = None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("directory", nargs="?", help="a model directory (default: train a "
                                                     "tiny language model first)")
    parser.add_argument("inputs", nargs="*", help="what to predict on (default: an example)")
    parser.add_argument("--steps", type=int, default=100,
                        help="training steps of the tiny language model, without a directory")
    parser.add_argument("--data", default="alice", help="the tiny language model's text")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as scratch:
        directory = args.directory or tiny_language_model(Path(scratch), args.steps, args.data)
        task = read_config(directory)["task"]
        model = rnnkit.load(directory)
        prediction = model.predict(natural_inputs(task, args.inputs, model))
    print(f"{directory}: task {task}, {type(model).__name__}")
    show(task, prediction)
    return prediction


def show(task: str, prediction, shown: int = 10) -> None:
    """Print (the first ``shown`` rows of) a prediction the way its task reads best."""
    if task == "lm":
        for token, probability in prediction:
            print(f"  next {token!r}: {probability:.3f}")
    elif task == "classify":
        print(f"  {len(prediction.labels)} inputs")
        for label, row in list(zip(prediction.labels, prediction.probabilities))[:shown]:
            print(f"  {label} (p={row.max():.3f})")
    elif task == "tag":
        for tags in prediction[:shown]:
            print("  " + " ".join(tags))
    else:  # forecast: one Forecast per series
        print(f"  {len(prediction)} series")
        for future in prediction[:shown]:
            print("  mean " + " ".join(f"{v:.1f}" for v in future.mean))


if __name__ == "__main__":
    main()
