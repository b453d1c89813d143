"""The tagger's :class:`~rnnkit.train.loop.TrainTask`: sequences encoded as id tensors,
length-bucketed batches of them, the masked cross-entropy, and batched prediction (a sequence's
tags never depend on what it is batched with)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor
from torch.nn import functional as F

from rnnkit.data.batching import bucket_batches, pad
from rnnkit.data.tagging import TagData
from rnnkit.data.vocab import Vocabulary
from rnnkit.metrics.labels import label_report
from rnnkit.tasks.tag.metrics import absent
from rnnkit.tasks.tag.model import PAD_TAG, Tagger, masked_loss

EVAL_BATCH = 256


def encode_tokens(sentences: Sequence[Sequence[str]], vocab: Vocabulary) -> list[Tensor]:
    """Token ids, one ``(T,)`` tensor per sequence; tokens the vocabulary lacks read ``<unk>``."""
    return [torch.tensor([vocab.index.get(t, vocab.unk_id) for t in tokens], dtype=torch.long)
            for tokens in sentences]


@dataclass
class Encoded:
    """Sequences as id tensors; ``tags`` is None for unlabelled input."""

    ids: list[Tensor]
    tags: list[Tensor] | None
    lengths: np.ndarray

    @classmethod
    def build(cls, data: TagData, vocab: Vocabulary, names: Sequence[str]) -> Encoded:
        index = {name: i for i, name in enumerate(names)}
        tags = [torch.tensor([index.get(t, PAD_TAG) for t in labels], dtype=torch.long)
                for labels in data.tags]
        ids = encode_tokens(data.sentences, vocab)
        return cls(ids, tags, np.array([len(s) for s in ids]))

    def batch(self, pick: np.ndarray) -> tuple[Tensor, Tensor, Tensor | None]:
        ids, lengths = pad([self.ids[i] for i in pick])
        tags = pad([self.tags[i] for i in pick], PAD_TAG)[0] if self.tags is not None else None
        return ids, lengths, tags


@torch.no_grad()
def predict_ids(model: Tagger, encoded: Encoded) -> tuple[list[np.ndarray], float]:
    """The most likely tag id at every step of every sequence (in the order given), and the
    mean cross-entropy over the labelled steps (NaN without tags). Sequences are batched by
    length; padding does not change a prediction."""
    model.eval()
    out: list[np.ndarray] = [np.zeros(0, dtype=np.int64)] * len(encoded.ids)
    total, count = 0.0, 0
    for pick in bucket_batches(encoded.lengths, EVAL_BATCH, shuffle=False):
        ids, lengths, tags = encoded.batch(pick)
        logits = model(ids, lengths)  # (B, T, C)
        if tags is not None:
            each = F.cross_entropy(logits.transpose(1, 2), tags, ignore_index=PAD_TAG,
                                   reduction="sum")
            total += each.item()
            count += int((tags != PAD_TAG).sum())
        best = logits.argmax(-1).numpy()
        for row, i in enumerate(pick):
            out[i] = best[row, : encoded.lengths[i]]
    return out, (total / count if count else float("nan"))


class TagTask:
    """The :class:`~rnnkit.train.loop.TrainTask` of tagging: length-bucketed batches of
    ``batch`` sequences, reshuffled every epoch, and the masked cross-entropy."""

    def __init__(self, model: Tagger, train: Encoded, valid: Encoded, names: Sequence[str],
                 seed: int = 0) -> None:
        self.model, self.train, self.valid, self.names, self.seed = model, train, valid, names, seed

    def batches(self, epoch: int, start: int) -> Iterator:
        order = bucket_batches(self.train.lengths, self.model.config.batch, shuffle=True,
                               seed=self.seed * 100_003 + epoch)
        for pick in order[start:]:
            yield self.train.batch(pick)

    def initial_carry(self):
        return None

    def train_loss(self, batch, carry):
        ids, lengths, tags = batch
        loss = masked_loss(self.model(ids, lengths), tags, lengths)
        return loss, None, int(lengths.sum())

    def evaluate(self) -> dict[str, float]:
        predicted, loss = predict_ids(self.model, self.valid)
        truth = np.concatenate([t.numpy() for t in self.valid.tags])
        report = label_report(truth, np.concatenate(predicted), self.names,
                              ignore=absent(truth, np.concatenate(predicted), len(self.names)))
        return {"loss": loss, "accuracy": report["accuracy"], "macro_f1": report["macro_f1"]}
