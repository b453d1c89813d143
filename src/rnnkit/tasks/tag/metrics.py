"""The scores of a tagging: token accuracy, macro-F1 and per-tag precision/recall/F1 for every
task, plus what each built task is for: ``punctuation`` and ``capitalisation`` F1 (``punct``)
and word-level F1 (``segment``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rnnkit.data.tagging import BEGIN
from rnnkit.metrics.labels import label_report


def absent(truth: np.ndarray, predicted: np.ndarray, count: int) -> list[int]:
    """Tag ids neither in the truth nor predicted: left out of macro-F1 (their F1 is 0/0)."""
    seen = set(truth.tolist()) | set(predicted.tolist())
    return [i for i in range(count) if i not in seen]


def binary_scores(truth: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """Precision, recall and F1 of the positive class of two boolean arrays."""
    hits = int((truth & predicted).sum())
    precision = hits / max(int(predicted.sum()), 1)
    recall = hits / max(int(truth.sum()), 1)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "support": int(truth.sum())}


def word_spans(tags: Sequence[str]) -> set[tuple[int, int]]:
    """``(start, end)`` of the words a B/I sequence marks; the first step always starts one."""
    starts = [k for k, tag in enumerate(tags) if tag == BEGIN or k == 0]
    return set(zip(starts, [*starts[1:], len(tags)]))


def word_scores(truth: list[list[str]], predicted: list[list[str]]) -> dict[str, float]:
    """Word-level precision, recall and F1 of segmentation: a predicted word counts when both
    its boundaries are right (the standard measure of the SIGHAN bakeoffs)."""
    hits = gold = made = 0
    for t, p in zip(truth, predicted, strict=True):
        gold_spans, pred_spans = word_spans(t), word_spans(p)
        hits += len(gold_spans & pred_spans)
        gold += len(gold_spans)
        made += len(pred_spans)
    precision, recall = hits / max(made, 1), hits / max(gold, 1)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "words": gold}


def tag_metrics(task: str, truth: list[list[str]], predicted: list[list[str]],
                names: Sequence[str]) -> dict:
    """Token accuracy, macro-F1 and per-tag precision/recall/F1 (``label_report``), plus
    ``punctuation`` and ``capitalisation`` (binary: a mark follows / the word is not all
    lower-case) for ``punct`` and word-level ``words`` scores for ``segment``. Tags of the
    truth the model never saw are added to the names (their recall is 0)."""
    names = list(names)
    unseen = sorted({t for tags in truth for t in tags} - set(names))
    names += unseen
    index = {name: i for i, name in enumerate(names)}
    flat_truth = np.array([index[t] for tags in truth for t in tags], dtype=np.int64)
    flat_pred = np.array([index[t] for tags in predicted for t in tags], dtype=np.int64)
    report = label_report(flat_truth, flat_pred, names,
                          ignore=absent(flat_truth, flat_pred, len(names)))
    report["unseen_tags"] = unseen
    if task == "punct":
        gold = [t for tags in truth for t in tags]
        made = [t for tags in predicted for t in tags]

        def marked(tags):
            return np.array(["|" in t for t in tags], dtype=bool)

        def capital(tags):
            return np.array([not t.startswith("low") for t in tags], dtype=bool)

        report["punctuation"] = binary_scores(marked(gold), marked(made))
        report["capitalisation"] = binary_scores(capital(gold), capital(made))
    elif task == "segment":
        report["words"] = word_scores(truth, predicted)
    return report


def headline(task: str, metrics: dict) -> dict[str, float]:
    """The few numbers a summary prints for a task."""
    row = {"accuracy": metrics["accuracy"], "macro_f1": metrics["macro_f1"]}
    if task == "punct":
        row["punct_f1"] = metrics["punctuation"]["f1"]
        row["case_f1"] = metrics["capitalisation"]["f1"]
    elif task == "segment":
        row["word_f1"] = metrics["words"]["f1"]
    return row
