"""Sequence classification, the Python API the ``rnnkit classify`` commands mirror.

``fit`` splits the data (stratified, seeded, duplicates together), trains a
:class:`~rnnkit.tasks.classify_model.SequenceClassifier` into a model directory, scores it
and the bag-of-n-grams baseline (:mod:`rnnkit.baselines.bow`) on the same validation and test
rows, and writes ``metrics.json`` (``"rnnkit"`` and ``"baseline"``: a
:func:`~rnnkit.label_metrics.label_report` per split), ``metrics.csv`` (training history) and
``confusion.png``. ``load`` opens a directory; ``evaluate``, ``predict`` and ``explain`` use it.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch

from rnnkit.data.labelled import LabelledSet, read_labelled, relabel, split_indices
from rnnkit.data.streams import check_fractions
from rnnkit.errors import ConfigError
from rnnkit.label_metrics import label_report
from rnnkit.tasks.classify_model import (  # noqa: F401 (default_train_config: part of the API)
    ClassifyConfig,
    SequenceClassifier,
    default_train_config,
)
from rnnkit.tasks.classify_task import ClassifyTask, InputEncoder, class_weights, predict_proba
from rnnkit.train import checkpoint as ckpt
from rnnkit.train.logs import write_csv
from rnnkit.train.loop import TrainConfig, Trainer

Callback = Callable[[str, dict], "bool | None"]
PARTS = ("all", "train", "valid", "test")


@dataclass
class LoadedClassifier:
    model: SequenceClassifier
    encoder: InputEncoder
    config: ClassifyConfig
    directory: Path
    saved: dict  # the whole config.json: read options, split, data summary


@dataclass
class Prediction:
    labels: list[str]
    probabilities: np.ndarray  # (N, classes), columns in the order of names
    names: list[str]


def resolve(data: LabelledSet | str, **read_options) -> LabelledSet:
    options = {k: v for k, v in read_options.items() if v is not None}
    return data if isinstance(data, LabelledSet) else read_labelled(data, **options)


def split_data(data: LabelledSet, fractions=(0.8, 0.1, 0.1), seed: int = 0):
    """``(train, valid, test)`` subsets: stratified, seeded, duplicate texts in one split.

    Data with a given split (``data.parts``) keeps it: its test rows are the test split, and
    valid is cut from its training rows, stratified, in the ratio of the valid and train
    fractions."""
    if data.parts is not None:
        given = np.array(data.parts)
        pool, test = np.flatnonzero(given == "train"), np.flatnonzero(given == "test")
        train_share, valid_share, _ = check_fractions(fractions)
        share = valid_share / (train_share + valid_share)
        train, valid, _ = split_indices(data.labels[pool], (1 - share, share, 0.0), seed)
        return data.subset(pool[train]), data.subset(pool[valid]), data.subset(test)
    return tuple(data.subset(i) for i in split_indices(data.labels, fractions, seed, data.groups))


def configure(data: LabelledSet, train: LabelledSet, config: ClassifyConfig | None
              ) -> ClassifyConfig:
    """Fill in what comes from the data: classes, kind, class weights, series statistics."""
    c = replace(config) if config is not None else ClassifyConfig()
    c.kind, c.names = data.kind, list(data.names)
    c.weights = (class_weights(train.labels, len(c.names)) if c.class_weights == "balanced"
                 else [])
    if data.kind == "series":
        values = np.concatenate(train.sequences or [])
        c.features = values.shape[1]
        c.feature_mean = values.mean(0).tolist()
        c.feature_std = (values.std(0) + 1e-8).tolist()
    c.check()
    return c


def _build(config: ClassifyConfig, encoder: InputEncoder) -> SequenceClassifier:
    return SequenceClassifier(config, len(encoder.words or ()), encoder.speller_size)


def load(directory: str | Path) -> LoadedClassifier:
    directory = Path(directory)
    if not directory.is_dir():
        raise ckpt.CheckpointError(
            f"no model directory at {directory}; train one with rnnkit classify train")
    saved = ckpt.read_json(directory / ckpt.CONFIG)
    task = saved.get("task") if isinstance(saved, dict) else None
    if task != "classify":
        raise ckpt.CheckpointError(f"{directory}/config.json describes a {task!r} model, not a "
                                   "classifier; give a directory written by rnnkit classify train")
    try:
        config = ClassifyConfig.from_dict(saved["model"])
        encoder = InputEncoder.from_dict(config, saved["inputs"])
        model = _build(config, encoder)
    except (KeyError, TypeError, AttributeError, ConfigError) as bad:
        raise ckpt.CheckpointError(
            f"{directory}/config.json is damaged ({type(bad).__name__}: {bad}); retrain or "
            "restore it") from None
    ckpt.load_weights(model, directory / ckpt.WEIGHTS)
    model.eval()
    return LoadedClassifier(model, encoder, config, directory, saved)


def _scores(loaded: LoadedClassifier, data: LabelledSet) -> tuple[dict, np.ndarray]:
    predicted = predict_proba(loaded.model, loaded.encoder, loaded.encoder.encode(data))
    return label_report(data.labels, predicted.argmax(1), loaded.config.names), predicted


def accuracy_by_origin(data: LabelledSet, predicted: np.ndarray) -> dict[str, float]:
    """Accuracy of ``predicted`` class ids within each sub-corpus of ``data`` (if known)."""
    if data.origin is None:
        return {}
    right = Counter(o for o, ok in zip(data.origin, predicted == data.labels) if ok)
    total = Counter(data.origin)
    return {o: right[o] / total[o] for o in sorted(total)}


def fit(data: LabelledSet | str, out: str | Path, config: ClassifyConfig | None = None,
        train_config: TrainConfig | None = None, *, split: Sequence[float] = (0.8, 0.1, 0.1),
        split_seed: int = 0, baseline: bool = True, resume: bool = False,
        callback: Callback | None = None, **read_options) -> dict:
    """Train into ``out`` and return the metrics written to ``out/metrics.json``."""
    started = time.perf_counter()
    out = Path(out)
    data = resolve(data, **read_options)
    if resume:
        saved = ckpt.read_json(out / ckpt.CONFIG)
        config = ClassifyConfig.from_dict(saved["model"])
        split, split_seed = saved["split"]["fractions"], saved["split"]["seed"]
    train, valid, test = split_data(data, split, split_seed)
    if len(valid) == 0:
        raise ConfigError(f"the validation split is empty ({len(data)} examples); use more "
                          "data or a larger validation fraction (--split)")
    config = configure(data, train, config)
    train_config = train_config or default_train_config()
    torch.manual_seed(train_config.seed)
    encoder = (InputEncoder.from_dict(config, saved["inputs"]) if resume
               else InputEncoder.build(config, train))
    model = _build(config, encoder)
    task = ClassifyTask(model, encoder, train, valid, seed=train_config.seed)
    parts = {"train": len(train), "valid": len(valid), "test": len(test)}
    summary = {"source": data.source, "kind": data.kind, "examples": len(data),
               "classes": data.counts(), "skipped": data.skipped}
    saved = {"task": "classify", "model": config.to_dict(), "inputs": encoder.to_dict(),
             "read": {k: v for k, v in read_options.items() if v is not None},
             "split": {"fractions": list(split), "seed": split_seed, **parts},
             "data": summary, "train": asdict(train_config)}
    out.mkdir(parents=True, exist_ok=True)
    ckpt.write_json(out / ckpt.CONFIG, saved)  # first: a crash mid-run leaves a readable dir
    state = Trainer(task, train_config, out, callback).run(resume=resume)
    ckpt.load_weights(model, out / ckpt.WEIGHTS)  # the best validation weights
    model.eval()
    write_csv(state.history, out / "metrics.csv")
    loaded = LoadedClassifier(model, encoder, config, out, saved)
    splits = {"valid": valid, "test": test} if len(test) else {"valid": valid}
    scored = time.perf_counter()
    rnnkit: dict = {"steps": state.step, "status": state.status, "best_step": state.best_step,
                    "train_seconds": round(state.elapsed, 1)}
    for name, part in splits.items():
        rnnkit[name], predicted = _scores(loaded, part)
        if part.origin is not None:
            rnnkit[f"{name}_by_origin"] = accuracy_by_origin(part, predicted.argmax(1))
    rnnkit["seconds"] = round(state.elapsed + time.perf_counter() - scored, 1)
    metrics = {"task": "classify", "data": summary, "split": saved["split"], "rnnkit": rnnkit}
    if baseline:
        from rnnkit.baselines.bow import baseline_reports

        weight = "balanced" if config.class_weights == "balanced" else None
        report = baseline_reports(train, splits, class_weight=weight, seed=train_config.seed)
        fitted = report.pop("model")
        for name, part in splits.items():
            if part.origin is not None:
                predicted = fitted.predict_proba(part).argmax(1)
                report[f"{name}_by_origin"] = accuracy_by_origin(part, predicted)
        metrics["baseline"] = report
    shown = "test" if "test" in splits else "valid"
    from rnnkit import plots

    plots.confusion_matrix(out / "confusion.png", rnnkit[shown]["confusion"], config.names,
                           f"rnnkit on the {shown} split ({rnnkit[shown]['count']:,} examples)")
    metrics["seconds_total"] = round(time.perf_counter() - started, 1)
    ckpt.write_json(out / "metrics.json", metrics)
    return metrics


def evaluate(loaded: LoadedClassifier, data: LabelledSet | str, part: str = "all",
             **read_options) -> dict:
    """Scores on ``data`` (read with the model's saved read options unless overridden);
    ``part`` picks the train/valid/test rows of the model's own split of that data."""
    if part not in PARTS:
        raise ConfigError(f"--part must be one of {', '.join(PARTS)}, got {part!r}")
    options = {**loaded.saved.get("read", {}),
               **{k: v for k, v in read_options.items() if v is not None}}
    data = resolve(data, **options)
    if part != "all":
        split = loaded.saved["split"]
        data = split_data(data, split["fractions"], split["seed"])[PARTS.index(part) - 1]
    data = relabel(data, loaded.config.names)
    report, predicted = _scores(loaded, data)
    report["skipped"] = data.skipped
    report["source"], report["part"] = data.source, part
    if data.origin is not None:
        report["by_origin"] = accuracy_by_origin(data, predicted.argmax(1))
    from rnnkit import plots

    name = re.sub(r"[^\w.-]+", "_", Path(str(data.source)).stem or "data")
    picture = loaded.directory / f"confusion-{name}-{part}.png"
    plots.confusion_matrix(picture, report["confusion"], loaded.config.names,
                           f"rnnkit on {Path(str(data.source)).name} ({part}, "
                           f"{report['count']:,} examples)")
    report["confusion_png"] = str(picture)
    return report


def predict(loaded: LoadedClassifier, inputs: Sequence[str] | Sequence[np.ndarray] | LabelledSet
            ) -> Prediction:
    """The most likely class and the class probabilities of every text (or sequence)."""
    if not isinstance(inputs, LabelledSet):
        inputs = list(inputs)
        kind = "text" if all(isinstance(x, str) for x in inputs) else "series"
        empty = np.zeros(len(inputs), dtype=np.int64)
        inputs = (LabelledSet([], empty, texts=inputs) if kind == "text"
                  else LabelledSet([], empty, sequences=inputs))
    probabilities = predict_proba(loaded.model, loaded.encoder, loaded.encoder.encode(inputs))
    names = loaded.config.names
    return Prediction([names[i] for i in probabilities.argmax(1)], probabilities, names)


def explain(loaded: LoadedClassifier, text: str) -> list[tuple[str, float]]:
    """Each token of ``text`` with the attention weight the model gave it (they sum to 1)."""
    if loaded.config.pooling != "attention":
        raise ConfigError(f"explain needs a model trained with --pooling attention; this one "
                          f"pools with {loaded.config.pooling!r}")
    if loaded.config.kind != "text":
        raise ConfigError("explain shows the words of a text; this model classifies series")
    example = loaded.encoder.encode_text(text)
    _, weights = predict_proba(loaded.model, loaded.encoder, [example], attention=True)
    return list(zip(loaded.encoder.tokens(text), weights[0].tolist()))
