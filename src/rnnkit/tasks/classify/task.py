"""Classification as a training task: length-bucketed batches, the loss, validation scores.

:class:`ClassifyTask` is the :class:`~rnnkit.train.loop.TrainTask` the trainer runs: batches of
similar lengths (:func:`~rnnkit.data.batching.bucket_batches`), cross-entropy with optional
class weights, validation loss / accuracy / macro-F1. :func:`predict_proba` scores encoded
examples in batches.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch.nn import functional as F

from rnnkit.data.batching import bucket_batches
from rnnkit.data.labelled import LabelledSet
from rnnkit.metrics.labels import label_report
from rnnkit.tasks.classify.encoder import Example, InputEncoder
from rnnkit.tasks.classify.model import Batch, SequenceClassifier


@torch.no_grad()
def predict_proba(model: SequenceClassifier, encoder: InputEncoder, examples: list[Example],
                  batch: int = 256, attention: bool = False):
    """Class probabilities ``(N, classes)`` in the order of ``examples`` (batches of similar
    lengths); with ``attention``, also each example's attention weights ``(T_i,)``."""
    model.eval()
    out = np.zeros((len(examples), len(model.config.names)), dtype=np.float64)
    weights: list[np.ndarray | None] = [None] * len(examples)
    for index in bucket_batches([len(e) for e in examples], batch, shuffle=False):
        logits, attended = model(encoder.collate([examples[i] for i in index]))
        out[index] = torch.softmax(logits.double(), dim=1).numpy()
        if attention and attended is not None:
            for row, i in enumerate(index):
                weights[i] = attended[row, : len(examples[i])].numpy()
    return (out, weights) if attention else out


class ClassifyTask:
    """The :class:`~rnnkit.train.loop.TrainTask` of classification."""

    def __init__(self, model: SequenceClassifier, encoder: InputEncoder, train: LabelledSet,
                 valid: LabelledSet, seed: int = 0) -> None:
        self.model, self.encoder, self.seed = model, encoder, seed
        self.train_examples = encoder.encode(train)
        self.train_labels = torch.from_numpy(train.labels)
        self.valid, self.valid_examples = valid, encoder.encode(valid)
        weights = model.config.weights
        self.weight = torch.tensor(weights, dtype=torch.float32) if weights else None
        self.lengths = np.array([len(e) for e in self.train_examples])

    def batches(self, epoch: int, start: int) -> Iterator[Batch]:
        order = bucket_batches(self.lengths, self.model.config.batch, shuffle=True,
                               seed=self.seed * 1_000_003 + epoch)
        for index in order[start:]:
            yield self.encoder.collate([self.train_examples[i] for i in index],
                                       self.train_labels[index])

    def initial_carry(self):
        return None

    def train_loss(self, batch: Batch, carry):
        c = self.model.config
        if c.word_dropout and c.kind == "text" and c.level != "char":
            # rare words are learnt as <unk> too, and "both" learns to lean on the spelling
            dropped = torch.rand(batch.inputs.shape) < c.word_dropout
            batch.inputs = batch.inputs.masked_fill(dropped, self.encoder.words.unk_id)
        logits, _ = self.model(batch)
        loss = F.cross_entropy(logits, batch.target, weight=self.weight)
        return loss, None, int(batch.lengths.sum())

    def evaluate(self) -> dict[str, float]:
        """Validation cross-entropy (class-weighted as in training), accuracy and macro-F1.

        ``"loss"``, which decides the weights kept, is the error rate ``1 - accuracy`` (the
        zero-one loss) when the config selects by accuracy, else the cross-entropy: a model's
        cross-entropy rises with over-confidence long before its accuracy stops improving.
        Ties in accuracy go to the lower cross-entropy: the error rate gets a tie-break term
        below half of one example's worth (a small validation set is often at the same
        accuracy for many evaluations, and the first of them is the least trained)."""
        probabilities = predict_proba(self.model, self.encoder, self.valid_examples)
        truth = torch.from_numpy(self.valid.labels)
        loss = F.nll_loss(torch.from_numpy(np.log(probabilities + 1e-12)), truth,
                          weight=None if self.weight is None else self.weight.double())
        report = label_report(self.valid.labels, probabilities.argmax(1), self.model.config.names)
        error = 1.0 - report["accuracy"]
        tie_break = min(float(loss), 10.0) / 10.0 * 0.5 / max(len(truth), 1)
        return {"loss": error + tie_break if self.model.config.select == "accuracy"
                else float(loss),
                "cross_entropy": float(loss), "accuracy": report["accuracy"],
                "macro_f1": report["macro_f1"]}
