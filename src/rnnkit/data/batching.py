"""Batches of variable-length sequences: padding, and length buckets so padding costs little.

``bucket_batches`` sorts examples by length inside large random pools and cuts batches from
each pool, so a batch holds sequences of similar length (little padding) while the order of
batches stays random from epoch to epoch. Padding never changes a result in rnnkit's layers
(``lengths`` mask it), so bucketing is only about speed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor


def pad(sequences: Sequence[Tensor], value: int | float = 0) -> tuple[Tensor, Tensor]:
    """Right-pad 1-D (or ``(T_i, F)``) tensors into ``(B, T_max[, F])``; return it with the
    lengths ``(B,)`` (int64). ``T_max`` is at least 1, so an all-empty batch is still valid."""
    lengths = torch.tensor([len(s) for s in sequences], dtype=torch.long)
    longest = max(1, int(lengths.max())) if len(sequences) else 1
    first = sequences[0]
    out = first.new_full((len(sequences), longest, *first.shape[1:]), value)
    for i, s in enumerate(sequences):
        out[i, : len(s)] = s
    return out, lengths


def bucket_batches(lengths: Sequence[int] | np.ndarray, batch_size: int, *, shuffle: bool = True,
                   seed: int = 0, pool: int = 50) -> list[np.ndarray]:
    """Index arrays, one per batch, covering every example once.

    With ``shuffle``: a random permutation is cut into pools of ``pool * batch_size`` examples,
    each pool is sorted by length and cut into batches, and the batches are shuffled. Without:
    examples sorted by length (longest first), for evaluation. The same ``seed`` gives the
    same batches.
    """
    lengths = np.asarray(lengths)
    n = len(lengths)
    if n == 0:
        return []
    if not shuffle:
        order = np.argsort(-lengths, kind="stable")
        return [order[k:k + batch_size] for k in range(0, n, batch_size)]
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    size = max(batch_size, pool * batch_size)
    batches = []
    for k in range(0, n, size):
        chunk = order[k:k + size]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[j:j + batch_size] for j in range(0, len(chunk), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]
