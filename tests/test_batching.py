"""Padding and length buckets."""

from __future__ import annotations

import numpy as np
import torch

from rnnkit.data.batching import bucket_batches, pad


def test_pad_values_and_lengths():
    empty = torch.tensor([], dtype=torch.long)
    out, lengths = pad([torch.tensor([1, 2, 3]), torch.tensor([4]), empty])
    assert out.tolist() == [[1, 2, 3], [4, 0, 0], [0, 0, 0]]
    assert lengths.tolist() == [3, 1, 0]
    feats, _ = pad([torch.ones(2, 3), torch.ones(1, 3)], value=-1.0)
    assert feats.shape == (2, 2, 3) and feats[1, 1].tolist() == [-1.0, -1.0, -1.0]


def test_buckets_cover_everything_once_and_group_lengths():
    rng = np.random.default_rng(1)
    lengths = rng.integers(1, 200, 1000)
    batches = bucket_batches(lengths, 16, seed=3, pool=10)
    everything = np.concatenate(batches)
    assert sorted(everything.tolist()) == list(range(1000))
    spread = np.mean([lengths[b].max() - lengths[b].min() for b in batches])
    random_spread = np.mean([lengths[b].max() - lengths[b].min()
                             for b in np.array_split(rng.permutation(1000), len(batches))])
    assert spread < 0.2 * random_spread
    again = bucket_batches(lengths, 16, seed=3, pool=10)
    assert all(np.array_equal(a, b) for a, b in zip(batches, again))
    other = bucket_batches(lengths, 16, seed=4)
    assert not all(np.array_equal(a, b) for a, b in zip(batches, other))
    ordered = bucket_batches(lengths, 16, shuffle=False)
    assert lengths[ordered[0][0]] == lengths.max()
