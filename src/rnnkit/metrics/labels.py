"""Metrics of predicted labels (classification, tagging): accuracy, macro-F1, per-class
precision / recall / F1 and the confusion matrix, from scikit-learn, as plain JSON-able dicts."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def label_report(truth: Sequence[int] | np.ndarray, predicted: Sequence[int] | np.ndarray,
                 names: Sequence[str], ignore: Sequence[int] = ()) -> dict:
    """Scores of ``predicted`` against ``truth`` (class ids indexing ``names``).

    Returns ``accuracy``, ``macro_f1`` (unweighted mean over the classes of ``names`` that are
    not in ``ignore``: a class never seen nor predicted counts F1 = 0, as scikit-learn's
    ``zero_division=0``), ``per_class`` {name: precision, recall, f1, support} and
    ``confusion`` (rows = truth, columns = prediction, in the order of ``names``).
    ``ignore`` lists ids left out of macro-F1 (e.g. a tagging "O" class), not of accuracy.
    """
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    truth, predicted = np.asarray(truth), np.asarray(predicted)
    ids = list(range(len(names)))
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=ids, zero_division=0)
    kept = [i for i in ids if i not in set(ignore)]
    return {
        "accuracy": float((truth == predicted).mean()) if truth.size else float("nan"),
        "macro_f1": float(np.mean(f1[kept])) if kept else float("nan"),
        "per_class": {names[i]: {"precision": float(precision[i]), "recall": float(recall[i]),
                                 "f1": float(f1[i]), "support": int(support[i])} for i in ids},
        "confusion": confusion_matrix(truth, predicted, labels=ids).tolist(),
        "labels": list(names),
        "count": int(truth.size),
    }
