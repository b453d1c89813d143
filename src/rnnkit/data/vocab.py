"""Vocabulary: tokens <-> ids, with the tokenizer that makes the tokens, saved with a model."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
import torch

from rnnkit.data.text import EOS, UNK, Tokenizer, check_length, make_tokenizer, tokenizer_from_dict
from rnnkit.errors import CheckpointError, ConfigError, DataError

FORMAT = "rnnkit.vocabulary/1"


def _shown(items: Sequence[str], limit: int = 10) -> str:
    listed = ", ".join(repr(item) for item in items[:limit])
    return listed + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _code_points(text: str) -> np.ndarray:
    """The code point of every character, ``(N,)`` uint32 (via UTF-32: no Python loop)."""
    return np.frombuffer(text.encode("utf-32-le"), dtype="<u4")


def _count_tokens(tokenizer: Tokenizer, text: str) -> Counter:
    if tokenizer.level == "word":
        return Counter(tokenizer.split(text))
    counts = np.bincount(_code_points(text.lower() if tokenizer.lower else text))
    return Counter({chr(c): int(counts[c]) for c in np.flatnonzero(counts)})


class Vocabulary:
    """``tokens[i]`` has id ``i``; ``encode(text)`` -> ids ``(N,)`` int64, ``decode(ids)`` -> text.

    A token the vocabulary lacks becomes ``<unk>`` if the vocabulary has it; otherwise (a
    character vocabulary built from all of its text) encoding raises a DataError naming the
    unknown tokens. Character vocabularies are sorted by code point (the ids of nanoGPT and
    char-rnn); word vocabularies list ``<unk>``, ``<eos>``, then words by falling count.
    """

    def __init__(self, tokens: Sequence[str], tokenizer: Tokenizer) -> None:
        self.tokens = list(tokens)
        self.tokenizer = tokenizer
        self.index = {token: i for i, token in enumerate(self.tokens)}
        if len(self.index) != len(self.tokens):
            raise ValueError("vocabulary tokens must be distinct")
        self.unk_id = self.index.get(UNK)
        self.eos_id = self.index.get(EOS)
        if tokenizer.level == "char":
            # code point -> id table (-1: not in the vocabulary) for a vectorised encode
            codes = [(ord(t), i) for i, t in enumerate(self.tokens) if len(t) == 1]
            self._table = np.full(max((c for c, _ in codes), default=0) + 1, -1, dtype=np.int64)
            for code, i in codes:
                self._table[code] = i

    @classmethod
    def build(cls, text: str, level: str = "char", lower: bool = False, eos: bool = True,
              max_size: int | None = None, min_count: int = 1) -> Vocabulary:
        """The vocabulary of ``text``: tokens seen at least ``min_count`` times, at most
        ``max_size`` of them counting ``<unk>``/``<eos>`` (the most frequent win, ties by
        token). Word vocabularies always have ``<unk>``; character ones get it only when a
        character was left out."""
        tokenizer = make_tokenizer(level, lower=lower, eos=eos)
        if min_count < 1:
            raise ConfigError(f"min_count must be at least 1, got {min_count}")
        if max_size is not None and max_size < 1:
            raise ConfigError(f"vocabulary size must be at least 1, got {max_size}")
        counts = _count_tokens(tokenizer, text)
        check_length(sum(counts.values()), 1, "the text", "tokens")
        ranked = sorted((t for t, n in counts.items() if n >= min_count and t != EOS),
                        key=lambda t: (-counts[t], t))
        if level == "word":
            specials = [UNK, EOS] if eos else [UNK]
        else:  # characters need <unk> only if some are left out
            too_many = max_size is not None and len(ranked) > max_size
            left_out = too_many or len(ranked) < len(counts)
            specials = [UNK] if left_out else []
        if max_size is not None:
            if max_size <= len(specials):
                raise ConfigError(f"a vocabulary of {max_size} leaves no room besides {specials}; "
                                  "use a larger vocabulary size")
            ranked = ranked[: max_size - len(specials)]
        return cls(specials + (sorted(ranked) if level == "char" else ranked), tokenizer)

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: str) -> bool:
        return token in self.index

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} {self.tokenizer.level} tokens)"

    def _unknown(self, unknown: Sequence[str]) -> DataError:
        kind = "characters" if self.tokenizer.level == "char" else "tokens"
        return DataError(
            f"the text has {len(unknown)} {kind} the vocabulary lacks: {_shown(unknown)}; "
            f"use text made of the training {kind}, or a vocabulary with {UNK} "
            "(built with max_size or min_count)"
        )

    def encode(self, text: str) -> torch.Tensor:
        """Text -> token ids, shape ``(N,)``, int64."""
        if self.tokenizer.level == "char":
            return self._encode_chars(text)
        tokens = self.tokenizer.split(text)
        if self.unk_id is None:
            unknown = sorted({t for t in tokens if t not in self.index})
            if unknown:
                raise self._unknown(unknown)
        ids = [self.index.get(t, self.unk_id) for t in tokens]
        return torch.tensor(ids, dtype=torch.int64)

    def _encode_chars(self, text: str) -> torch.Tensor:
        points = _code_points(text.lower() if self.tokenizer.lower else text)
        known = points < len(self._table)
        ids = np.where(known, self._table[np.where(known, points, 0)], -1)
        missing = ids < 0
        if missing.any():
            if self.unk_id is None:
                raise self._unknown([chr(c) for c in np.unique(points[missing])])
            ids[missing] = self.unk_id
        return torch.from_numpy(ids)

    def decode(self, ids: Sequence[int] | torch.Tensor | np.ndarray) -> str:
        """Token ids (any 1-D sequence) -> text; ``<unk>`` is written as ``"<unk>"``."""
        if isinstance(ids, torch.Tensor | np.ndarray):
            ids = ids.tolist()
        if ids and (min(ids) < 0 or max(ids) >= len(self.tokens)):
            raise ValueError(f"ids must be in [0, {len(self)}), got {min(ids)}..{max(ids)}")
        return self.tokenizer.join([self.tokens[i] for i in ids])

    def decode_next(self, before: int | None, token: int) -> str:
        """The text token id ``token`` adds after id ``before`` (None at the start), for printing
        tokens one at a time: the pieces of a sequence concatenate to ``decode`` of it."""
        return self.tokenizer.piece(None if before is None else self.tokens[before],
                                    self.tokens[token])

    def to_dict(self) -> dict:
        """A JSON-able description: ``Vocabulary.from_dict(v.to_dict()) == v``."""
        return {"format": FORMAT, "tokenizer": self.tokenizer.to_dict(), "tokens": self.tokens}

    @classmethod
    def from_dict(cls, saved: dict) -> Vocabulary:
        try:
            if saved.get("format") != FORMAT:
                raise ValueError(f"format is {saved.get('format')!r}, not {FORMAT!r}")
            tokenizer = tokenizer_from_dict(dict(saved["tokenizer"]))
            tokens = saved["tokens"]
            if not all(isinstance(t, str) for t in tokens):
                raise ValueError("tokens must be strings")
            return cls(tokens, tokenizer)
        except (KeyError, TypeError, ValueError, AttributeError, ConfigError) as problem:
            raise CheckpointError(f"saved vocabulary is malformed ({problem}); the model "
                                  "folder is damaged, restore or retrain it") from None
