"""The data of a tagger: which task a source is, its tagged sequences and their parts, and the
vocabulary and tag set read from the training part.

A source is :class:`~rnnkit.data.tagging.TagData`, a tagged file (CoNLL or JSONL, ``conll``), or
a text file or corpus name from which ``punct`` or ``segment`` builds its tags.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from rnnkit.data.registry import resolve_text
from rnnkit.data.tagging import TagData, build_task, is_tagged_file, read_tagged, split_data
from rnnkit.data.text import UNK, make_tokenizer
from rnnkit.data.vocab import Vocabulary
from rnnkit.errors import ConfigError

Source = TagData | str | os.PathLike
PARTS = ("all", "train", "valid", "test")


@dataclass
class ReadOptions:
    """How a source is read: pieces of the built tasks (``max_length``; 0 = 64 words or 200
    characters) and the columns and encoding of files."""

    max_length: int = 0
    token_col: int = 0
    tag_col: int = -1
    encoding: str = "utf-8"


def choose_task(data: Source, task: str | None) -> str:
    """``task`` if given, else ``conll`` for tagged data (TagData, or a file by its suffix),
    else ``punct``. TagData may hold any task's tags (``build_punct``'s, say)."""
    if task is None:
        return "conll" if isinstance(data, TagData) or is_tagged_file(data) else "punct"
    if task in ("punct", "segment") and not isinstance(data, TagData) and is_tagged_file(data):
        raise ConfigError.bad("task", f"{task} builds its tags from plain text, but {data} is "
                                      "already tagged; use conll (or give a text file)")
    return task


def read_data(data: Source, task: str, max_length: int = 0, token_col: int = 0,
              tag_col: int = -1, encoding: str = "utf-8") -> TagData:
    """Tagged data: ``data`` itself, a tagged file (``conll``), or the task built from a text
    file or corpus name (``punct``, ``segment``)."""
    if isinstance(data, TagData):
        return data
    if task == "conll":
        return read_tagged(data, token_col, tag_col, encoding)
    return build_task(resolve_text(data, encoding), task, max_length, source=str(data))


@dataclass
class Parts:
    """The training, validation and (optional) test sequences of a run, and all it read."""

    full: TagData
    train: TagData
    valid: TagData
    test: TagData | None

    def named(self) -> dict[str, TagData]:
        """``{"train": ..., "valid": ..., "test": ...}`` without an absent (or empty) part."""
        parts = {"train": self.train, "valid": self.valid, "test": self.test}
        return {name: part for name, part in parts.items() if part}


def read_parts(data: Source, task: str, options: ReadOptions, *,
               split: Sequence[float] = (0.8, 0.1, 0.1), max_sentences: int | None = None,
               valid: Source | None = None, test: Source | None = None) -> Parts:
    """Without ``valid``: contiguous ``split`` fractions of the first ``max_sentences``
    sequences of ``data`` (an empty test part is none). With it: ``data`` (cut to
    ``max_sentences``) is all training, ``valid`` and ``test`` (optional) are read alike."""
    full = read_data(data, task, **vars(options))
    if valid is None:
        train, held, tested = split_data(full, split, max_sentences)
        return Parts(full, train, held, tested if len(tested) else None)
    return Parts(full, full.subset(0, max_sentences or len(full)),
                 read_data(valid, task, **vars(options)),
                 read_data(test, task, **vars(options)) if test is not None else None)


def check_part(part: str) -> None:
    if part not in PARTS:
        raise ConfigError.bad("part", f"must be one of {', '.join(PARTS)}, got {part!r}")


def own_part(data: TagData, part: str, read: dict | None) -> TagData:
    """The ``part`` (``train``, ``valid`` or ``test``) of ``data`` as the model's training cut
    it (``read``: the ``read`` settings saved in its ``config.json``); ``all`` is ``data``."""
    check_part(part)
    if part == "all":
        return data
    if read is None or read["valid"] is not None:
        raise ConfigError(f"part {part} needs a model whose parts were cut from its data; this "
                          "one was given other files (valid, test): evaluate on them instead",
                          "part")
    return split_data(data, read["split"], read["max_sentences"])[PARTS.index(part) - 1]


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


def unknown_rate(data: TagData, vocab: Vocabulary) -> float:
    """The share of tokens the vocabulary lacks (read as ``<unk>``)."""
    unknown = sum(t not in vocab.index for tokens in data.sentences for t in tokens)
    return unknown / max(data.num_tokens, 1)
