"""Contiguous token streams: train/validation/test splits, parallel streams, BPTT segments.

A language model reads one long id sequence ``ids (N,)``. ``split_stream`` cuts it into three
contiguous parts; ``batchify`` folds a part into ``B`` parallel streams ``(B, L)``, stream ``b``
being ``ids[b*L:(b+1)*L]``; :class:`Segments` walks those streams ``k`` steps at a time,
yielding ``(input, target)`` with ``target[:, t] == input[:, t+1]`` inside a segment and
segment ``j+1`` starting where segment ``j`` stopped, so the trainer can carry the recurrent
state from one segment to the next (truncated backpropagation through time).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import NamedTuple

import torch

from rnnkit.errors import ConfigError, DataError

DEFAULT_FRACTIONS = (0.9, 0.05, 0.05)


class Splits(NamedTuple):
    train: torch.Tensor  # (N_train,)
    valid: torch.Tensor  # (N_valid,)
    test: torch.Tensor  # (N_test,), empty when the test fraction is 0


def check_fractions(fractions: Sequence[float]) -> tuple[float, float, float]:
    """``(train, valid[, test])``, each >= 0, train and valid > 0, summing to 1."""
    values = tuple(float(f) for f in fractions)
    if len(values) == 2:
        values += (0.0,)
    shown = ",".join(f"{f:g}" for f in fractions)
    if (len(values) != 3 or not all(math.isfinite(f) and f >= 0 for f in values)
            or values[0] <= 0 or values[1] <= 0 or abs(sum(values) - 1) > 1e-6):
        raise ConfigError(f"split fractions must be train,valid[,test] >= 0 (train and valid "
                          f"> 0) summing to 1, got {shown}; e.g. 0.9,0.05,0.05")
    return values  # type: ignore[return-value]


def parse_fractions(spec: str) -> tuple[float, float, float]:
    """``"0.9,0.05,0.05"`` -> ``(0.9, 0.05, 0.05)`` (validated), for command-line options."""
    try:
        values = [float(part) for part in spec.split(",")]
    except ValueError:
        raise ConfigError(f"split {spec!r} is not comma-separated numbers; "
                          "e.g. 0.9,0.05,0.05") from None
    return check_fractions(values)


def split_stream(ids: torch.Tensor, fractions: Sequence[float] = DEFAULT_FRACTIONS) -> Splits:
    """Cut ``ids (N,)`` into contiguous ``train | valid | test`` views, in that order.

    Boundaries are ``floor(N*train)`` and ``floor(N*(train+valid))`` (the last part takes the
    rest), so 0.9/0.1 of Tiny Shakespeare gives nanoGPT's 1,003,854 / 111,540 characters.
    """
    train, valid, test = check_fractions(fractions)
    n = len(ids)
    first = int(n * train)
    second = int(n * (train + valid)) if test > 0 else n
    parts = Splits(ids[:first], ids[first:second], ids[second:])
    for name, part, fraction in zip(Splits._fields, parts, (train, valid, test), strict=True):
        if fraction > 0 and len(part) == 0:
            raise DataError(f"{n:,} tokens are too few to split {train:g}/{valid:g}/{test:g}: "
                            f"the {name} part is empty; give a longer text")
    return parts


def batchify(ids: torch.Tensor, batch: int) -> torch.Tensor:
    """``ids (N,)`` -> ``(batch, N // batch)``: row ``b`` is the contiguous run
    ``ids[b*L:(b+1)*L]``; the last ``N % batch`` tokens are dropped."""
    if batch < 1:
        raise ConfigError(f"batch size must be at least 1, got {batch}")
    length = len(ids) // batch
    if length < 2:
        raise DataError(f"{len(ids):,} tokens are too few for {batch} parallel streams "
                        "(each needs 2 tokens); use a smaller batch size or a longer text")
    return ids[: batch * length].reshape(batch, length)


class Segments:
    """Iterate ``(input, target)`` pairs of shape ``(B, k)`` over streams ``(B, L)``.

    Segment ``j`` is ``input = streams[:, j*k : j*k + k]``, ``target = streams[:, j*k+1 :
    j*k+k+1]``; the last one is shorter unless ``drop_last``. There are ``ceil((L-1)/k)``
    segments (``floor`` with ``drop_last``): every stream position but the last is an input
    exactly once.
    """

    def __init__(self, streams: torch.Tensor, k: int, drop_last: bool = False) -> None:
        if streams.dim() != 2 or streams.shape[1] < 2:
            raise ValueError(f"streams must be (B, L) with L >= 2, got {tuple(streams.shape)}")
        if k < 1:
            raise ConfigError(f"BPTT length must be at least 1, got {k}")
        self.streams = streams
        self.k = k
        self.drop_last = drop_last

    def __len__(self) -> int:
        steps = self.streams.shape[1] - 1
        return steps // self.k if self.drop_last else -(-steps // self.k)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for j in range(len(self)):
            start = j * self.k
            stop = min(start + self.k, self.streams.shape[1] - 1)
            yield self.streams[:, start:stop], self.streams[:, start + 1 : stop + 1]
