"""Images and their captions as tensors, the training task and the scores.

A caption is words: a digit string ``"314"`` is captioned ``"three one four"``; any other text
(a listing's) is taken as its whitespace-separated words. An image ``(H, W)`` enters the model
as its columns ``(W, H)`` (:mod:`rnnkit.tasks.caption.model`), so seq2seq's
:class:`~rnnkit.tasks.seq2seq.task.Encoded` holds captioned images as it holds sentence pairs,
and its task, teacher-forced scoring and decoders run on them unchanged.

Scores of captions against references (:func:`caption_scores`):

- ``bleu`` (and ``chrf``): sacrebleu's corpus scores (seq2seq's ``text_scores``), 0-100;
- ``word_accuracy``: the reference words matched in a minimum edit-distance alignment of each
  output to its reference (jiwer's hits), divided by all reference words: 0-1, per position
  of the reference, insertions not counted (they are in ``wer``);
- ``wer``: (substitutions + deletions + insertions) / reference words;
- ``exact``: the share of captions equal to their reference.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import torch
from torch import Tensor

from rnnkit.tasks.seq2seq.scores import text_scores
from rnnkit.tasks.seq2seq.task import Encoded, Seq2SeqTask
from rnnkit.tasks.seq2seq.tokens import SPECIALS, Vocab

DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def to_words(text: str) -> str:
    """``"314"`` -> ``"three one four"``; text other than digits: its words, single-spaced."""
    compact = "".join(text.split())
    if compact.isdigit() and compact.isascii():
        return " ".join(DIGIT_WORDS[int(ch)] for ch in compact)
    return " ".join(text.split())


def build_vocab(captions: Sequence[str]) -> Vocab:
    """The specials, then the digit words in order (when every caption is made of them), else
    the words of the training captions, most frequent first."""
    words = {w for caption in captions for w in caption.split()}
    if words <= set(DIGIT_WORDS):
        return Vocab([*SPECIALS, *DIGIT_WORDS])
    return Vocab.build([c.split() for c in captions])


def columns(image: Tensor) -> Tensor:
    """An image ``(H, W)`` as the sequence of its columns ``(W, H)`` (a view)."""
    return image.float().T


def encode(images: Sequence[Tensor], captions: Sequence[str], vocab: Vocab, max_length: int
           ) -> Encoded:
    """Images (``(H, W)``) and their captions as ids ending with ``</s>``; ``unknown`` counts
    words read as ``<unk>``, ``cut`` captions longer than ``max_length - 1`` words."""
    src, tgt, unknown, cut = [], [], 0, 0
    for image, caption in zip(images, captions):
        ids, u = vocab.encode(caption.split())
        unknown += u
        cut += len(ids) > max_length - 1
        src.append(columns(image))
        tgt.append(torch.tensor(ids[:max_length - 1] + [vocab.eos], dtype=torch.long))
    return Encoded(src, tgt, unknown, cut)


class CaptionTask(Seq2SeqTask):
    """Seq2seq's training task over captioned images, with new training images every epoch
    (``compose(epoch)``, the string datasets compose theirs afresh). Validation: teacher-forced
    loss (which picks the best weights), word accuracy given the true previous words, and the
    exact match of ``eval_pairs`` images captioned greedily."""

    def __init__(self, model, compose: Callable[[int], Encoded], valid: Encoded, vocab: Vocab,
                 seed: int = 0) -> None:
        super().__init__(model, compose(0), valid, vocab, vocab, seed)
        self.compose, self._epoch = compose, 0

    def batches(self, epoch: int, start: int) -> Iterator:
        if epoch != self._epoch:
            self.train, self._epoch = self.compose(epoch), epoch
            self._lengths = self.train.lengths
        yield from super().batches(epoch, start)


def caption_scores(outputs: Sequence[str], references: Sequence[str]) -> dict:
    """BLEU, chrF, word accuracy, WER, exact match and the length ratio of captions (the
    module's docstring defines them)."""
    import jiwer

    scores = text_scores(outputs, references)
    kept = [(o, r) for o, r in zip(outputs, references) if r.split()]
    if kept:
        aligned = jiwer.process_words([r for _, r in kept], [o for o, _ in kept])
        words = aligned.hits + aligned.substitutions + aligned.deletions
        scores["word_accuracy"] = aligned.hits / max(1, words)
        scores["wer"] = float(aligned.wer)
    else:
        scores["word_accuracy"], scores["wer"] = 0.0, 0.0
    return scores


HEADLINE = ("bleu", "word_accuracy", "exact")
