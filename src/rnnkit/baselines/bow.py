"""Bag-of-n-grams baselines for classification: TF-IDF + logistic regression (scikit-learn).

Texts: TF-IDF of word 1-2 grams and of character 2-5 grams inside word boundaries
(``char_wb``), both with sublinear term frequency, concatenated, then multinomial logistic
regression. Numeric sequences: logistic regression on per-feature summary statistics (mean,
standard deviation, min, max, first, last) and the length. The inverse regularisation ``C``
is chosen on the validation split from a small grid (by accuracy, ties to the smaller C), so
the baseline is tuned as honestly as the model beside it; the test split is only scored.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from rnnkit.data.labelled import LabelledSet
from rnnkit.metrics.labels import label_report

C_GRID = (1.0, 2.0, 4.0, 8.0, 16.0)
NAME = {"text": "tfidf-logreg", "series": "summary-logreg"}


def tfidf_features():
    """The unfitted feature map: word (1, 2)-grams beside char_wb (2, 5)-grams, TF-IDF each."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_union

    return make_union(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, lowercase=True),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2),
    )


def series_summary(sequences: Sequence[np.ndarray]) -> np.ndarray:
    """``(N, 6 F + 1)``: mean, std, min, max, first and last of each feature, and the length."""
    rows = []
    for s in sequences:
        s = np.asarray(s, dtype=np.float64).reshape(len(s), -1)
        rows.append(np.concatenate([s.mean(0), s.std(0), s.min(0), s.max(0), s[0], s[-1],
                                    [len(s)]]))
    return np.array(rows)


class _Standardise:
    """Scale columns to zero mean and unit variance with the training statistics."""

    def fit_transform(self, x: np.ndarray) -> np.ndarray:
        self.mean, self.std = x.mean(0), x.std(0) + 1e-12
        return self.transform(x)

    def transform(self, x: np.ndarray) -> np.ndarray:
        return (x - self.mean) / self.std


class BagOfNgrams:
    """The fitted baseline: ``fit(train)``, then ``predict_proba(data)`` ``(N, classes)``."""

    def __init__(self, C: float = 4.0, class_weight: str | None = None, seed: int = 0) -> None:
        self.C, self.class_weight, self.seed = C, class_weight, seed

    def featurise(self, data: LabelledSet, fit: bool = False):
        if data.kind == "text":
            texts = list(data.texts or [])
            return self.features.fit_transform(texts) if fit else self.features.transform(texts)
        summary = series_summary(data.sequences or [])
        return self.features.fit_transform(summary) if fit else self.features.transform(summary)

    def fit(self, train: LabelledSet, features=None) -> BagOfNgrams:
        from sklearn.linear_model import LogisticRegression

        if features is None:
            self.features = tfidf_features() if train.kind == "text" else _Standardise()
            features = self.featurise(train, fit=True)
        self.classes = np.unique(train.labels)
        self.num_classes = len(train.names)
        self.model = LogisticRegression(C=self.C, max_iter=3000, class_weight=self.class_weight,
                                        random_state=self.seed)
        self.model.fit(features, train.labels)
        return self

    def predict_proba(self, data: LabelledSet, features=None) -> np.ndarray:
        x = self.featurise(data) if features is None else features
        out = np.zeros((x.shape[0], self.num_classes))
        out[:, self.classes] = self.model.predict_proba(x)
        return out


def baseline_reports(train: LabelledSet, splits: dict[str, LabelledSet],
                     grid: Sequence[float] = C_GRID, class_weight: str | None = None,
                     seed: int = 0) -> dict:
    """Fit the baseline on ``train`` (C chosen on ``splits["valid"]`` when it is there) and
    score every split: ``{"name", "C", "seconds", "<split>": label_report, ...}``."""
    started = time.perf_counter()
    chooser = BagOfNgrams(grid[0], class_weight, seed)
    chooser.features = tfidf_features() if train.kind == "text" else _Standardise()
    x_train = chooser.featurise(train, fit=True)
    xs = {name: chooser.featurise(data) for name, data in splits.items()}
    best, best_accuracy = None, -1.0
    for C in grid if "valid" in splits and len(grid) > 1 else grid[:1]:
        model = BagOfNgrams(C, class_weight, seed)
        model.features = chooser.features
        model.fit(train, x_train)
        if "valid" in splits:
            predicted = model.predict_proba(splits["valid"], xs["valid"]).argmax(1)
            accuracy = float((predicted == splits["valid"].labels).mean())
        else:
            accuracy = 0.0
        if accuracy > best_accuracy:
            best, best_accuracy = model, accuracy
    assert best is not None
    result: dict = {"name": NAME[train.kind], "C": best.C}
    for name, data in splits.items():
        predicted = best.predict_proba(data, xs[name]).argmax(1)
        result[name] = label_report(data.labels, predicted, train.names)
    result["seconds"] = round(time.perf_counter() - started, 2)
    result["model"] = best
    return result
