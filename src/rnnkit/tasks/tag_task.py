"""Training and scoring a tagger: encoded sequences, length-bucketed batches, the TrainTask,
batched prediction, the metrics of each task and the majority-tag baseline."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor
from torch.nn import functional as F

from rnnkit.data.batching import bucket_batches, pad
from rnnkit.data.tagging import BEGIN, TagData
from rnnkit.data.text import UNK, make_tokenizer
from rnnkit.data.vocab import Vocabulary
from rnnkit.label_metrics import label_report
from rnnkit.tasks.tag_model import PAD_TAG, Tagger, masked_loss

EVAL_BATCH = 256


def build_vocabulary(data: TagData, level: str, min_count: int = 1) -> Vocabulary:
    """``<unk>`` then the training tokens seen at least ``min_count`` times (words only; every
    character is kept), most frequent first. ``<unk>`` is always there: new tokens map to it."""
    counts = Counter(token for tokens in data.sentences for token in tokens)
    keep = 1 if level == "char" else min_count
    ranked = sorted((t for t, n in counts.items() if n >= keep and t != UNK),
                    key=lambda t: (-counts[t], t))
    return Vocabulary([UNK, *ranked], make_tokenizer(level, eos=False))


def tag_names(data: TagData) -> list[str]:
    """The tags of the training data, most frequent first (ties by name)."""
    counts = Counter(tag for labels in data.tags for tag in labels)
    return sorted(counts, key=lambda t: (-counts[t], t))


def encode_tokens(sentences: Sequence[Sequence[str]], vocab: Vocabulary) -> list[Tensor]:
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


def absent(truth: np.ndarray, predicted: np.ndarray, count: int) -> list[int]:
    """Tag ids neither in the truth nor predicted: left out of macro-F1 (their F1 is 0/0)."""
    seen = set(truth.tolist()) | set(predicted.tolist())
    return [i for i in range(count) if i not in seen]


# ------------------------------------------------------------------------------ metrics


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


class MajorityTagger:
    """The baseline: each token's most frequent training tag, else the overall most frequent
    tag (ties go to the tag listed first in ``names``, i.e. the more frequent overall)."""

    def __init__(self, table: dict[str, str], default: str) -> None:
        self.table, self.default = table, default

    @classmethod
    def fit(cls, data: TagData, names: Sequence[str]) -> MajorityTagger:
        rank = {name: i for i, name in enumerate(names)}
        counts: dict[str, Counter] = defaultdict(Counter)
        for tokens, labels in zip(data.sentences, data.tags):
            for token, tag in zip(tokens, labels):
                counts[token][tag] += 1
        table = {token: min(c, key=lambda t: (-c[t], rank[t])) for token, c in counts.items()}
        return cls(table, names[0])

    def predict(self, sentences: Sequence[Sequence[str]]) -> list[list[str]]:
        return [[self.table.get(t, self.default) for t in tokens] for tokens in sentences]

    def to_dict(self) -> dict:
        return {"default": self.default, "table": self.table}

    @classmethod
    def from_dict(cls, saved: dict) -> MajorityTagger:
        return cls(dict(saved["table"]), saved["default"])
