"""Drop-ins for torch.nn.RNNCell, LSTMCell and GRUCell that are also rnnkit cells.

Each is a subclass of the rnnkit cell with the same math (:class:`~rnnkit.cells.ElmanCell`,
:class:`~rnnkit.cells.LSTMCell`, :class:`~rnnkit.cells.GRUCell`), so it runs inside
:class:`~rnnkit.layers.Recurrent` through ``project``/``step``; only the constructor (torch's
arguments, ``device``/``dtype``, torch's initialisation and random stream) and ``forward``
(torch's signature, computed by torch's own cell kernel, so bit for bit torch.nn's) differ.
"""

from __future__ import annotations

import torch
from torch import _VF, Tensor

from rnnkit import cells as rk
from rnnkit.cells import Cell


def _materialise(cell: Cell, device, dtype) -> None:
    """Give a cell built on the meta device real storage, then torch.nn's initialisation.

    torch.nn draws its uniform weights after choosing device and dtype; doing the same keeps
    ``torch.manual_seed(s); RNNCell(...)`` equal to ``torch.manual_seed(s); torch.nn.RNNCell(...)``.
    """
    cell.to_empty(device=device if device is not None else torch.get_default_device())
    if dtype is not None:
        cell.to(dtype=dtype)
    cell.reset_parameters()


def _torch_repr(cell: Cell) -> str:
    text = f"{cell.input_size}, {cell.hidden_size}"
    if cell.bias is not True:
        text += f", bias={cell.bias}"
    if getattr(cell, "nonlinearity", "tanh") != "tanh":
        text += f", nonlinearity={cell.nonlinearity}"
    return text


def _hidden_or_zeros(cell: Cell, x: Tensor, hx: Tensor | None, batched: bool) -> Tensor:
    if hx is None:
        return x.new_zeros(x.size(0), cell.hidden_size)
    return hx if batched else hx.unsqueeze(0)


def _check_call(cell: Cell, input: Tensor, hx: tuple[Tensor, ...] | None) -> bool:
    """Check one step's input ``(B, F)`` or ``(F,)`` and states; True when batched."""
    name = type(cell).__name__
    features = cell.input_size
    if not isinstance(input, Tensor) or input.dim() not in (1, 2) or input.size(-1) != features:
        shape = tuple(input.shape) if isinstance(input, Tensor) else type(input).__name__
        raise ValueError(f"{name} expects input of shape (batch, {features}) or unbatched "
                         f"({features},), got {shape}")
    weight = cell.weight_ih
    if input.dtype != weight.dtype:
        raise ValueError(f"{name}: input dtype {input.dtype} differs from the weights' "
                         f"{weight.dtype}; convert one with .to()")
    batched = input.dim() == 2
    if hx is None:
        return batched
    for state_name, state, size in zip(cell.state_names, hx, cell.state_sizes):
        expected = (input.size(0), size) if batched else (size,)
        if not isinstance(state, Tensor) or tuple(state.shape) != expected:
            shape = tuple(state.shape) if isinstance(state, Tensor) else type(state).__name__
            raise ValueError(f"{name}: {state_name} must have shape {expected} for input of "
                             f"shape {tuple(input.shape)}, got {shape}")
    return batched


class RNNCell(rk.ElmanCell):
    r"""torch.nn.RNNCell: ``h' = act(W_ih x + b_ih + W_hh h + b_hh)``, act = tanh or relu.

    ``forward(input (B, F) or (F,), hx (B, H) or (H,) = zeros) -> h'`` of hx's shape.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device=None, dtype=None) -> None:
        with torch.device("meta"):
            super().__init__(input_size, hidden_size, bias, nonlinearity)
        _materialise(self, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # type: ignore[override]
        batched = _check_call(self, input, None if hx is None else (hx,))
        x = input if batched else input.unsqueeze(0)
        h = _hidden_or_zeros(self, x, hx, batched)
        kernel = _VF.rnn_tanh_cell if self.nonlinearity == "tanh" else _VF.rnn_relu_cell
        out = kernel(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return out if batched else out.squeeze(0)

    def extra_repr(self) -> str:
        return _torch_repr(self)


class LSTMCell(rk.LSTMCell):
    r"""torch.nn.LSTMCell (gates i, f, g, o; equations in :class:`rnnkit.cells.LSTMCell`).

    ``forward(input (B, F) or (F,), hx=(h (B, H), c (B, H)) = zeros) -> (h', c')``.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device=None, dtype=None) -> None:
        with torch.device("meta"):
            super().__init__(input_size, hidden_size, bias)
        _materialise(self, device, dtype)

    def forward(  # type: ignore[override]
        self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, Tensor]:
        if hx is not None and not (isinstance(hx, (tuple, list)) and len(hx) == 2):
            raise ValueError(f"LSTMCell: hx must be a pair (h, c), got {type(hx).__name__}")
        batched = _check_call(self, input, hx)
        x = input if batched else input.unsqueeze(0)
        if hx is None:
            zeros = x.new_zeros(x.size(0), self.hidden_size)
            hx = (zeros, zeros)
        elif not batched:
            hx = (hx[0].unsqueeze(0), hx[1].unsqueeze(0))
        h, c = _VF.lstm_cell(x, tuple(hx), self.weight_ih, self.weight_hh, self.bias_ih,
                             self.bias_hh)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))

    def extra_repr(self) -> str:
        return _torch_repr(self)


class GRUCell(rk.GRUCell):
    r"""torch.nn.GRUCell (gates r, z, n; equations in :class:`rnnkit.cells.GRUCell`).

    ``forward(input (B, F) or (F,), hx (B, H) or (H,) = zeros) -> h'`` of hx's shape.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device=None, dtype=None) -> None:
        with torch.device("meta"):
            super().__init__(input_size, hidden_size, bias)
        _materialise(self, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # type: ignore[override]
        batched = _check_call(self, input, None if hx is None else (hx,))
        x = input if batched else input.unsqueeze(0)
        h = _hidden_or_zeros(self, x, hx, batched)
        out = _VF.gru_cell(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return out if batched else out.squeeze(0)

    def extra_repr(self) -> str:
        return _torch_repr(self)
