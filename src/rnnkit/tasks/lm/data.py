"""A corpus for language modelling: the vocabulary, then the token stream cut into contiguous
train/validation/test parts.

The vocabulary is built from the whole text (as nanoGPT and char-rnn do; at word level
``max_vocab`` caps it and the rest become ``<unk>``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from rnnkit.data.registry import resolve_text
from rnnkit.data.streams import split_stream
from rnnkit.data.vocab import Vocabulary
from rnnkit.tasks.lm.model import LMConfig


@dataclass
class Corpus:
    """A corpus as token ids, split, with the vocabulary that encodes it."""

    vocab: Vocabulary
    train: torch.Tensor
    valid: torch.Tensor
    test: torch.Tensor
    chars_per_token: float


def prepare(
    data: str, config: LMConfig, split=(0.9, 0.05, 0.05), encoding: str = "utf-8"
) -> Corpus:
    """Read ``data`` (a dataset name or a text file), build the vocabulary, encode and split."""
    text = resolve_text(data, encoding)
    vocab = Vocabulary.build(
        text, level=config.level, lower=config.lower, max_size=config.max_vocab or None
    )
    ids = vocab.encode(text)
    train, valid, test = split_stream(ids, split)
    return Corpus(vocab, train, valid, test, len(text) / max(1, ids.numel()))
