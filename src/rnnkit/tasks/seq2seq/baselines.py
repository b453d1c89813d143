"""Baselines beside every seq2seq result, on the same split: copy the source, and nearest
neighbour retrieval (the target of the most similar training source by TF-IDF cosine over
character n-grams within word boundaries and words)."""

from __future__ import annotations

from collections.abc import Sequence


def copy_source(sources: Sequence[str]) -> list[str]:
    """Each output is its source (strong where outputs resemble inputs)."""
    return list(sources)


class NearestNeighbour:
    """``fit(train pairs)``, then ``predict(sources)``: the target of the closest training
    source (ties: the first)."""

    def __init__(self) -> None:
        self.vectorizer = None
        self.targets: list[str] = []

    def fit(self, pairs: Sequence[tuple[str, str]]) -> NearestNeighbour:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), lowercase=True,
                                          sublinear_tf=True)
        self.matrix = self.vectorizer.fit_transform([source for source, _ in pairs])
        self.targets = [target for _, target in pairs]
        return self

    def predict(self, sources: Sequence[str], chunk: int = 1024) -> list[str]:
        if self.vectorizer is None:
            raise ValueError("fit the baseline on training pairs first")
        found = []
        for start in range(0, len(sources), chunk):
            queries = self.vectorizer.transform(list(sources[start:start + chunk]))
            similarity = queries @ self.matrix.T  # rows are L2-normalised: cosine
            found += [self.targets[int(row.argmax())] if row.nnz else self.targets[0]
                      for row in similarity.tocsr()]
        return found


def exact_match(outputs: Sequence[str], targets: Sequence[str]) -> float:
    return sum(o == t for o, t in zip(outputs, targets)) / max(1, len(targets))
