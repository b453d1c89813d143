"""Scores of a trained classifier beside the bag-of-n-grams baseline, on the same rows.

Every split gets a :func:`~rnnkit.metrics.labels.label_report` (accuracy, macro-F1, per-class
precision / recall / F1, the confusion matrix) and, where the data knows each example's
sub-corpus, the accuracy within each (``<split>_by_origin``).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from rnnkit.data.labelled import LabelledSet
from rnnkit.metrics.labels import label_report
from rnnkit.tasks.classify.data import accuracy_by_origin
from rnnkit.tasks.classify.loaded import LoadedClassifier
from rnnkit.tasks.classify.task import predict_proba


def score(loaded: LoadedClassifier, data: LabelledSet) -> tuple[dict, np.ndarray]:
    """``(label report, probabilities (N, classes))`` of the model on ``data``."""
    predicted = predict_proba(loaded.model, loaded.encoder, loaded.encoder.encode(data))
    return label_report(data.labels, predicted.argmax(1), loaded.config.names), predicted


def model_scores(loaded: LoadedClassifier, splits: dict[str, LabelledSet], into: dict) -> dict:
    """Add the model's report of every split (and its accuracy by origin) to ``into``."""
    for name, part in splits.items():
        into[name], predicted = score(loaded, part)
        if part.origin is not None:
            into[f"{name}_by_origin"] = accuracy_by_origin(part, predicted.argmax(1))
    return into


def baseline_scores(train: LabelledSet, splits: dict[str, LabelledSet], balanced: bool,
                    seed: int) -> dict:
    """The TF-IDF (or summary-statistics) logistic regression fitted on ``train``, its C
    chosen on valid, scored on every split (:mod:`rnnkit.baselines.bow`)."""
    from rnnkit.baselines.bow import baseline_reports

    report = baseline_reports(train, splits, class_weight="balanced" if balanced else None,
                              seed=seed)
    fitted = report.pop("model")
    for name, part in splits.items():
        if part.origin is not None:
            predicted = fitted.predict_proba(part).argmax(1)
            report[f"{name}_by_origin"] = accuracy_by_origin(part, predicted)
    return report


def confusion_picture(path: Path, report: dict, names: list[str], title: str) -> Path:
    from rnnkit import plots  # matplotlib costs a second to import: only when plotting

    plots.confusion_matrix(path, report["confusion"], names, title)
    return path


def evaluation_picture(loaded: LoadedClassifier, report: dict, source: str, part: str) -> Path:
    """``confusion-<data>-<part>.png`` in the model directory."""
    name = re.sub(r"[^\w.-]+", "_", Path(source).stem or "data")
    return confusion_picture(loaded.directory / f"confusion-{name}-{part}.png", report,
                             loaded.config.names, f"rnnkit on {Path(source).name} ({part}, "
                                                  f"{report['count']:,} examples)")
