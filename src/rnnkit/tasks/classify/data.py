"""The data side of classification: reading, the split, what the config learns from the data.

:func:`resolve` reads a dataset name or a file (:func:`~rnnkit.data.labelled.read_labelled`);
:func:`read_settings` are the read options a model records, so that ``evaluate`` reads the same
classes again. :func:`split_data` cuts train / valid / test (stratified, seeded, duplicate
texts together, or the data's own split); :func:`configure` fills in the classes, their
weights and the series statistics from the training split.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import numpy as np

from rnnkit.data.labelled import CLASSES, NEUTRAL, LabelledSet, read_labelled, split_indices
from rnnkit.data.streams import check_fractions
from rnnkit.tasks.classify.model import ClassifyConfig


def read_settings(read_options: dict) -> dict:
    """The options given (None: not given), with sentiment's label settings always recorded:
    a model keeps the classes it was trained on even if the defaults change."""
    given = {k: v for k, v in read_options.items() if v is not None}
    return {"classes": CLASSES, "neutral": NEUTRAL, **given}


def resolve(data: LabelledSet | str, **read_options) -> LabelledSet:
    """``data`` itself, or the examples read from a dataset name or a file (options that are
    None are left to :func:`~rnnkit.data.labelled.read_labelled`'s defaults)."""
    options = {k: v for k, v in read_options.items() if v is not None}
    return data if isinstance(data, LabelledSet) else read_labelled(data, **options)


def split_data(data: LabelledSet, fractions=(0.8, 0.1, 0.1), seed: int = 0
               ) -> tuple[LabelledSet, LabelledSet, LabelledSet]:
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
    train, valid, test = split_indices(data.labels, fractions, seed, data.groups)
    return data.subset(train), data.subset(valid), data.subset(test)


def class_weights(labels: np.ndarray, classes: int) -> list[float]:
    """``n / (classes * n_c)`` per class (scikit-learn's "balanced"); 0 for an absent class."""
    counts = np.bincount(labels, minlength=classes).astype(float)
    return [len(labels) / (classes * n) if n else 0.0 for n in counts]


def configure(data: LabelledSet, train: LabelledSet, config: ClassifyConfig | None
              ) -> ClassifyConfig:
    """Fill in what comes from the data: classes, kind, class weights, and for series the
    per-feature mean and standard deviation (+1e-8) of the training split."""
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


def accuracy_by_origin(data: LabelledSet, predicted: np.ndarray) -> dict[str, float]:
    """Accuracy of ``predicted`` class ids within each sub-corpus of ``data`` (if known)."""
    if data.origin is None:
        return {}
    right = Counter(o for o, ok in zip(data.origin, predicted == data.labels) if ok)
    total = Counter(data.origin)
    return {o: right[o] / total[o] for o in sorted(total)}
