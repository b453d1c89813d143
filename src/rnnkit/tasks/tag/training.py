"""Training a tagger into a model directory, then scoring it beside the majority tag."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import torch

from rnnkit.data.tagging import check_trainable
from rnnkit.data.vocab import Vocabulary
from rnnkit.errors import ConfigError
from rnnkit.tasks import base
from rnnkit.tasks.tag.baseline import MajorityTagger
from rnnkit.tasks.tag.data import (
    Parts,
    ReadOptions,
    Source,
    build_vocabulary,
    choose_task,
    read_parts,
    tag_names,
    unknown_rate,
)
from rnnkit.tasks.tag.evaluation import score
from rnnkit.tasks.tag.loaded import BASELINE, TASK, LoadedTagger
from rnnkit.tasks.tag.model import TagConfig, Tagger, default_train_config
from rnnkit.tasks.tag.task import Encoded, TagTask
from rnnkit.train import checkpoint as ckpt
from rnnkit.train.loop import TrainConfig, TrainState


def fit(data: Source | None, out: str | Path, config: TagConfig | None = None,
        train_config: TrainConfig | None = None, *, task: str | None = None,
        split: Sequence[float] = (0.8, 0.1, 0.1), max_sentences: int | None = None,
        valid: Source | None = None, test: Source | None = None, token_col: int = 0,
        tag_col: int = -1, encoding: str = "utf-8", callback: base.Callback | None = None,
        resume: bool = False, force: bool = False) -> dict:
    """Train a tagger on ``data`` into the directory ``out``; return the metrics also written
    to ``out/metrics.json``: ``rnnkit`` and ``baseline`` (majority tag per token), each with
    ``valid`` and ``test`` scores (see :func:`~rnnkit.tasks.tag.metrics.tag_metrics`).

    ``task`` (else ``config.task``, else chosen from the data: ``conll`` for tagged files,
    ``punct`` for text) says what to tag. Without ``valid``, the first ``max_sentences``
    sequences are cut into contiguous ``split`` fractions; with it, ``data`` (cut to
    ``max_sentences``) is all training and ``test`` (optional) is scored at the end. The
    weights kept are those of the best validation loss. ``resume=True`` continues the run
    saved in ``out`` with its own data, split, model and vocabulary (``data`` may be None;
    ``train_config`` may extend the budget). A directory that already holds a trained model
    is refused unless ``resume`` or ``force`` (which replaces it).
    """
    out = Path(out)
    saved = None
    if resume:
        saved = base.resume_settings(out, TASK, data)
        read = saved["read"]
        data, valid, test = saved["data"], read["valid"], read["test"]
        split, max_sentences = read["split"], read["max_sentences"]
        token_col, tag_col, encoding = read["token_col"], read["tag_col"], read["encoding"]
        config, task = TagConfig.from_dict(saved["model"]), None
        train_config = base.resumed_train_config(saved, train_config)
    elif data is None:
        raise ConfigError("data is missing: give a tagged file, or a text file or corpus name "
                          "to build a task from (or resume the run saved in out)", "data")
    if test is not None and valid is None:
        raise ConfigError("test needs valid (without them both parts are cut from the data)",
                          "test")
    config = dataclasses.replace(config) if config is not None else TagConfig()
    config.task = choose_task(data, task or config.task or None)
    config.check()
    train_config = train_config or default_train_config()
    train_config.check()
    options = ReadOptions(config.max_length, token_col, tag_col, encoding)
    parts = read_parts(data, config.task, options, split=split, max_sentences=max_sentences,
                       valid=valid, test=test)
    check_trainable(parts.train)
    if saved is not None:  # the run's own vocabulary and tags, whatever the data says now
        vocab, names = Vocabulary.from_dict(saved["vocabulary"]), list(saved["tags"])
    else:
        vocab = build_vocabulary(parts.train, config.level, config.min_count)
        names = tag_names(parts.train)
    config.vocab_size, config.num_tags = len(vocab), len(names)
    torch.manual_seed(train_config.seed)
    model = Tagger(config)
    baseline = MajorityTagger.fit(parts.train, names)
    with base.claim(out, resume, force):
        sizes = {name: {"sequences": len(part), "tokens": part.num_tokens}
                 for name, part in parts.named().items()}
        source = str(parts.full.source or data)
        if saved is None:  # first: a crash leaves a readable directory
            base.write_config(out, TASK, {
                "model": config.to_dict(), "vocabulary": vocab.to_dict(), "tags": names,
                "data": source, "train": dataclasses.asdict(train_config), "sizes": sizes,
                "read": {"valid": None if valid is None else str(valid),
                         "test": None if test is None else str(test), "split": list(split),
                         "max_sentences": max_sentences, "token_col": token_col,
                         "tag_col": tag_col, "encoding": encoding}})
            ckpt.write_json(out / BASELINE, baseline.to_dict())
        trained = TagTask(model, Encoded.build(parts.train, vocab, names),
                          Encoded.build(parts.valid, vocab, names), names, train_config.seed)
        state = base.train(trained, train_config, out, callback, resume)
        loaded = LoadedTagger(model, config, vocab, names, baseline, out)
        return summarise(loaded, parts, state, source, sizes)


def summarise(loaded: LoadedTagger, parts: Parts, state: TrainState, source: str,
              sizes: dict) -> dict:
    """Score the best weights and the baseline on the validation and test parts; write
    ``metrics.json`` and ``tags.png`` (F1 per tag, the last part)."""
    config, out = loaded.config, loaded.directory
    held = {name: part for name, part in parts.named().items() if name != "train"}
    scores = {name: score(loaded, part) for name, part in held.items()}
    metrics = {
        "task": TASK, "tagging": config.task, "data": source,
        **base.run_summary(state, loaded.model),
        "epochs": state.epoch, "cell": config.cell, "layers": config.layers,
        "hidden": config.hidden, "bidirectional": config.bidirectional, "sizes": sizes,
        "notes": parts.full.notes, "vocabulary": len(loaded.vocab), "tags": loaded.names,
        "unknown_rate": {name: unknown_rate(part, loaded.vocab) for name, part in held.items()},
        "rnnkit": {name: s["rnnkit"] for name, s in scores.items()},
        "baseline": {name: s["baseline"] for name, s in scores.items()},
    }
    base.write_metrics(out, metrics)
    from rnnkit import plots  # matplotlib costs a second to import: only when plotting

    last = "test" if "test" in scores else "valid"
    direction = "bidirectional" if config.bidirectional else "forward-only"
    plots.tag_scores(out / "tags.png", scores[last]["rnnkit"]["per_class"],
                     scores[last]["baseline"]["per_class"],
                     f"{config.task} on {Path(source).name}, {last} part: {direction} "
                     f"{config.cell} against the majority tag")
    return metrics
