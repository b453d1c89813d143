"""Labelled examples for classification: texts or numeric sequences, each with one class.

``read_labelled(name_or_path)`` reads

- the named dataset ``sentiment`` (see :mod:`rnnkit.data.labelled_sources`): labels from the
  sign of the mean rating (rating 0 left out and counted), or three classes with
  ``|rating| < neutral`` as neutral;
- the named series dataset ``japanese-vowels`` (12 features per step, 7-29 steps, 9 speakers),
  whose given train/test split is kept in ``LabelledSet.parts``;
- a CSV / TSV / JSONL file with a text column and a label column (names given, or guessed from
  :data:`TEXT_NAMES` / :data:`LABEL_NAMES`);
- numeric sequences for series classification: one sequence per row (a label column and value
  columns; trailing empty cells make a row shorter), or long form ``id, t, features...`` with
  the label repeated on every row of an id.

Rows that cannot be used (empty text, missing label, a gap inside a sequence) are left out and
counted in ``LabelledSet.skipped``; they are never dropped silently. ``split_indices`` cuts a
deterministic stratified train / valid / test split that keeps duplicate texts together.
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from rnnkit.data import labelled_sources
from rnnkit.data.labelled_files import (
    column,
    long_series,
    numeric,
    read_table,
    wide_series,
)
from rnnkit.data.registry import fetch, get_info, list_datasets
from rnnkit.data.streams import check_fractions
from rnnkit.errors import ConfigError, DataError

TEXT_NAMES = ("text", "sentence", "review", "content", "tweet", "document", "comment", "body")
LABEL_NAMES = ("label", "labels", "class", "category", "sentiment", "target", "polarity", "y")
ID_NAMES = ("id", "series", "sequence", "sample")
TIME_NAMES = ("t", "time", "step", "timestamp")
RATING_ZERO = "rating 0 (neither positive nor negative)"
CLASSES, NEUTRAL = 2, 0.5  # sentiment's labels: the sign of the rating, or three classes
FILE_COLUMNS = ("text_col", "label_col", "id_col", "time_col", "value_cols")


@dataclass
class LabelledSet:
    """``N`` examples: ``texts[i]`` (or ``sequences[i]``, ``(T_i, F)`` float32) has class
    ``labels[i]``, an index into ``names`` (-1 where a file for prediction has no label)."""

    names: list[str]
    labels: np.ndarray  # (N,) int64
    texts: list[str] | None = None
    sequences: list[np.ndarray] | None = None
    features: list[str] = field(default_factory=list)  # series: the value columns
    source: str = ""
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> rows left out
    groups: list[str] | None = None  # equal keys go to the same split (duplicate texts)
    origin: list[str] | None = None  # per example: the sub-corpus it came from, if known
    parts: list[str] | None = None  # per example: "train" or "test" where the data fixes it

    @property
    def kind(self) -> str:
        return "text" if self.texts is not None else "series"

    def __len__(self) -> int:
        return len(self.labels)

    def counts(self) -> dict[str, int]:
        found = Counter(self.labels.tolist())
        return {name: found.get(i, 0) for i, name in enumerate(self.names)}

    def subset(self, index) -> LabelledSet:
        index = np.asarray(index, dtype=np.int64)

        def pick(items):
            return None if items is None else [items[i] for i in index]

        return replace(self, labels=self.labels[index], texts=pick(self.texts),
                       sequences=pick(self.sequences), groups=pick(self.groups),
                       origin=pick(self.origin), parts=pick(self.parts))


def _sorted_names(labels: set[str]) -> list[str]:
    """Class names in a stable order: numerically if every label is a number."""
    try:
        return sorted(labels, key=float)
    except ValueError:
        return sorted(labels)


def _finish(labels: list[str | None], source: str, skipped: Counter, require_labels: bool,
            **items) -> LabelledSet:
    if not labels:
        reasons = ", ".join(f"{n} {why}" for why, n in skipped.items())
        raise DataError(f"every row of {source} was skipped ({reasons}); fix those rows "
                        "or choose other columns" if reasons else f"{source} has no rows")
    names = _sorted_names({label for label in labels if label is not None})
    if require_labels and len(names) < 2:
        only = f" ({names[0]!r}, {len(labels)} rows)" if names else ""
        raise DataError(f"{source} has a single class{only}; classification needs examples "
                        "of at least two classes")
    index = {name: i for i, name in enumerate(names)}
    ids = np.array([index.get(label, -1) for label in labels], dtype=np.int64)
    return LabelledSet(names, ids, source=source, skipped=dict(skipped), **items)


def normalised(text: str) -> str:
    """The duplicate key of a text: lower case, single spaces."""
    return " ".join(text.lower().split())


# ---------------------------------------------------------------- the named dataset


def read_sentiment(classes: int = CLASSES, neutral: float = NEUTRAL) -> LabelledSet:
    """The ``sentiment`` dataset with 2 (sign of the rating) or 3 classes (see module doc)."""
    if classes not in (2, 3):
        raise ConfigError.bad("classes", f"must be 2 or 3 for sentiment, got {classes}")
    if not 0 < neutral <= 4:
        raise ConfigError.bad("neutral", f"must be in (0, 4], got {neutral}")
    table = pd.read_csv(fetch("sentiment"), sep="\t", dtype=str, keep_default_na=False,
                        quoting=csv.QUOTE_NONE)
    labels, texts, origin, skipped = [], [], [], Counter()
    for source, rating, text in zip(table["source"], table["rating"], table["text"]):
        label = labelled_sources.sentiment_label(float(rating), classes, neutral)
        if label is None:
            skipped[RATING_ZERO] += 1
            continue
        labels.append(label)
        texts.append(text)
        origin.append(source)
    return _finish(labels, "sentiment", skipped, True, texts=texts, origin=origin,
                   groups=[normalised(t) for t in texts])


def read_given_split(name: str) -> LabelledSet:
    """A named series dataset in long form (``part,id,t,features...,label``), each sequence
    with its given part (``train``/``test``) in ``parts``."""
    frame = pd.read_csv(fetch(name), dtype={"part": str, "id": str, "label": str})
    features = [c for c in frame.columns if c not in ("part", "id", "t", "label")]
    values, steps = frame[features].to_numpy(np.float32), frame["t"].to_numpy()
    labels, sequences, parts = [], [], []
    for rows in frame.groupby("id", sort=False).indices.values():
        rows = rows[np.argsort(steps[rows], kind="stable")]
        labels.append(frame["label"].iat[rows[0]])
        parts.append(frame["part"].iat[rows[0]])
        sequences.append(values[rows])
    return _finish(labels, name, Counter(), True, sequences=sequences, features=features,
                   parts=parts)


GIVEN_SPLIT = ("japanese-vowels",)


def read_labelled(data: str | os.PathLike, *, text_col: str | None = None,
                  label_col: str | None = None, classes: int = 2, neutral: float = 0.5,
                  encoding: str = "utf-8", kind: str = "auto", id_col: str | None = None,
                  time_col: str | None = None, value_cols: list[str] | None = None,
                  require_labels: bool = True) -> LabelledSet:
    """Labelled examples from a dataset name or a file (see the module doc).

    ``kind`` is ``"text"``, ``"series"`` or ``"auto"`` (text if a text column is given or
    found; long-form series if an id and a time column are; else one sequence per row).
    ``require_labels=False`` reads a file to predict on: a label column is then optional.
    """
    path = Path(data).expanduser()
    if not path.exists() and str(data) in ("sentiment", *GIVEN_SPLIT):
        _no_file_columns(str(data), text_col=text_col, label_col=label_col, id_col=id_col,
                         time_col=time_col, value_cols=value_cols)
    if not path.exists() and str(data) == "sentiment":
        return read_sentiment(classes, neutral)
    if not path.exists() and str(data) in GIVEN_SPLIT:
        return read_given_split(str(data))
    if not path.exists() and os.sep not in str(data) and not path.suffix:
        get_info(str(data))  # an unknown name: the registry's error lists the known ones
        known = ", ".join(d.name for d in list_datasets("labelled"))
        raise DataError(f"dataset {str(data)!r} is not labelled data; labelled datasets: {known}")
    if kind not in ("auto", "text", "series"):
        raise ConfigError.bad("kind", f"must be auto, text or series, got {kind!r}")
    frame = read_table(path, encoding)
    if len(frame) == 0:
        raise DataError(f"{path} has a header but no rows; give a file with examples")
    frame.columns = [str(c).strip() for c in frame.columns]
    label_col = column(frame, label_col, LABEL_NAMES, "label", "label_col", path,
                        required=require_labels)
    skipped: Counter = Counter()
    if kind != "series":
        text = column(frame, text_col, TEXT_NAMES, "text", "text_col", path,
                       required=kind == "text" or text_col is not None)
        if text is not None:
            labels, texts = [], []
            given = frame[label_col].str.strip() if label_col else [""] * len(frame)
            for body, label in zip(frame[text].str.strip(), given):
                if not body:
                    skipped["empty text"] += 1
                elif label_col and not label:
                    skipped["missing label"] += 1
                else:
                    labels.append(label or None)
                    texts.append(body)
            return _finish(labels, str(path), skipped, require_labels, texts=texts,
                           groups=[normalised(t) for t in texts])
    id_col = column(frame, id_col, ID_NAMES, "id", "id_col", path, required=False)
    time_col = column(frame, time_col, TIME_NAMES, "time", "time_col", path,
                       required=id_col is not None and kind == "series")
    rest = [c for c in frame.columns if c not in (label_col, id_col, time_col)]
    if kind == "auto" and not all(numeric(frame[c]) for c in value_cols or rest):
        # neither text we can find nor numbers: say which text column is missing
        column(frame, None, TEXT_NAMES, "text", "text_col", path)
    if id_col is not None and time_col is not None:
        labels, sequences, features = long_series(frame, label_col, id_col, time_col,
                                                   value_cols, path, skipped)
    else:
        labels, sequences, features = wide_series(frame, label_col, value_cols, path, skipped)
    return _finish(labels, str(path), skipped, require_labels, sequences=sequences,
                   features=features)


def _no_file_columns(name: str, **columns) -> None:
    """A named dataset has its own columns: naming file columns for it is a mistake."""
    given = [parameter for parameter in FILE_COLUMNS if columns.get(parameter) is not None]
    if given:
        also = f" (as {' and '.join(given[1:])} {'is' if len(given) == 2 else 'are'})" \
            if len(given) > 1 else ""
        raise ConfigError.bad(given[0], f"is for a file's columns{also}; the {name} dataset "
                                        f"has its own: drop {'it' if len(given) == 1 else 'them'}"
                                        ", or give a file as data")


def split_indices(labels: np.ndarray, fractions=(0.8, 0.1, 0.1), seed: int = 0,
                  groups: list[str] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stratified ``(train, valid, test)`` row indices (each sorted), the same for the same seed.

    Rows with equal ``groups`` keys (duplicate texts) go to one split, with the class of the
    group's first row. In every class, ``round(n * fraction)`` groups go to valid and to test
    (at least one each when the class has 3 groups or more and the fraction is not 0).
    """
    fractions = check_fractions(fractions)
    labels = np.asarray(labels)
    keys = groups if groups is not None else range(len(labels))
    first: dict = {}
    members: list[list[int]] = []
    for row, key in enumerate(keys):
        if key not in first:
            first[key] = len(members)
            members.append([])
        members[first[key]].append(row)
    unit_labels = np.array([labels[m[0]] for m in members])
    rng = np.random.default_rng(seed)
    parts: list[list[int]] = [[], [], []]
    for c in np.unique(unit_labels):
        units = rng.permutation(np.flatnonzero(unit_labels == c))
        n = len(units)
        n_valid, n_test = (max(int(round(n * f)), int(n >= 3 and f > 0)) for f in fractions[1:])
        for part, chosen in zip(parts, (units[n_valid + n_test:], units[:n_valid],
                                        units[n_valid:n_valid + n_test])):
            part.extend(row for unit in chosen for row in members[unit])
    return tuple(np.array(sorted(p), dtype=np.int64) for p in parts)  # type: ignore[return-value]


def relabel(data: LabelledSet, names: list[str]) -> LabelledSet:
    """``data`` with its labels as indices into ``names`` (a model's classes); a label the model
    never saw is a DataError naming it."""
    known = {name: i for i, name in enumerate(names)}
    counts = data.counts()
    unseen = [n for n in data.names if n not in known and counts[n]]
    if unseen:
        shown = ", ".join(f"{n!r} ({counts[n]} rows)" for n in unseen[:5])
        raise DataError(f"{data.source} has labels the model never saw: {shown}; the model "
                        f"knows {', '.join(names)}")
    mapping = np.array([known.get(n, -1) for n in data.names] + [-1], dtype=np.int64)
    return replace(data, names=list(names), labels=mapping[data.labels])
