"""Language models, the Python API the ``rnnkit lm`` commands mirror.

``fit`` trains into a model directory; ``load`` opens one; ``evaluate``, ``generate`` and
``predict`` use it; ``baseline`` scores Kneser-Ney n-grams on the same split. The corpus is cut
into contiguous train/validation/test parts (:mod:`rnnkit.tasks.lm.data`).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path

import torch

from rnnkit.baselines.ngram import KneserNey
from rnnkit.data.vocab import Vocabulary
from rnnkit.errors import ConfigError, DataError
from rnnkit.tasks import base
from rnnkit.tasks.lm.data import Corpus, prepare
from rnnkit.tasks.lm.generate import LoadedLM, generate, generate_samples, predict
from rnnkit.tasks.lm.model import LanguageModel, LMConfig, default_train_config
from rnnkit.tasks.lm.task import LMTask, metrics_from_loss, stream_loss
from rnnkit.train import checkpoint as ckpt
from rnnkit.train.loop import TrainConfig, TrainState

TASK = "lm"
MODES = ("carry", "window")


def load(directory: str | Path) -> LoadedLM:
    """Open a directory written by :func:`fit` (or :func:`save`)."""

    def build(saved: dict) -> LoadedLM:
        config = LMConfig.from_dict(saved["model"])
        vocab = Vocabulary.from_dict(saved.get("vocabulary") or {})
        base.check_size("the vocabulary", len(vocab), config.vocab_size)
        return LoadedLM(LanguageModel(config), vocab, config, Path(directory))

    loaded, _ = base.load_model(directory, TASK, build)
    return loaded


def save(lm: LoadedLM, directory: str | Path) -> Path:
    """Write ``lm`` as a model directory (``config.json`` + ``model.safetensors``) that
    :func:`load` and every ``rnnkit lm`` command read."""
    directory = Path(directory)
    saved = {}
    if (lm.directory / ckpt.CONFIG).is_file():
        saved = ckpt.read_json(lm.directory / ckpt.CONFIG)
    saved.update({"model": lm.config.to_dict(), "vocabulary": lm.vocab.to_dict()})
    base.write_config(directory, TASK, saved)
    ckpt.write_tensors(directory / ckpt.WEIGHTS, lm.model.state_dict())
    return directory


def fit(
    data: str | None,
    out: str | Path,
    model_config: LMConfig | None = None,
    train_config: TrainConfig | None = None,
    *,
    split=(0.9, 0.05, 0.05),
    encoding: str = "utf-8",
    mode: str = "carry",
    resume: bool = False,
    baseline: bool = True,
    callback: Callable[[str, dict], bool | None] | None = None,
    force: bool = False,
) -> dict:
    """Train a language model on ``data`` (a dataset name or a file) into the directory ``out``.

    ``mode`` is ``carry`` (truncated BPTT over contiguous streams, the state carried) or
    ``window`` (full BPTT on random windows). Returns the metrics also written to
    ``out/metrics.json``. With ``resume=True`` the model, split and options come from
    ``out/config.json`` (``train_config`` may extend the budget). A directory that already
    holds a trained model is refused unless ``resume`` or ``force`` (which replaces it).
    """
    out = Path(out)
    if resume:
        saved = base.resume_settings(out, TASK, data)
        model_config = LMConfig.from_dict(saved["model"])
        train_config = base.resumed_train_config(saved, train_config)
        split, mode = tuple(saved["split"]), saved["mode"]
        data, encoding = saved["data"], saved["encoding"]
    elif data is None:
        raise ConfigError("data is missing: give the text to learn, a dataset name or a text "
                          "file (or resume a run)", "data")
    if mode not in MODES:
        raise ConfigError.bad("mode", f"must be carry or window, got {mode!r}")
    model_config = dataclasses.replace(model_config) if model_config else LMConfig()
    model_config.embedding = model_config.embedding_size
    train_config = train_config or default_train_config()
    model_config.check()
    train_config.check()
    corpus = prepare(data, model_config, split, encoding)
    model_config.vocab_size = len(corpus.vocab)
    torch.manual_seed(train_config.seed)
    model = LanguageModel(model_config)
    task = LMTask(model, corpus.train, corpus.valid, model_config.batch, model_config.bptt, mode,
                  train_config.seed)
    with base.claim(out, resume, force):
        if not resume:
            base.write_config(out, TASK, {
                "data": str(data), "encoding": encoding, "split": list(split), "mode": mode,
                "model": model_config.to_dict(), "train": dataclasses.asdict(train_config),
                "vocabulary": corpus.vocab.to_dict()})
        state = base.train(task, train_config, out, callback, resume)
        return summarise(out, corpus, model, state, baseline)


def summarise(
    out: Path, corpus: Corpus, model: LanguageModel, state: TrainState, baseline: bool
) -> dict:
    """Score the best weights on validation and test, beside the n-gram baseline; write
    ``metrics.json`` and ``curves.png``."""
    config = model.config
    valid = metrics_from_loss(
        stream_loss(model, corpus.valid), config.level, corpus.chars_per_token
    )
    test = None
    if corpus.test.numel() >= 4:
        test_loss = stream_loss(model, corpus.test)
        test = metrics_from_loss(test_loss, config.level, corpus.chars_per_token)
    per_epoch = LMTask(model, corpus.train, corpus.valid, config.batch, config.bptt).per_epoch
    metrics = {
        "task": TASK,
        "level": config.level,
        **base.run_summary(state, model),
        "epochs": round(state.epoch + state.batch / per_epoch, 3),
        "valid": valid,
        "test": test,
        "vocabulary": len(corpus.vocab),
    }
    if baseline:
        metrics["baseline"] = ngram_baseline(corpus, config.level)
    base.write_metrics(out, metrics)
    from rnnkit import plots  # matplotlib costs a second to import: only when plotting

    best = metrics.get("baseline", {}).get("best")
    plots.training_curves(
        state.history,
        out / "curves.png",
        f"{config.cell} {config.level}-level LM",
        "loss",
        baseline=best["loss"] if best else None,
        baseline_label=f"{best['order']}-gram Kneser-Ney" if best else "",
    )
    return metrics


def ngram_baseline(
    corpus: Corpus, level: str, orders=(1, 2, 3, 4, 5), sample_length: int = 0
) -> dict:
    """Kneser-Ney n-grams on the same split and tokens: validation loss and bpc/perplexity.

    With ``sample_length``, each order also writes greedily from the start of the validation
    text: the unigram model can only repeat its most frequent token ("the the the").
    """
    train, valid = corpus.train.numpy(), corpus.valid.numpy()
    prompt = valid[:8].tolist()
    rows = []
    for order in orders:
        started = time.perf_counter()
        model = KneserNey(order).fit(train, len(corpus.vocab))
        row = {
            "order": order,
            **metrics_from_loss(model.evaluate(valid), level, corpus.chars_per_token),
            "seconds": round(time.perf_counter() - started, 2),
        }
        if sample_length:
            row["prompt"] = corpus.vocab.decode(prompt)
            row["greedy"] = corpus.vocab.decode(prompt + model.greedy(prompt, sample_length))[
                len(row["prompt"]) :
            ]
        rows.append(row)
    return {"orders": rows, "best": min(rows, key=lambda r: r["loss"])}


def baseline(data: str, config: LMConfig | None = None, split=(0.9, 0.05, 0.05),
             encoding: str = "utf-8", sample_length: int = 60,
             out: str | Path | None = None) -> dict:
    """The n-gram baselines alone on ``data`` (tokens as ``config`` reads them); with ``out``,
    also written to ``out/metrics.json``."""
    config = config or LMConfig()
    config.check()
    corpus = prepare(data, config, split, encoding)
    result = ngram_baseline(corpus, config.level, sample_length=sample_length)
    if out is not None:
        Path(out).mkdir(parents=True, exist_ok=True)
        base.write_metrics(out, {"task": "lm-baseline", **result})
    return result


def evaluate(lm: LoadedLM, text: str) -> dict:
    """Loss in nats per token and bits per character (char) or perplexity (word) on ``text``."""
    ids = lm.vocab.encode(text)
    if ids.numel() < 4:
        raise DataError(f"the text has {ids.numel()} tokens; give at least 4 to evaluate")
    loss = stream_loss(lm.model, ids)
    return {
        **metrics_from_loss(loss, lm.config.level, len(text) / ids.numel()),
        "tokens": ids.numel(),
    }


def evaluate_data(lm: LoadedLM, data: str, encoding: str = "utf-8") -> dict:
    """:func:`evaluate` on a dataset name or text file, recorded in the model's
    ``metrics.json`` under ``evaluate``."""
    from rnnkit.data.registry import resolve_text

    result = evaluate(lm, resolve_text(data, encoding))
    base.add_evaluation(lm.directory, str(data), result)
    return result


__all__ = [
    "Corpus",
    "LMConfig",
    "LanguageModel",
    "LoadedLM",
    "baseline",
    "default_train_config",
    "evaluate",
    "evaluate_data",
    "fit",
    "generate",
    "generate_samples",
    "load",
    "ngram_baseline",
    "predict",
    "prepare",
    "save",
]
