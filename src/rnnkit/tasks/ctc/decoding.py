"""Reading the labels out of CTC's per-column probabilities: best path and prefix beam search.

Label ids: 0 is the blank, ``1 .. A`` the alphabet. ``greedy`` takes the most likely symbol of
each column, merges repeats and drops blanks (the best path). ``prefix_beam`` keeps the ``beam``
most likely label prefixes, each scored by the sum over all the alignments that spell it (a
blank-ending and a non-blank-ending part, Hannun et al. 2014, after Graves 2006), so it can
find a labelling more probable than the best path's. With a character n-gram model (shallow
fusion), each new character adds ``lm_weight * log P_lm(char | prefix) + insertion`` and the
end of the string adds ``lm_weight * log P_lm(end | prefix)``.

Beam 1 keeps a single prefix: on peaked columns (a trained model's) it spells what the best
path spells; on flat ones it may not, because it adds the probability of the alignments that
repeat a character to the one that stays blank (tested both ways).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from rnnkit.config import Config, param

NEG = -math.inf
METHODS = ("greedy", "beam")


@dataclass
class DecodeOptions(Config):
    beam: int = param(1, "prefix beam width (1 with no language model: the best path)")
    lm_weight: float = param(0.0, "weight of the character n-gram language model (0: none)")
    insertion: float = param(0.0, "bonus per character written when the language model is on")
    prune: float = param(1e-3, "beam: symbols less likely than this in a column are skipped")

    def check(self) -> None:
        self.require_positive("beam")
        self.require_at_least("lm_weight", 0.0)
        if not 0.0 <= self.prune < 1.0:
            from rnnkit.errors import ConfigError

            raise ConfigError.bad("prune", f"must be in [0, 1), got {self.prune}")

    @property
    def method(self) -> str:
        if self.beam == 1 and self.lm_weight == 0:
            return "greedy"
        return f"beam {self.beam}" + (f" + lm {self.lm_weight:g}" if self.lm_weight else "")


def greedy(log_probs: Tensor, lengths: Tensor) -> list[list[int]]:
    """Best path of each item of ``log_probs (B, T, 1 + A)``: argmax per column up to the
    item's length, repeats merged, blanks (0) dropped."""
    best = log_probs.argmax(-1).cpu()
    out = []
    for row, n in zip(best, lengths.tolist()):
        path = torch.unique_consecutive(row[:n])
        out.append([int(i) for i in path if i != 0])
    return out


class CharLM:
    """A Kneser-Ney character model for fusion: ids ``0 .. A - 1`` are the alphabet's labels
    ``1 .. A`` and ``A`` marks the start and end of a string. ``log_prob(prefix)`` gives the
    log-probabilities of every next label (index 0: the end)."""

    def __init__(self, order: int = 5) -> None:
        self.order = order
        self._cache: dict[tuple[int, ...], np.ndarray] = {}

    def fit(self, labels: Sequence[Sequence[int]], alphabet: int) -> CharLM:
        from rnnkit.baselines.ngram import KneserNey

        self.alphabet = alphabet
        stream = [alphabet]
        for label in labels:
            stream += [i - 1 for i in label] + [alphabet]
        self.model = KneserNey(self.order).fit(np.array(stream), alphabet + 1)
        return self

    def log_prob(self, prefix: tuple[int, ...]) -> np.ndarray:
        """``(1 + A,)``: index 0 the end of the string, ``i`` the label ``i``."""
        key = prefix[-(self.order - 1):] if self.order > 1 else ()
        if key not in self._cache:
            context = [self.alphabet] + [i - 1 for i in key]
            p = self.model.distribution(context)
            self._cache[key] = np.log(np.concatenate([p[-1:], p[:-1]]) + 1e-12)
        return self._cache[key]

    def to_dict(self) -> dict:
        return {"order": self.order}


def _logadd(a: float, b: float) -> float:
    if a == NEG:
        return b
    if b == NEG:
        return a
    return max(a, b) + math.log1p(math.exp(-abs(a - b)))


def prefix_beam(log_probs: Tensor, beam: int = 8, lm: CharLM | None = None,
                lm_weight: float = 0.0, insertion: float = 0.0, prune: float = 1e-3
                ) -> list[int]:
    """The most likely labelling of one item's ``log_probs (T, 1 + A)`` (its real columns)."""
    table = log_probs.detach().double().cpu().numpy()
    fuse = lm is not None and lm_weight > 0
    threshold = math.log(prune) if prune > 0 else NEG
    beams: dict[tuple[int, ...], list[float]] = {(): [0.0, NEG]}  # prefix -> [blank, non-blank]
    for column in table:
        keep = np.nonzero(column >= threshold)[0]
        if keep.size == 0:
            keep = np.array([int(column.argmax())])
        blank = column[0]
        following: dict[tuple[int, ...], list[float]] = {}
        for prefix, (pb, pnb) in beams.items():
            total = _logadd(pb, pnb)
            last = prefix[-1] if prefix else -1
            lm_scores = lm.log_prob(prefix) if fuse else None
            for c in keep.tolist():
                p = column[c]
                if c == 0:
                    entry = following.setdefault(prefix, [NEG, NEG])
                    entry[0] = _logadd(entry[0], total + blank)
                    continue
                extended = prefix + (c,)
                extra = lm_weight * lm_scores[c] + insertion if fuse else 0.0
                entry = following.setdefault(extended, [NEG, NEG])
                if c == last:
                    entry[1] = _logadd(entry[1], pb + p + extra)  # a blank between: new char
                    same = following.setdefault(prefix, [NEG, NEG])
                    same[1] = _logadd(same[1], pnb + p)  # a repeat: the same prefix
                else:
                    entry[1] = _logadd(entry[1], total + p + extra)
        ranked = sorted(following.items(), key=lambda kv: _logadd(*kv[1]), reverse=True)
        beams = dict(ranked[:beam])
    if fuse:
        final = lambda prefix: (_logadd(*beams[prefix])  # noqa: E731
                                + lm_weight * lm.log_prob(prefix)[0])
    else:
        final = lambda prefix: _logadd(*beams[prefix])  # noqa: E731
    return list(max(beams, key=final))


def decode(log_probs: Tensor, lengths: Tensor, options: DecodeOptions | None = None,
           lm: CharLM | None = None) -> list[list[int]]:
    """Label ids of every item: best path, or prefix beam search (with the model's language
    model when ``options.lm_weight > 0``)."""
    options = options or DecodeOptions()
    if options.beam == 1 and options.lm_weight == 0:
        return greedy(log_probs, lengths)
    return [prefix_beam(log_probs[b, :n], options.beam, lm, options.lm_weight,
                        options.insertion, options.prune)
            for b, n in enumerate(lengths.tolist())]
