"""PackedSequence <-> padded batch-first tensors, keeping the packed layout exactly.

``torch.nn.utils.rnn.pack_padded_sequence`` may order rows of equal length differently from
the caller's PackedSequence; the drop-ins must return a PackedSequence with the caller's own
``batch_sizes``, ``sorted_indices`` and ``unsorted_indices``, so both directions go through the
same index: entry ``k`` of ``packed.data`` is step ``steps[k]`` of original row ``rows[k]``.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.nn.utils.rnn import PackedSequence


def packed_positions(packed: PackedSequence) -> tuple[Tensor, Tensor]:
    """``(rows, steps)``, each ``(N,)``: where every entry of ``packed.data (N, F)`` sits in the
    padded ``(B, T, F)`` batch, rows numbered in the caller's original order."""
    batch_sizes = packed.batch_sizes.cpu()
    total = batch_sizes.numel()
    steps = torch.repeat_interleave(torch.arange(total), batch_sizes)
    # within a step the entries are rows 0..batch_sizes[t]-1 of the length-sorted batch
    offsets = torch.cumsum(batch_sizes, 0) - batch_sizes
    sorted_rows = torch.arange(steps.numel()) - offsets[steps]
    rows = sorted_rows
    if packed.sorted_indices is not None:
        rows = packed.sorted_indices.cpu()[sorted_rows]
    device = packed.data.device
    return rows.to(device), steps.to(device)


def unpack(packed: PackedSequence, rows: Tensor, steps: Tensor) -> tuple[Tensor, Tensor]:
    """``packed -> (x (B, T, F) zero-padded, lengths (B,))``, differentiable in ``packed.data``."""
    batch = int(packed.batch_sizes[0])
    total = packed.batch_sizes.numel()
    data = packed.data
    x = data.new_zeros(batch, total, data.size(-1)).index_put((rows, steps), data)
    lengths = torch.bincount(rows, minlength=batch)
    return x, lengths


def repack(out: Tensor, like: PackedSequence, rows: Tensor, steps: Tensor) -> PackedSequence:
    """The real steps of ``out (B, T, H)`` in ``like``'s packed layout."""
    return PackedSequence(out[rows, steps], like.batch_sizes, like.sorted_indices,
                          like.unsorted_indices)
