"""A trained classifier, opened from its directory: it predicts and explains.

``LoadedClassifier.predict(inputs)`` gives, for texts (or numeric sequences ``(T_i, F)``), the
most likely class and the class probabilities ``softmax(logits)``, ``(N, classes)``;
``explain(text)`` gives each token with its attention weight ``a_t`` (they sum to 1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnkit.data.labelled import LabelledSet
from rnnkit.errors import ConfigError
from rnnkit.tasks.classify.encoder import InputEncoder
from rnnkit.tasks.classify.model import ClassifyConfig, SequenceClassifier
from rnnkit.tasks.classify.task import predict_proba

Inputs = Sequence[str] | Sequence[np.ndarray] | LabelledSet


@dataclass
class Prediction:
    labels: list[str]
    probabilities: np.ndarray  # (N, classes), columns in the order of names
    names: list[str]


def build(config: ClassifyConfig, encoder: InputEncoder) -> SequenceClassifier:
    """The (untrained) classifier of ``config``, its embeddings sized by ``encoder``."""
    return SequenceClassifier(config, len(encoder.words or ()), encoder.speller_size)


@dataclass
class LoadedClassifier:
    model: SequenceClassifier
    encoder: InputEncoder
    config: ClassifyConfig
    directory: Path
    saved: dict  # the whole config.json: read options, split, data summary

    def predict(self, inputs: Inputs) -> Prediction:
        """The most likely class and the class probabilities of every text (or sequence)."""
        if not isinstance(inputs, LabelledSet):
            inputs = list(inputs)
            kind = "text" if all(isinstance(x, str) for x in inputs) else "series"
            empty = np.zeros(len(inputs), dtype=np.int64)
            inputs = (LabelledSet([], empty, texts=inputs) if kind == "text"
                      else LabelledSet([], empty, sequences=inputs))
        probabilities = predict_proba(self.model, self.encoder, self.encoder.encode(inputs))
        names = self.config.names
        return Prediction([names[i] for i in probabilities.argmax(1)], probabilities, names)

    def explain(self, text: str) -> list[tuple[str, float]]:
        """Each token of ``text`` with the attention weight the model gave it (they sum to 1)."""
        if self.config.pooling != "attention":
            raise ConfigError(f"pooling attention is needed to explain a model; this one pools "
                              f"with {self.config.pooling!r}", "pooling")
        if self.config.kind != "text":
            raise ConfigError("explain shows the words of a text; this model classifies series")
        example = self.encoder.encode_text(text)
        _, weights = predict_proba(self.model, self.encoder, [example], attention=True)
        return list(zip(self.encoder.tokens(text), weights[0].tolist()))


def predict(loaded: LoadedClassifier, inputs: Inputs) -> Prediction:
    """``loaded.predict(inputs)``: the most likely class and the class probabilities."""
    return loaded.predict(inputs)


def explain(loaded: LoadedClassifier, text: str) -> list[tuple[str, float]]:
    """``loaded.explain(text)``: each token with its attention weight."""
    return loaded.explain(text)
