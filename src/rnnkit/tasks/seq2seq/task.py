"""Pairs as ids, the training task (bucketed batches, scheduled sampling, the smoothed loss) and
teacher-forced scoring (loss, perplexity, token accuracy)."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor
from torch.nn import functional as F

from rnnkit.data.batching import bucket_batches, pad
from rnnkit.tasks.seq2seq.model import Seq2Seq, Seq2SeqConfig
from rnnkit.tasks.seq2seq.sampling import sequence_loss, teacher_ratio
from rnnkit.tasks.seq2seq.tokens import Tokeniser, Vocab

EVAL_BATCH = 128


@dataclass
class Encoded:
    """Sources and targets as id tensors (targets end with ``</s>``), and what encoding met:
    ``unknown`` tokens read as ``<unk>``, and sides ``cut`` to the length limit."""

    src: list[Tensor]
    tgt: list[Tensor]
    unknown: int = 0
    cut: int = 0

    @classmethod
    def build(cls, pairs: Sequence[tuple[str, str]], tokeniser: Tokeniser, src_vocab: Vocab,
              tgt_vocab: Vocab, max_length: int) -> Encoded:
        src, tgt, unknown, cut = [], [], 0, 0
        for source, target in pairs:
            a, u = src_vocab.encode(tokeniser.split(source))
            b, v = tgt_vocab.encode(tokeniser.split(target))
            unknown += u + v
            cut += (len(a) > max_length) + (len(b) > max_length - 1)
            src.append(torch.tensor(a[:max_length] or [tgt_vocab.unk], dtype=torch.long))
            tgt.append(torch.tensor(b[:max_length - 1] + [tgt_vocab.eos], dtype=torch.long))
        return cls(src, tgt, unknown, cut)

    def __len__(self) -> int:
        return len(self.src)

    @property
    def lengths(self) -> np.ndarray:
        return np.array([len(s) for s in self.src])

    @property
    def tokens(self) -> int:
        return sum(len(t) for t in self.tgt)

    def batch(self, pick, bos: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """``(src (B, S), lengths (B,), tgt_in (B, T), tgt_out (B, T))``, padded with 0."""
        src, lengths = pad([self.src[i] for i in pick])
        out, _ = pad([self.tgt[i] for i in pick])
        tgt_in = torch.cat([torch.full((len(pick), 1), bos, dtype=torch.long), out[:, :-1]], 1)
        tgt_in = tgt_in.masked_fill(out == 0, 0)  # no BOS/EOS feed beyond a row's end
        return src, lengths, tgt_in, out


@torch.no_grad()
def teacher_forced(model: Seq2Seq, data: Encoded, bos: int, batch: int = EVAL_BATCH
                   ) -> dict[str, float]:
    """Cross-entropy per target token (and its perplexity) and the share of target tokens
    predicted right when every previous token is the true one."""
    model.eval()
    total, correct, count = 0.0, 0, 0
    for pick in bucket_batches(data.lengths, batch, shuffle=False):
        src, lengths, tgt_in, tgt_out = data.batch(pick, bos)
        logits = model(src, lengths, tgt_in)
        valid = tgt_out != 0
        total += F.cross_entropy(logits.flatten(0, 1), tgt_out.flatten(), ignore_index=0,
                                 reduction="sum").item()
        correct += int(((logits.argmax(-1) == tgt_out) & valid).sum())
        count += int(valid.sum())
    loss = total / max(1, count)
    return {"loss": loss, "perplexity": math.exp(min(loss, 50.0)),
            "token_accuracy": correct / max(1, count)}


class Seq2SeqTask:
    """The :class:`~rnnkit.train.loop.TrainTask` of seq2seq: batches of ``config.batch`` pairs
    bucketed by source length, reshuffled every epoch; scheduled sampling at the ratio the
    schedule gives at the trainer's progress (``progress`` is set by the trainer); the loss
    with label smoothing. Validation: teacher-forced loss (which picks the best weights),
    token accuracy, and the exact match of ``eval_pairs`` pairs decoded greedily."""

    def __init__(self, model: Seq2Seq, train: Encoded, valid: Encoded, src_vocab: Vocab,
                 tgt_vocab: Vocab, seed: int = 0) -> None:
        self.model, self.train, self.valid, self.seed = model, train, valid, seed
        self.src_vocab, self.tgt_vocab = src_vocab, tgt_vocab
        self.config: Seq2SeqConfig = model.config
        self.progress = lambda: 0.0
        self._lengths = train.lengths

    def ratio(self) -> float:
        c = self.config
        if c.teacher_schedule == "constant":
            return c.teacher
        return teacher_ratio(c.teacher_schedule, self.progress(), floor=c.teacher)

    def batches(self, epoch: int, start: int) -> Iterator:
        order = bucket_batches(self._lengths, self.config.batch, shuffle=True,
                               seed=self.seed * 100_003 + epoch)
        for pick in order[start:]:
            yield self.train.batch(pick, self.tgt_vocab.bos)

    def initial_carry(self):
        return None

    def train_loss(self, batch, carry):
        src, lengths, tgt_in, tgt_out = batch
        logits = self.model(src, lengths, tgt_in, teacher=self.ratio())
        loss = sequence_loss(logits, tgt_out, 0, self.config.label_smoothing)
        return loss, None, int((tgt_out != 0).sum())

    def log_fields(self) -> dict[str, float]:
        """Logged with every training record: the teacher ratio now."""
        return {"teacher": round(self.ratio(), 4)}

    def evaluate(self) -> dict[str, float]:
        metrics = teacher_forced(self.model, self.valid, self.tgt_vocab.bos)
        n = min(self.config.eval_pairs, len(self.valid))
        if n:
            from rnnkit.tasks.seq2seq.decoding import decode_ids

            subset = Encoded(self.valid.src[:n], self.valid.tgt[:n])
            outputs = decode_ids(self.model, subset.src, self.tgt_vocab, self.config)
            truth = [t[:-1].tolist() for t in subset.tgt]
            metrics["exact"] = sum(o == t for o, t in zip(outputs, truth)) / n
        return metrics
