"""Torch's fused recurrent kernels behind rnnkit's interface.

The reference loop in :mod:`rnnkit.layers.recurrent` is the specification. This module runs the
same computation through ``torch._VF.lstm / gru / rnn_tanh / rnn_relu`` (what torch.nn.LSTM
calls) for cells that declare a :class:`~rnnkit.cells.NativeSpec`. Ragged batches go through
packed sequences; left padding and reversal are turned into right-padded forward sequences by a
gather, and turned back the same way.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnnkit.cells.base import NativeSpec, State
from rnnkit.layers.masks import Steps

_KERNELS = {
    "LSTM": torch._VF.lstm,
    "GRU": torch._VF.gru,
    "RNN_TANH": torch._VF.rnn_tanh,
    "RNN_RELU": torch._VF.rnn_relu,
}


def _to_hx(mode: str, state: State):
    """rnnkit's ``(B, size)`` state tuple -> the kernel's ``(1, B, size)`` hx."""
    if mode == "LSTM":
        return (state[0].unsqueeze(0), state[1].unsqueeze(0))
    return state[0].unsqueeze(0)


def _from_hx(mode: str, hx) -> State:
    if mode == "LSTM":
        return (hx[0].squeeze(0), hx[1].squeeze(0))
    return (hx.squeeze(0),)


def _call(spec: NativeSpec, weights: list[Tensor], x: Tensor, hx, batch_sizes=None):
    kernel = _KERNELS[spec.mode]
    if batch_sizes is None:
        out = kernel(x, hx, weights, spec.has_biases, 1, 0.0, False, False, True)
    else:
        out = kernel(x, batch_sizes, hx, weights, spec.has_biases, 1, 0.0, False, False)
    if spec.mode == "LSTM":
        return out[0], (out[1], out[2])
    return out[0], out[1]


def _source_index(steps: Steps, total: int, reverse: bool) -> Tensor:
    """For each row, the original step that lands at position j of the right-padded layout."""
    j = torch.arange(total, device=steps.lengths.device).unsqueeze(0)
    last = (steps.lengths - 1).clamp(min=0).unsqueeze(1)
    offset = (last - j).clamp(min=0) if reverse else torch.minimum(j, last)
    return steps.starts.unsqueeze(1) + offset


def _target_index(steps: Steps, total: int, reverse: bool) -> Tensor:
    """For each original step, its position in the right-padded layout (clamped at padding)."""
    t = torch.arange(total, device=steps.lengths.device).unsqueeze(0)
    rel = t - steps.starts.unsqueeze(1)
    if reverse:
        rel = steps.lengths.unsqueeze(1) - 1 - rel
    return rel.clamp(0, total - 1)


def _gather_steps(x: Tensor, index: Tensor) -> Tensor:
    return x.gather(1, index.unsqueeze(-1).expand(-1, -1, x.size(-1)))


def run_native(
    spec: NativeSpec,
    x: Tensor,
    state: State,
    steps: Steps | None,
    reverse: bool,
    weight_hh: Tensor | None = None,
) -> tuple[Tensor, State]:
    """Run a cell's fused kernel over ``x (B, T, F)``: outputs ``(B, T, H)`` and the final state.

    ``steps`` must be None or contiguous. Outputs at padded steps are zero; rows of length zero
    return ``state`` unchanged.
    """
    weights = list(spec.weights)
    if weight_hh is not None:
        weights[1] = weight_hh
    hx = _to_hx(spec.mode, state)
    total = x.size(1)
    if steps is None:
        if reverse:
            out, hn = _call(spec, weights, x.flip(1), hx)
            return out.flip(1), _from_hx(spec.mode, hn)
        out, hn = _call(spec, weights, x, hx)
        return out, _from_hx(spec.mode, hn)

    simple = steps.right_padded and not reverse
    x_r = x if simple else _gather_steps(x, _source_index(steps, total, reverse))
    # the kernel cannot run empty rows: give them one step of zeros and discard what it computes
    # (zeros, not the row's padding: a NaN there would reach the gradients through 0 * NaN)
    empty = steps.lengths == 0
    if bool(empty.any()):
        x_r = x_r.masked_fill(empty.view(-1, 1, 1), 0.0)
    packed = pack_padded_sequence(x_r, steps.lengths.clamp(min=1).cpu(), batch_first=True,
                                  enforce_sorted=False)
    order, unorder = packed.sorted_indices, packed.unsorted_indices
    if spec.mode == "LSTM":
        hx_sorted = (hx[0].index_select(1, order), hx[1].index_select(1, order))
    else:
        hx_sorted = hx.index_select(1, order)
    out_data, hn = _call(spec, weights, packed.data, hx_sorted, packed.batch_sizes)
    out_packed = packed._replace(data=out_data)
    out_r, _ = pad_packed_sequence(out_packed, batch_first=True, total_length=total)
    final = _from_hx(spec.mode, hn)
    final = tuple(s.index_select(0, unorder) for s in final)
    if bool(empty.any()):
        keep = empty.unsqueeze(1)
        final = tuple(torch.where(keep, s0, s) for s0, s in zip(state, final))
    out = out_r if simple else _gather_steps(out_r, _target_index(steps, total, reverse))
    if not simple or bool(empty.any()):
        out = out.masked_fill(~steps.mask.unsqueeze(-1), 0.0)
    return out, final
