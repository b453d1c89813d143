"""Sequence classification, the Python API the ``rnnkit classify`` commands mirror.

``fit`` splits the data (stratified, seeded, duplicates together; :mod:`.data`), trains a
:class:`~rnnkit.tasks.classify.model.SequenceClassifier` into a model directory, scores it
and the bag-of-n-grams baseline (:mod:`rnnkit.baselines.bow`) on the same validation and test
rows (:mod:`.report`), and writes ``metrics.json`` (``"rnnkit"`` and ``"baseline"``: a
:func:`~rnnkit.metrics.labels.label_report` per split), ``metrics.csv`` (training history) and
``confusion.png``. ``load`` opens a directory as a :class:`LoadedClassifier`, which has
``predict`` and ``explain``; ``evaluate`` scores it on labelled data and keeps the scores in
``metrics.json["evaluate"]``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import torch

from rnnkit.data.labelled import LabelledSet, relabel
from rnnkit.errors import ConfigError
from rnnkit.tasks import base
from rnnkit.tasks.classify.data import (
    accuracy_by_origin,
    configure,
    read_settings,
    resolve,
    split_data,
)
from rnnkit.tasks.classify.encoder import InputEncoder
from rnnkit.tasks.classify.loaded import LoadedClassifier, Prediction, build, explain, predict
from rnnkit.tasks.classify.model import ClassifyConfig, SequenceClassifier, default_train_config
from rnnkit.tasks.classify.report import (
    baseline_scores,
    confusion_picture,
    evaluation_picture,
    model_scores,
    score,
)
from rnnkit.tasks.classify.task import ClassifyTask
from rnnkit.train.loop import TrainConfig

TASK = "classify"
PARTS = ("all", "train", "valid", "test")


def load(directory: str | Path) -> LoadedClassifier:
    """Open a directory written by :func:`fit`: the classifier with its best weights."""

    def rebuild(saved: dict) -> LoadedClassifier:
        config = ClassifyConfig.from_dict(saved["model"])
        encoder = InputEncoder.from_dict(config, saved["inputs"])
        return LoadedClassifier(build(config, encoder), encoder, config, Path(directory), saved)

    loaded, _ = base.load_model(directory, TASK, rebuild)
    return loaded


def fit(data: LabelledSet | str | None, out: str | Path, config: ClassifyConfig | None = None,
        train_config: TrainConfig | None = None, *, split: Sequence[float] = (0.8, 0.1, 0.1),
        split_seed: int = 0, baseline: bool = True, resume: bool = False,
        callback: base.Callback | None = None, force: bool = False, **read_options) -> dict:
    """Train into ``out`` and return the metrics written to ``out/metrics.json``.

    ``data`` is a :class:`LabelledSet`, a dataset name or a file (read with ``read_options``,
    the parameters of :func:`~rnnkit.data.labelled.read_labelled`). ``resume=True`` continues
    the run saved in ``out`` with its model, split and read options (``data`` may be None);
    ``train_config`` then only extends the budget. A directory that already holds a trained
    model is refused unless ``resume`` or ``force`` (which replaces it).
    """
    started = time.perf_counter()
    out = Path(out)
    for given_config in (config, train_config):
        if given_config is not None:
            given_config.check()  # before the data is read, and before anything is written
    read_options = {k: v for k, v in read_options.items() if v is not None}
    saved = None
    if resume:
        given = str(Path(data).expanduser()) if isinstance(data, str | os.PathLike) else data
        saved = base.resume_settings(out, TASK, given)
        data = saved["data"]["source"] if data is None else data
        read_options = {**saved.get("read", {}), **read_options}
    if data is None:
        raise ConfigError("data: give the examples, a dataset name (e.g. sentiment) or a file",
                          "data")
    data = resolve(data, **read_options)
    if saved is not None:
        config = ClassifyConfig.from_dict(saved["model"])
        split, split_seed = saved["split"]["fractions"], saved["split"]["seed"]
    train, valid, test = split_data(data, split, split_seed)
    if len(valid) == 0:
        raise ConfigError(f"split: the validation part is empty ({len(data)} examples); use "
                          "more data or a larger validation fraction", "split")
    config = configure(data, train, config)
    if saved is not None:
        train_config = base.resumed_train_config(saved, train_config)
    train_config = train_config or default_train_config()
    torch.manual_seed(train_config.seed)
    encoder = (InputEncoder.from_dict(config, saved["inputs"]) if saved is not None
               else InputEncoder.build(config, train))
    model = build(config, encoder)
    task = ClassifyTask(model, encoder, train, valid, seed=train_config.seed)
    parts = {"train": len(train), "valid": len(valid), "test": len(test)}
    summary = {"source": data.source, "kind": data.kind, "examples": len(data),
               "classes": data.counts(), "skipped": data.skipped}
    with base.claim(out, resume, force):
        saved = base.write_config(out, TASK, {  # first: a crash mid-run leaves a readable dir
            "model": config.to_dict(), "inputs": encoder.to_dict(),
            "read": read_settings(read_options),
            "split": {"fractions": list(split), "seed": split_seed, **parts},
            "data": summary, "train": asdict(train_config)})
        state = base.train(task, train_config, out, callback, resume)  # the best weights
        loaded = LoadedClassifier(model, encoder, config, out, saved)
        splits = {"valid": valid, "test": test} if len(test) else {"valid": valid}
        scored = time.perf_counter()
        rnnkit = model_scores(loaded, splits, {
            "steps": state.step, "status": state.status, "best_step": state.best_step,
            "train_seconds": round(state.elapsed, 1)})
        rnnkit["seconds"] = round(state.elapsed + time.perf_counter() - scored, 1)
        metrics = {"task": TASK, "data": summary, "split": saved["split"], "rnnkit": rnnkit}
        if baseline:
            metrics["baseline"] = baseline_scores(train, splits, config.class_weights == "balanced",
                                                  train_config.seed)
        shown = "test" if "test" in splits else "valid"
        confusion_picture(out / "confusion.png", rnnkit[shown], config.names,
                          f"rnnkit on the {shown} split ({rnnkit[shown]['count']:,} examples)")
        metrics["seconds_total"] = round(time.perf_counter() - started, 1)
        return base.write_metrics(out, metrics)


def evaluate(loaded: LoadedClassifier, data: LabelledSet | str, part: str = "all",
             **read_options) -> dict:
    """Scores on ``data`` (read with the model's saved read options unless overridden);
    ``part`` picks the train/valid/test rows of the model's own split of that data.

    The report is also kept in the model directory's ``metrics.json``, under
    ``["evaluate"]["<source>:<part>"]``, beside ``confusion-<data>-<part>.png``."""
    if part not in PARTS:
        raise ConfigError.bad("part", f"must be one of {', '.join(PARTS)}, got {part!r}")
    options = {**loaded.saved.get("read", {}),
               **{k: v for k, v in read_options.items() if v is not None}}
    data = resolve(data, **options)
    if part != "all":
        split = loaded.saved["split"]
        data = split_data(data, split["fractions"], split["seed"])[PARTS.index(part) - 1]
    data = relabel(data, loaded.config.names)
    report, predicted = score(loaded, data)
    report["skipped"] = data.skipped
    report["source"], report["part"] = data.source, part
    if data.origin is not None:
        report["by_origin"] = accuracy_by_origin(data, predicted.argmax(1))
    picture = evaluation_picture(loaded, report, str(data.source), part)
    report["confusion_png"] = str(picture)
    base.add_evaluation(loaded.directory, f"{report['source']}:{part}", report)
    return report


__all__ = [
    "PARTS", "ClassifyConfig", "LoadedClassifier", "Prediction", "SequenceClassifier",
    "accuracy_by_origin", "configure", "default_train_config", "evaluate", "explain", "fit",
    "load", "predict", "resolve", "split_data",
]
