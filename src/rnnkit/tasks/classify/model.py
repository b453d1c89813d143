"""Sequence classifier: embedding -> recurrent encoder -> pooling over valid steps -> classes.

::

    text  --tokens--> ids (B, T) --embedding--> (B, T, E) [+ spelling (B, T, 2 Hc)]
    series ---------> values (B, T, F)
        --> encoder: rnnkit stack, any cell, bidirectional by default      (B, T, D)
        --> pooling over the valid steps t < length                          (B, D)
        --> dropout --> linear                                               (B, classes)

``level="both"`` adds to each word's embedding a spelling vector: a small bidirectional
encoder reads the word's characters (its first ``max_word_chars``) and its two final states
are concatenated (``speller="rnn"``), or the mean embedding of the word's character 2- to
5-grams, ``<`` and ``>`` marking its ends (``speller="ngrams"``, fastText's subwords). Only the
distinct words of a batch are spelled, once each.

Poolings, with ``m_t = 1[t < length]``:

- ``last``: ``h_{length-1}``; bidirectional: forward half at ``length - 1`` beside the
  backward half at step 0 (the backward direction's last step);
- ``mean``: ``sum_t m_t h_t / length``;   ``max``: ``max_{t: m_t} h_t`` per feature;
- ``attention``: ``a = softmax_t(v^T tanh(W h_t + b))`` with padded steps at ``-inf``,
  pooled ``sum_t a_t h_t``; ``a`` is what ``explain`` shows.

No padded step reaches the output: the encoder masks them exactly, and every pooling reads
only ``m_t = 1`` steps, so a sentence alone or inside any padded batch gets the same logits.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnkit.cells import cell_names
from rnnkit.config import Config, param
from rnnkit.layers import build_stack, lengths_to_mask
from rnnkit.train.loop import TrainConfig

POOLINGS = ("last", "mean", "max", "attention")
LEVELS = ("word", "char", "both")
CLASS_WEIGHTS = ("none", "balanced")
SPELLERS = ("rnn", "ngrams")


@dataclass
class ClassifyConfig(Config):
    """What builds a classifier (saved in config.json as ``"model"``)."""

    kind: str = param("text", "text or series (numeric sequences)", choices=("text", "series"),
                      cli=False)
    level: str = param("both", "tokens: words, characters, or words with their spelling",
                       choices=LEVELS)
    lower: bool = param(True, "lower-case words for the word vocabulary (spellings keep case)")
    cell: str = param("lstm", "the recurrent cell", choices=cell_names)
    layers: int = param(1, "stacked recurrent layers")
    hidden: int = param(128, "hidden units per direction")
    embedding: int = param(128, "word (or character) embedding size")
    char_embedding: int = param(24, "level both, speller rnn: the character embedding size")
    char_hidden: int = param(64, "level both: half the size of a spelling vector")
    max_word_chars: int = param(20, "level both, speller rnn: characters of a word read")
    speller: str = param("ngrams", "level both: ngrams (mean of char 2-5-gram embeddings) or "
                                   "rnn (over the characters)", choices=SPELLERS)
    max_ngrams: int = param(100_000, "speller ngrams: the most frequent training n-grams kept")
    bidirectional: bool = param(True, "read both directions")
    pooling: str = param("attention", "how the steps' outputs become one vector",
                         choices=POOLINGS)
    pool_inputs: bool = param(False, "also pool the encoder's inputs (a bag of embeddings)")
    dropout: float = param(0.5, "dropout on embeddings, between layers and before the output")
    word_dropout: float = param(0.2, "training: a word id becomes <unk> with this probability")
    select: str = param("accuracy", "keep the weights of the best validation accuracy or loss",
                        choices=("accuracy", "loss"))
    class_weights: str = param("none", "weigh the loss per class: none or balanced",
                               choices=CLASS_WEIGHTS)
    batch: int = param(64, "examples per batch")
    min_count: int = param(2, "words seen fewer times in training are <unk>")
    max_vocab: int = param(30_000, "the most frequent training words kept")
    names: list[str] = param(default_factory=list, help="classes, in id order", cli=False)
    weights: list[float] = param(default_factory=list, help="per class, from class_weights",
                                 cli=False)
    features: int = param(0, "series: values per step", cli=False)
    feature_mean: list[float] = param(default_factory=list, help="series: training means",
                                      cli=False)
    feature_std: list[float] = param(default_factory=list, help="series: training deviations",
                                     cli=False)

    def check(self) -> None:
        super().check()  # kind, level, cell, speller, pooling, select, class_weights
        self.require_positive("layers", "hidden", "embedding", "char_embedding", "char_hidden",
                              "max_word_chars", "batch", "min_count", "max_vocab", "max_ngrams")
        self.require_fraction("dropout")
        self.require_fraction("word_dropout")


@dataclass
class Batch:
    """One padded batch. ``inputs`` is ``(B, T)`` ids or ``(B, T, F)`` values; ``lengths (B,)``.
    Level ``both``: ``spellings (U, L)`` character ids of the batch's distinct words with
    ``spelling_lengths (U,)``, and ``spelling_index (B, T)`` the row of each word."""

    inputs: Tensor
    lengths: Tensor
    target: Tensor | None = None  # (B,) class ids
    spellings: Tensor | None = None
    spelling_lengths: Tensor | None = None
    spelling_index: Tensor | None = None


def last_step(outputs: Tensor, lengths: Tensor, bidirectional: bool) -> Tensor:
    """``(B, T, D) -> (B, D)``: the forward output at ``length - 1``; bidirectional, the second
    half (the backward direction) at step 0, where that direction ends."""
    index = (lengths - 1).clamp(min=0).view(-1, 1, 1).expand(-1, 1, outputs.size(2))
    last = outputs.gather(1, index).squeeze(1)
    if not bidirectional:
        return last
    half = outputs.size(2) // 2
    return torch.cat([last[:, :half], outputs[:, 0, half:]], dim=1)


class Attention(nn.Module):
    """``a = softmax_t(v^T tanh(W h_t + b))`` over valid steps; returns ``(sum_t a_t h_t, a)``."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.proj = nn.Linear(size, size)
        self.score = nn.Linear(size, 1, bias=False)

    def forward(self, outputs: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        scores = self.score(torch.tanh(self.proj(outputs))).squeeze(-1)  # (B, T)
        weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=1)
        return torch.einsum("bt,btd->bd", weights, outputs), weights


def pool(outputs: Tensor, lengths: Tensor, how: str, bidirectional: bool,
         attention: Attention | None = None) -> tuple[Tensor, Tensor | None]:
    """Pool ``outputs (B, T, D)`` over each row's valid steps -> ``(B, D)`` (and the attention
    weights ``(B, T)`` for ``how="attention"``, else None)."""
    mask = lengths_to_mask(lengths, outputs.size(1))
    outputs = outputs.masked_fill(~mask.unsqueeze(-1), 0.0)
    if how == "last":
        return last_step(outputs, lengths, bidirectional), None
    if how == "mean":
        return outputs.sum(1) / lengths.clamp(min=1).unsqueeze(1).to(outputs.dtype), None
    if how == "max":
        return outputs.masked_fill(~mask.unsqueeze(-1), float("-inf")).amax(1), None
    if how == "attention" and attention is not None:
        return attention(outputs, mask)
    raise ValueError(f"pooling must be one of {POOLINGS} (attention needs its module), got {how!r}")


class SequenceClassifier(nn.Module):
    """``forward(batch) -> (logits (B, classes), attention (B, T) or None)``."""

    def __init__(self, config: ClassifyConfig, vocab_size: int = 0, char_vocab_size: int = 0):
        super().__init__()
        config.check()
        c = self.config = config
        if c.kind == "series":
            size = c.features
        else:
            rows = char_vocab_size if c.level == "char" else vocab_size
            self.embedding = nn.Embedding(rows, c.embedding)
            size = c.embedding
            if c.level == "both" and c.speller == "ngrams":
                self.ngram_embedding = nn.EmbeddingBag(char_vocab_size, 2 * c.char_hidden,
                                                       mode="mean")
                size += 2 * c.char_hidden
            elif c.level == "both":
                self.char_embedding = nn.Embedding(char_vocab_size, c.char_embedding)
                self.speller = build_stack(c.cell, c.char_embedding, c.char_hidden, 1,
                                           bidirectional=True)
                size += 2 * c.char_hidden
        self.encoder = build_stack(c.cell, size, c.hidden, c.layers,
                                   bidirectional=c.bidirectional, dropout=c.dropout)
        out = self.encoder.output_size
        self.attention = Attention(out) if c.pooling == "attention" else None
        self.classifier = nn.Linear(out + (size if c.pool_inputs else 0), len(c.names))

    def spell(self, batch: Batch) -> Tensor:
        """``(B, T, 2 Hc)``: each word's spelling vector: the final states of both directions
        over its characters, or the mean embedding of its character n-grams."""
        if self.config.speller == "ngrams":  # spellings: (N,) n-gram ids, word after word
            offsets = torch.cumsum(batch.spelling_lengths, 0) - batch.spelling_lengths
            return self.ngram_embedding(batch.spellings, offsets)[batch.spelling_index]
        chars = self.char_embedding(batch.spellings)  # (U, L, Ec)
        outputs, _ = self.speller(chars, lengths=batch.spelling_lengths)
        vectors = last_step(outputs, batch.spelling_lengths, bidirectional=True)  # (U, 2 Hc)
        return vectors[batch.spelling_index]

    def embed(self, batch: Batch) -> Tensor:
        c = self.config
        if c.kind == "series":
            return batch.inputs
        x = self.embedding(batch.inputs)
        if c.level == "both":
            x = torch.cat([x, self.spell(batch)], dim=-1)
        return F.dropout(x, c.dropout, self.training)

    def forward(self, batch: Batch) -> tuple[Tensor, Tensor | None]:
        c = self.config
        x = self.embed(batch)
        outputs, _ = self.encoder(x, lengths=batch.lengths)  # (B, T, D)
        pooled, weights = pool(outputs, batch.lengths, c.pooling, c.bidirectional,
                               self.attention)
        if c.pool_inputs:
            # attention weights also pool the inputs; "last" has no step to take: max instead
            inputs = (torch.einsum("bt,btd->bd", weights, x) if weights is not None else
                      pool(x, batch.lengths, "max" if c.pooling == "last" else c.pooling,
                           False)[0])
            pooled = torch.cat([pooled, inputs], dim=1)
        return self.classifier(F.dropout(pooled, c.dropout, self.training)), weights


def default_train_config(**overrides) -> TrainConfig:
    """Classification defaults (tuned on sentiment's validation split): AdamW 4e-3, weight
    decay 0.05, cosine decay, 3 minutes, validation every 200 steps."""
    options = {"time": 180.0, "lr": 4e-3, "weight_decay": 0.05, "eval_every": 200,
               "warmup": 50, "checkpoint_every": 1000, **overrides}
    return TrainConfig(**options)
