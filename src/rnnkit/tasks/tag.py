"""Tagging (a tag per token), the Python API the ``rnnkit tag`` commands mirror.

``fit`` trains a tagger on a tagged file (CoNLL or JSONL) or on a task built from text
(``punct``: punctuation and capitalisation restoration; ``segment``: word segmentation) into a
model directory, and scores it beside the majority-tag baseline on the validation and test
parts; ``load`` opens a directory; ``evaluate`` scores a model on other data; ``predict`` tags
token sequences and ``predict_text`` tags raw text and, for the built tasks, restores it.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from rnnkit import plots
from rnnkit.data.registry import resolve_text
from rnnkit.data.tagging import (
    TagData,
    build_task,
    check_trainable,
    is_tagged_file,
    punct_words,
    read_tagged,
    restore_punct,
    restore_segment,
    segment_chars,
    split_data,
    text_units,
)
from rnnkit.data.vocab import Vocabulary
from rnnkit.errors import ConfigError, DataError
from rnnkit.tasks.tag_model import TagConfig, Tagger, count_parameters, default_train_config
from rnnkit.tasks.tag_task import (
    Encoded,
    MajorityTagger,
    TagTask,
    build_vocabulary,
    encode_tokens,
    predict_ids,
    tag_metrics,
    tag_names,
)
from rnnkit.train import checkpoint as ckpt
from rnnkit.train.logs import write_csv
from rnnkit.train.loop import TrainConfig, Trainer

Callback = Callable[[str, dict], "bool | None"]
BASELINE = "baseline.json"
Source = TagData | str | os.PathLike


@dataclass
class LoadedTagger:
    model: Tagger
    config: TagConfig
    vocab: Vocabulary
    names: list[str]
    baseline: MajorityTagger
    directory: Path


def choose_task(data: Source, task: str | None) -> str:
    """``task`` if given, else ``conll`` for tagged data (TagData, or a file by its suffix),
    else ``punct``. TagData may hold any task's tags (``build_punct``'s, say)."""
    if task is None:
        return "conll" if isinstance(data, TagData) or is_tagged_file(data) else "punct"
    if task in ("punct", "segment") and not isinstance(data, TagData) and is_tagged_file(data):
        raise ConfigError(f"--task {task} builds its tags from plain text, but {data} is "
                          "already tagged; use --task conll (or give a text file)")
    return task


def read_data(data: Source, task: str, max_length: int = 0, token_col: int = 0,
              tag_col: int = -1, encoding: str = "utf-8") -> TagData:
    """Tagged data: ``data`` itself, a tagged file (``conll``), or the task built from a text
    file or corpus name (``punct``, ``segment``)."""
    if isinstance(data, TagData):
        return data
    if task == "conll":
        return read_tagged(data, token_col, tag_col, encoding)
    return build_task(resolve_text(data, encoding), task, max_length, source=str(data))


def save_config(out: Path, config: TagConfig, vocab: Vocabulary, names: list[str],
                extra: dict) -> None:
    ckpt.write_json(out / ckpt.CONFIG, {"task": "tag", "model": config.to_dict(),
                                        "vocabulary": vocab.to_dict(), "tags": names, **extra})


def load(directory: str | Path) -> LoadedTagger:
    directory = Path(directory)
    if not directory.is_dir():
        raise ckpt.CheckpointError(f"no model directory at {directory}; train one with "
                                   "rnnkit tag train")
    saved = ckpt.read_json(directory / ckpt.CONFIG)
    task = saved.get("task") if isinstance(saved, dict) else None
    if task != "tag":
        raise ckpt.CheckpointError(f"{directory}/config.json describes a {task!r} model, not a "
                                   "tagger; give a directory written by rnnkit tag train")
    try:
        config = TagConfig.from_dict(saved["model"])
        vocab = Vocabulary.from_dict(saved["vocabulary"])
        names = [str(n) for n in saved["tags"]]
        model = Tagger(config)
        baseline = MajorityTagger.from_dict(ckpt.read_json(directory / BASELINE))
    except (KeyError, TypeError, AttributeError, ConfigError) as bad:
        raise ckpt.CheckpointError(f"{directory} is damaged ({type(bad).__name__}: {bad}); "
                                   "retrain or restore it") from None
    ckpt.load_weights(model, directory / ckpt.WEIGHTS)
    model.eval()
    return LoadedTagger(model, config, vocab, names, baseline, directory)


def fit(data: Source, out: str | Path, config: TagConfig | None = None,
        train_config: TrainConfig | None = None, *, task: str | None = None,
        split: Sequence[float] = (0.8, 0.1, 0.1), max_sentences: int | None = None,
        valid: Source | None = None, test: Source | None = None, token_col: int = 0,
        tag_col: int = -1, encoding: str = "utf-8", callback: Callback | None = None,
        resume: bool = False) -> dict:
    """Train a tagger on ``data`` into the directory ``out``; return the metrics also written
    to ``out/metrics.json``: ``rnnkit`` and ``baseline`` (majority tag per token), each with
    ``valid`` and ``test`` scores (see :func:`~rnnkit.tasks.tag_task.tag_metrics`).

    Without ``valid``, the first ``max_sentences`` sequences are cut into contiguous
    ``split`` fractions; with it, ``data`` (cut to ``max_sentences``) is all training and
    ``test`` (optional) is scored at the end. The weights kept are those of the best
    validation loss. ``resume=True`` continues the run saved in ``out`` with its own data,
    split, model and vocabulary (``data`` may be None; ``train_config`` may extend the budget).
    """
    out = Path(out)
    saved = None
    if resume:
        saved = ckpt.read_json(out / ckpt.CONFIG)
        if not isinstance(saved, dict) or saved.get("task") != "tag" or "read" not in saved:
            raise ConfigError(f"{out} holds no tagger run that can be resumed; train afresh "
                              "without --resume")
        if data is not None and str(data) != saved["data"]:
            raise ConfigError(f"{out} was trained on {saved['data']!r}, not {str(data)!r}: "
                              "--resume continues with the saved data and model (drop --data, "
                              "or use a new --out)")
        read = saved["read"]
        data, valid, test = saved["data"], read["valid"], read["test"]
        split, max_sentences = read["split"], read["max_sentences"]
        token_col, tag_col, encoding = read["token_col"], read["tag_col"], read["encoding"]
        config, task = TagConfig.from_dict(saved["model"]), None
        stored = TrainConfig(**saved["train"])
        if train_config is not None:
            stored.steps, stored.time = train_config.steps, train_config.time
        train_config = stored
    elif data is None:
        raise ConfigError("give the data to tag: --data NAME|FILE (or --resume a run in --out)")
    config = dataclasses.replace(config) if config is not None else TagConfig()
    config.task = choose_task(data, task or config.task or None)
    config.check()
    train_config = train_config or default_train_config()
    train_config.check()
    options = {"max_length": config.max_length, "token_col": token_col, "tag_col": tag_col,
               "encoding": encoding}
    full = read_data(data, config.task, **options)
    if valid is not None:
        train = full.subset(0, max_sentences or len(full))
        held = read_data(valid, config.task, **options)
        tested = read_data(test, config.task, **options) if test is not None else None
    else:
        train, held, tested = split_data(full, split, max_sentences)
        tested = tested if len(tested) else None
    check_trainable(train)
    if saved is not None:  # the run's own vocabulary and tags, whatever the data says now
        vocab, names = Vocabulary.from_dict(saved["vocabulary"]), list(saved["tags"])
    else:
        vocab = build_vocabulary(train, config.level, config.min_count)
        names = tag_names(train)
    config.vocab_size, config.num_tags = len(vocab), len(names)
    torch.manual_seed(train_config.seed)
    model = Tagger(config)
    baseline = MajorityTagger.fit(train, names)
    out.mkdir(parents=True, exist_ok=True)
    sizes = {name: {"sequences": len(part), "tokens": part.num_tokens}
             for name, part in (("train", train), ("valid", held), ("test", tested)) if part}
    extra = {"data": str(full.source or data), "train": asdict(train_config), "sizes": sizes,
             "read": {"valid": None if valid is None else str(valid),
                      "test": None if test is None else str(test), "split": list(split),
                      "max_sentences": max_sentences, "token_col": token_col,
                      "tag_col": tag_col, "encoding": encoding}}
    if saved is None:
        save_config(out, config, vocab, names, extra)  # first: a crash leaves a readable dir
        ckpt.write_json(out / BASELINE, baseline.to_dict())
    task = TagTask(model, Encoded.build(train, vocab, names), Encoded.build(held, vocab, names),
                   names, train_config.seed)
    state = Trainer(task, train_config, out, callback).run(resume=resume)
    ckpt.load_weights(model, out / ckpt.WEIGHTS)  # the best validation weights
    model.eval()
    write_csv(state.history, out / "metrics.csv")
    loaded = LoadedTagger(model, config, vocab, names, baseline, out)
    parts = {"valid": held, "test": tested}
    scores = {name: score(loaded, part) for name, part in parts.items() if part is not None}
    metrics = {
        "task": "tag", "tagging": config.task, "data": extra["data"], "status": state.status,
        "steps": state.step, "epochs": state.epoch, "train_seconds": round(state.elapsed, 2),
        "tokens_per_second": round(state.tokens / max(state.step_seconds, 1e-9)),
        "parameters": count_parameters(model), "cell": config.cell, "layers": config.layers,
        "hidden": config.hidden, "bidirectional": config.bidirectional, "sizes": sizes,
        "notes": full.notes, "vocabulary": len(vocab), "tags": names,
        "unknown_rate": {name: unknown_rate(part, vocab) for name, part in parts.items()
                         if part is not None},
        "rnnkit": {name: s["rnnkit"] for name, s in scores.items()},
        "baseline": {name: s["baseline"] for name, s in scores.items()},
    }
    ckpt.write_json(out / "metrics.json", metrics)
    last = "test" if "test" in scores else "valid"
    direction = "bidirectional" if config.bidirectional else "forward-only"
    plots.tag_scores(out / "tags.png", scores[last]["rnnkit"]["per_class"],
                     scores[last]["baseline"]["per_class"],
                     f"{config.task} on {Path(extra['data']).name}, {last} part: {direction} "
                     f"{config.cell} against the majority tag")
    return metrics


def unknown_rate(data: TagData, vocab: Vocabulary) -> float:
    """The share of tokens the vocabulary lacks (read as ``<unk>``)."""
    unknown = sum(t not in vocab.index for tokens in data.sentences for t in tokens)
    return unknown / max(data.num_tokens, 1)


def score(loaded: LoadedTagger, data: TagData) -> dict:
    """``{"rnnkit": metrics, "baseline": metrics}`` of the model and the majority baseline."""
    predicted = predict(loaded, data.sentences)
    task = loaded.config.task
    return {"rnnkit": tag_metrics(task, data.tags, predicted, loaded.names),
            "baseline": tag_metrics(task, data.tags, loaded.baseline.predict(data.sentences),
                                    loaded.names)}


PARTS = ("all", "train", "valid", "test")


def evaluate(loaded: LoadedTagger, data: Source, token_col: int = 0, tag_col: int = -1,
             encoding: str = "utf-8", part: str = "all") -> dict:
    """Scores on ``data`` (a tagged file for ``conll`` models, any text or corpus name for the
    built tasks, or TagData), beside the baseline; also written to ``DIR/evaluation.json``.
    ``part`` (train, valid or test) scores only that block of the model's own split of
    ``data``, cut as training cut it."""
    if part not in PARTS:
        raise ConfigError(f"--part must be one of {', '.join(PARTS)}, got {part!r}")
    task = loaded.config.task
    if task != "conll" and not isinstance(data, TagData) and is_tagged_file(data):
        task = "conll"  # a built task's tags, saved as a tagged file
    tagged = read_data(data, task, loaded.config.max_length, token_col, tag_col, encoding)
    if part != "all":
        read = ckpt.read_json(loaded.directory / ckpt.CONFIG).get("read")
        if read is None or read["valid"] is not None:
            raise ConfigError(f"--part {part} needs a model whose parts were cut from its "
                              "--data; this one was given other files: evaluate on them instead")
        tagged = split_data(tagged, read["split"], read["max_sentences"])[PARTS.index(part) - 1]
    result = {"data": str(tagged.source or data), "part": part, "sequences": len(tagged),
              "tokens": tagged.num_tokens, "unknown_rate": unknown_rate(tagged, loaded.vocab),
              **score(loaded, tagged)}
    ckpt.write_json(loaded.directory / "evaluation.json", result)
    return result


def predict(loaded: LoadedTagger, sentences: Sequence[Sequence[str]]) -> list[list[str]]:
    """The tags of every token of every sequence (tokens as the task reads them: lower-case
    unpunctuated words for ``punct``, single characters for ``segment``)."""
    if not sentences:
        return []
    if isinstance(sentences[0], str):
        raise ConfigError("predict takes a list of token lists; for raw text use predict_text")
    ids = encode_tokens(sentences, loaded.vocab)
    if any(len(s) == 0 for s in ids):
        raise DataError("a sequence to tag is empty; give at least one token per sequence")
    best, _ = predict_ids(loaded.model, Encoded(ids, None, np.array([len(s) for s in ids])))
    return [[loaded.names[i] for i in row] for row in best]


@dataclass
class TextPrediction:
    """Tagged pieces of raw text; ``text`` is the restored text of the built tasks (None for
    ``conll`` models)."""

    sequences: list[dict]  # {"tokens": [...], "tags": [...]}
    text: str | None


def predict_text(loaded: LoadedTagger, text: str) -> TextPrediction:
    """Tag raw text as the task reads it: ``punct`` lower-cases it and drops its punctuation,
    ``segment`` drops its whitespace, ``conll`` tags each line's whitespace-separated tokens.
    The built tasks also return the text restored from the tags."""
    task, length = loaded.config.task, loaded.config.max_length
    if task == "punct":
        units = [punct_words(unit, length or 64) for unit in text_units(text)]
    elif task == "segment":
        units = [segment_chars(line, length or 200) for line in text.split("\n")]
    else:
        units = [[line.split()] for line in text.split("\n")]
    units = [pieces for pieces in units if pieces and pieces[0]]
    if not units:
        raise DataError("the text to tag has no tokens; give some words")
    flat = [piece for pieces in units for piece in pieces]
    tags = iter(predict(loaded, flat))
    sequences, lines = [], []
    for pieces in units:
        restored = []
        for piece in pieces:
            labels = next(tags)
            sequences.append({"tokens": list(piece), "tags": labels})
            if task == "punct":
                restored.append(restore_punct(piece, labels))
            elif task == "segment":
                restored.append(restore_segment(piece, labels))
        lines.append(" ".join(restored))
    return TextPrediction(sequences, "\n".join(lines) if task != "conll" else None)
