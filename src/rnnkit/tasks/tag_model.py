"""The tagger: embedding -> any rnnkit stack (bidirectional by default) -> a linear layer per step.

``logits[b, t] = W · dropout(h[b, t]) + b`` where ``h (B, T, D)`` is the stack's output
(``D = 2H`` bidirectional, ``H`` forwards only). The stack masks padding with ``lengths``, the
embedding and the output layer act step by step, so the logits of a sequence do not depend on
what it is batched with. The loss is the cross-entropy averaged over the real steps only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnkit.cells import CELL_KINDS
from rnnkit.data.tagging import TASKS
from rnnkit.errors import ConfigError
from rnnkit.layers import build_stack, lengths_to_mask
from rnnkit.train.loop import TrainConfig

PAD_TAG = -100  # the tag id of padded steps: F.cross_entropy's ignore_index


@dataclass
class TagConfig:
    """Everything needed to rebuild a tagger (saved in ``config.json``)."""

    task: str = ""  # punct, segment or conll; "" = chosen from the data by fit
    cell: str = "lstm"
    layers: int = 1
    hidden: int = 128
    embedding: int = 64
    dropout: float = 0.2  # on embeddings, between layers and before the output layer
    bidirectional: bool = True
    batch: int = 32  # sequences per step
    min_count: int = 2  # word tasks: tokens seen fewer times in training become <unk>
    max_length: int = 0  # built tasks: words (punct) / characters (segment) per piece; 0 = 64/200
    vocab_size: int = 0  # filled in from the data
    num_tags: int = 0

    @property
    def level(self) -> str:
        return "char" if self.task == "segment" else "word"

    def check(self) -> None:
        if self.task not in TASKS:
            raise ConfigError(f"--task must be one of {', '.join(TASKS)}, got {self.task!r}")
        if self.cell not in CELL_KINDS:
            raise ConfigError(f"--cell must be one of {', '.join(CELL_KINDS)}, got {self.cell!r}")
        for name in ("layers", "hidden", "embedding", "batch", "min_count"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"--{name.replace('_', '-')} must be positive, "
                                  f"got {getattr(self, name)}")
        if self.max_length < 0:
            raise ConfigError(f"--max-length must be >= 0, got {self.max_length}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"--dropout must be in [0, 1), got {self.dropout}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> TagConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def default_train_config(**overrides) -> TrainConfig:
    """Tagging defaults: AdamW 1e-2 with cosine decay, validation every 100 steps, 2 minutes
    (on alice, 1e-2 beat 3e-3 on both tasks, forwards and bidirectional, at 600 steps)."""
    options = {"time": 120.0, "lr": 1e-2, "eval_every": 100, "warmup": 20, **overrides}
    return TrainConfig(**options)


class Tagger(nn.Module):
    """``ids (B, T), lengths (B,) -> logits (B, T, num_tags)``."""

    def __init__(self, config: TagConfig) -> None:
        super().__init__()
        config.check()
        if config.vocab_size <= 0 or config.num_tags < 2:
            raise ConfigError("a tagger needs a vocabulary and at least two tags")
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.embedding)
        self.rnn = build_stack(config.cell, config.embedding, config.hidden, config.layers,
                               bidirectional=config.bidirectional, dropout=config.dropout)
        self.drop = nn.Dropout(config.dropout)
        self.output = nn.Linear(self.rnn.output_size, config.num_tags)

    def forward(self, ids: Tensor, lengths: Tensor) -> Tensor:
        x = self.drop(self.embedding(ids))  # (B, T, E)
        h, _ = self.rnn(x, lengths=lengths)  # (B, T, D), zeros at padded steps
        return self.output(self.drop(h))  # (B, T, C)


def masked_loss(logits: Tensor, tags: Tensor, lengths: Tensor) -> Tensor:
    """Mean cross-entropy over the real steps: ``sum_{b, t < len_b} CE(logits[b,t], tags[b,t])
    / sum_b len_b``; whatever the padded steps hold (logits or tags) does not count."""
    mask = lengths_to_mask(lengths, tags.size(1))  # (B, T)
    safe = tags.masked_fill(~mask, 0)
    each = F.cross_entropy(logits.transpose(1, 2), safe, reduction="none")  # (B, T)
    return (each * mask).sum() / mask.sum().clamp_min(1)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@torch.no_grad()
def tag_probabilities(model: Tagger, ids: Tensor, lengths: Tensor) -> Tensor:
    """Softmax probabilities ``(B, T, C)`` in evaluation mode."""
    model.eval()
    return model(ids, lengths).softmax(-1)
