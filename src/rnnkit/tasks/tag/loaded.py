"""A trained tagger opened from its directory, and what it predicts: the tags of token
sequences, or of raw text (which the built tasks also restore).

A tagger's directory holds, besides what every model directory holds (:mod:`rnnkit.tasks.base`),
``baseline.json``: the majority-tag baseline fitted on the same training part.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnkit.data.tagging import (
    punct_words,
    restore_punct,
    restore_segment,
    segment_chars,
    text_units,
)
from rnnkit.data.vocab import Vocabulary
from rnnkit.errors import ConfigError, DataError
from rnnkit.tasks import base
from rnnkit.tasks.tag.baseline import MajorityTagger
from rnnkit.tasks.tag.model import TagConfig, Tagger
from rnnkit.tasks.tag.task import Encoded, encode_tokens, predict_ids
from rnnkit.train import checkpoint as ckpt

TASK = "tag"
BASELINE = "baseline.json"


@dataclass
class TextPrediction:
    """Tagged pieces of raw text; ``text`` is the restored text of the built tasks (None for
    ``conll`` models)."""

    sequences: list[dict]  # {"tokens": [...], "tags": [...]}
    text: str | None


@dataclass
class LoadedTagger:
    """A trained tagger: the model, its vocabulary and tag names, and its baseline."""

    model: Tagger
    config: TagConfig
    vocab: Vocabulary
    names: list[str]
    baseline: MajorityTagger
    directory: Path

    def predict(self, sentences: Sequence[Sequence[str]]) -> list[list[str]]:
        """The tags of every token of every sequence (see :func:`predict`)."""
        return predict(self, sentences)

    def predict_text(self, text: str) -> TextPrediction:
        """Tag (and, for the built tasks, restore) raw text (see :func:`predict_text`)."""
        return predict_text(self, text)


def load(directory: str | Path) -> LoadedTagger:
    """Open a directory written by :func:`~rnnkit.tasks.tag.fit`."""
    directory = Path(directory)

    def build(saved: dict) -> LoadedTagger:
        config = TagConfig.from_dict(saved["model"])
        baseline = MajorityTagger.from_dict(ckpt.read_json(directory / BASELINE))
        vocab, tags = Vocabulary.from_dict(saved["vocabulary"]), [str(n) for n in saved["tags"]]
        base.check_size("the vocabulary", len(vocab), config.vocab_size)
        base.check_size("the tag list", len(tags), config.num_tags)
        return LoadedTagger(Tagger(config), config, vocab, tags, baseline, directory)

    loaded, _ = base.load_model(directory, TASK, build)
    return loaded


def predict(loaded: LoadedTagger, sentences: Sequence[Sequence[str]]) -> list[list[str]]:
    """The tags of every token of every sequence (tokens as the task reads them: lower-case
    unpunctuated words for ``punct``, single characters for ``segment``)."""
    if not sentences:
        return []
    if isinstance(sentences[0], str):
        raise ConfigError("predict takes a list of token lists; for raw text use predict_text")
    ids = encode_tokens(sentences, loaded.vocab)
    if any(len(s) == 0 for s in ids):
        raise DataError("a sequence to tag is empty; give at least one token per sequence")
    best, _ = predict_ids(loaded.model, Encoded(ids, None, np.array([len(s) for s in ids])))
    return [[loaded.names[i] for i in row] for row in best]


def predict_text(loaded: LoadedTagger, text: str) -> TextPrediction:
    """Tag raw text as the task reads it: ``punct`` lower-cases it and drops its punctuation,
    ``segment`` drops its whitespace, ``conll`` tags each line's whitespace-separated tokens.
    The built tasks also return the text restored from the tags."""
    task, length = loaded.config.task, loaded.config.max_length
    if task == "punct":
        units = [punct_words(unit, length or 64) for unit in text_units(text)]
    elif task == "segment":
        units = [segment_chars(line, length or 200) for line in text.split("\n")]
    else:
        units = [[line.split()] for line in text.split("\n")]
    units = [pieces for pieces in units if pieces and pieces[0]]
    if not units:
        raise DataError("the text to tag has no tokens; give some words")
    flat = [piece for pieces in units for piece in pieces]
    tags = iter(predict(loaded, flat))
    sequences, lines = [], []
    for pieces in units:
        restored = []
        for piece in pieces:
            labels = next(tags)
            sequences.append({"tokens": list(piece), "tags": labels})
            if task == "punct":
                restored.append(restore_punct(piece, labels))
            elif task == "segment":
                restored.append(restore_segment(piece, labels))
        lines.append(" ".join(restored))
    return TextPrediction(sequences, "\n".join(lines) if task != "conll" else None)
