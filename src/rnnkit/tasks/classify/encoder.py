"""Inputs to ids: texts to word (or character) ids and spellings, series standardised.

:class:`InputEncoder` turns texts into word ids (vocabulary of the training split only: words
seen ``min_count`` times, at most ``max_vocab``, the rest ``<unk>``) or character ids, and keeps
the spelling of every word for ``level="both"`` (its characters, or its character n-grams seen
``min_count`` times in training); series are standardised per feature with the training
statistics, ``(x - mean) / std``. ``collate`` pads examples into a
:class:`~rnnkit.tasks.classify.model.Batch`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from rnnkit.data.batching import pad
from rnnkit.data.labelled import LabelledSet
from rnnkit.data.text import UNK, CharTokenizer, WordTokenizer
from rnnkit.data.vocab import Vocabulary
from rnnkit.errors import DataError
from rnnkit.tasks.classify.model import Batch, ClassifyConfig

NGRAM_SIZES = (2, 3, 4, 5)


@dataclass
class Example:
    """One encoded input: ``ids (T,)`` int64 or ``values (T, F)`` float32; for level
    ``both``, ``spelling (T,)`` rows of the encoder's spelling table."""

    ids: Tensor
    spelling: Tensor | None = None

    def __len__(self) -> int:
        return len(self.ids)


class InputEncoder:
    """Texts or series -> :class:`Example`; ``collate`` pads them into a :class:`Batch`."""

    def __init__(self, config: ClassifyConfig, words: Vocabulary | None = None,
                 chars: Vocabulary | None = None, ngrams: list[str] | None = None) -> None:
        self.config, self.words, self.chars, self.ngrams = config, words, chars, ngrams
        self.ngram_index = {g: i for i, g in enumerate(ngrams or ())}
        self.tokenizer = WordTokenizer(lower=False, eos=False)
        self.spelling_index: dict[str, int] = {}
        self.spelling_table: list[Tensor] = []

    @classmethod
    def build(cls, config: ClassifyConfig, train: LabelledSet) -> InputEncoder:
        """Vocabularies from the training split (texts), nothing to learn for series."""
        if config.kind == "series":
            return cls(config)
        text = "\n".join(train.texts or [])
        words = chars = None
        if config.level in ("word", "both"):
            words = Vocabulary.build(text, "word", lower=config.lower, eos=False,
                                     max_size=config.max_vocab, min_count=config.min_count)
        if config.level == "both" and config.speller == "ngrams":
            return cls(config, words, ngrams=_ngram_vocabulary(train, config))
        if config.level in ("char", "both"):
            chars = Vocabulary.build(text, "char", min_count=config.min_count)
            if UNK not in chars:  # unseen characters at prediction time must map somewhere
                chars = Vocabulary([UNK, *chars.tokens], CharTokenizer())
        return cls(config, words, chars)

    def to_dict(self) -> dict:
        return {"words": self.words.to_dict() if self.words else None,
                "chars": self.chars.to_dict() if self.chars else None, "ngrams": self.ngrams}

    @classmethod
    def from_dict(cls, config: ClassifyConfig, saved: dict) -> InputEncoder:
        words, chars = saved.get("words"), saved.get("chars")
        return cls(config, Vocabulary.from_dict(words) if words else None,
                   Vocabulary.from_dict(chars) if chars else None, saved.get("ngrams"))

    @property
    def speller_size(self) -> int:
        """Rows of the speller's embedding: characters or n-grams."""
        return len(self.ngrams if self.ngrams is not None else self.chars or ())

    def tokens(self, text: str) -> list[str]:
        """The steps the model reads: words (original case) or characters."""
        return list(text) if self.config.level == "char" else self.tokenizer.split(text)

    def _spelling(self, word: str) -> int:
        if word not in self.spelling_index:
            self.spelling_index[word] = len(self.spelling_table)
            if self.ngrams is not None:  # known n-grams, or the <none> row (id 0)
                ids = [self.ngram_index[g] for g in word_ngrams(word, self.config.lower)
                       if g in self.ngram_index]
                self.spelling_table.append(torch.tensor(ids or [0]))
            else:
                self.spelling_table.append(self.chars.encode(word[: self.config.max_word_chars]))
        return self.spelling_index[word]

    def encode_text(self, text: str) -> Example:
        tokens = self.tokens(text)
        if not tokens:
            raise DataError(f"the text {text!r} has no tokens; give non-empty texts")
        if self.config.level == "char":
            return Example(self.chars.encode(text))
        lower = self.config.lower
        index, unk = self.words.index, self.words.unk_id
        ids = torch.tensor([index.get(t.lower() if lower else t, unk) for t in tokens])
        spelling = None
        if self.config.level == "both":
            spelling = torch.tensor([self._spelling(t) for t in tokens])
        return Example(ids, spelling)

    def encode_series(self, values: np.ndarray) -> Example:
        c = self.config
        values = np.asarray(values, dtype=np.float32).reshape(len(values), -1)
        if values.shape[1] != c.features:
            raise DataError(f"the sequences have {values.shape[1]} values per step; the model "
                            f"reads {c.features}")
        return Example(torch.from_numpy((values - np.float32(c.feature_mean))
                                        / np.float32(c.feature_std)))

    def encode(self, data: LabelledSet) -> list[Example]:
        if data.kind != self.config.kind:
            raise DataError(f"the model classifies {self.config.kind}, the data is "
                            f"{data.kind}; give {self.config.kind} data")
        if data.kind == "series":
            return [self.encode_series(s) for s in data.sequences or []]
        return [self.encode_text(t) for t in data.texts or []]

    def collate(self, examples: Sequence[Example], target: Tensor | None = None) -> Batch:
        inputs, lengths = pad([e.ids for e in examples])
        batch = Batch(inputs, lengths, target)
        if self.config.level == "both" and self.config.kind == "text":
            rows, _ = pad([e.spelling for e in examples])
            used, batch.spelling_index = torch.unique(rows, return_inverse=True)
            spelled = [self.spelling_table[i] for i in used.tolist()]
            if self.ngrams is not None:  # a bag per word: ids one after the other
                batch.spellings = torch.cat(spelled)
                batch.spelling_lengths = torch.tensor([len(s) for s in spelled])
            else:
                batch.spellings, batch.spelling_lengths = pad(spelled)
        return batch


def word_ngrams(word: str, lower: bool = True) -> list[str]:
    """The character 2- to 5-grams of ``<word>`` (fastText's subwords; ``<``, ``>`` mark the
    ends, so ``"<un"`` is a prefix)."""
    marked = f"<{word.lower() if lower else word}>"
    return [marked[i:i + n] for n in NGRAM_SIZES for i in range(len(marked) - n + 1)]


def _ngram_vocabulary(train: LabelledSet, config: ClassifyConfig) -> list[str]:
    """``<none>`` and the training n-grams seen ``min_count`` times, most frequent first."""
    tokenizer = WordTokenizer(lower=False, eos=False)
    counts = Counter(g for text in train.texts or [] for w in tokenizer.split(text)
                     for g in word_ngrams(w, config.lower))
    ranked = sorted((g for g, n in counts.items() if n >= config.min_count),
                    key=lambda g: (-counts[g], g))
    return ["<none>", *ranked[: config.max_ngrams - 1]]
