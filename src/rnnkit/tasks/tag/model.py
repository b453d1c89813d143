"""The tagger: embedding -> any rnnkit stack (bidirectional by default) -> a linear layer per step.

``logits[b, t] = W · dropout(h[b, t]) + b`` where ``h (B, T, D)`` is the stack's output
(``D = 2H`` bidirectional, ``H`` forwards only). The stack masks padding with ``lengths``, the
embedding and the output layer act step by step, so the logits of a sequence do not depend on
what it is batched with. The loss is the cross-entropy averaged over the real steps only.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnkit.cells import cell_names
from rnnkit.config import Config, param
from rnnkit.data.tagging import TASKS
from rnnkit.errors import ConfigError
from rnnkit.layers import build_stack, lengths_to_mask
from rnnkit.train.loop import TrainConfig

PAD_TAG = -100  # the tag id of padded steps: F.cross_entropy's ignore_index


@dataclass
class TagConfig(Config):
    """Everything needed to rebuild a tagger (saved in ``config.json``)."""

    task: str = param("", "punct (restore punctuation and capitals), segment (restore spaces) "
                          "or conll (the file's own tags; default for .conll/.jsonl)",
                      choices=TASKS)  # "" until fit chooses it from the data
    cell: str = param("lstm", "the recurrent cell", choices=cell_names)
    layers: int = param(1, "stacked recurrent layers")
    hidden: int = param(128, "hidden size of every layer (per direction)")
    embedding: int = param(64, "embedding size")
    dropout: float = param(0.2, "dropout on embeddings, between layers and before the output")
    bidirectional: bool = param(True, "read backwards too (off: forwards only, for comparison)")
    batch: int = param(32, "sequences per step")
    min_count: int = param(2, "word tasks: rarer training words become <unk>")
    max_length: int = param(0, "punct/segment: words/characters per sequence (0 = 64/200)")
    vocab_size: int = param(0, "filled in from the data", cli=False)
    num_tags: int = param(0, "filled in from the data", cli=False)

    @property
    def level(self) -> str:
        return "char" if self.task == "segment" else "word"

    def check(self) -> None:
        super().check()  # task, cell
        self.require_positive("layers", "hidden", "embedding", "batch", "min_count")
        self.require_at_least("max_length", 0)
        self.require_fraction("dropout")


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


@torch.no_grad()
def tag_probabilities(model: Tagger, ids: Tensor, lengths: Tensor) -> Tensor:
    """Softmax probabilities ``(B, T, C)`` in evaluation mode."""
    model.eval()
    return model(ids, lengths).softmax(-1)
