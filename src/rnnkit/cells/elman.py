"""Elman RNN (torch.nn.RNNCell, Keras SimpleRNN)."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnkit.cells.base import Cell, NativeSpec, PreparedRecurrence, State

_ACTIVATIONS = {"tanh": torch.tanh, "relu": torch.relu}


class ElmanCell(PreparedRecurrence, Cell):
    r"""Elman recurrence, exactly torch.nn.RNNCell::

        h' = act(W_ih x + b_ih + W_hh h + b_hh)        act = tanh or relu

    Shapes: x ``(B, F)``, h ``(B, H)``; ``weight_ih (H, F)``, ``weight_hh (H, H)``,
    ``bias_ih (H,)``, ``bias_hh (H,)``. The only gate is the new state itself, named ``"h"``.
    """

    state_names = ("h",)
    gate_names = ("h",)

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh"
    ) -> None:
        super().__init__(input_size, hidden_size)
        if nonlinearity not in _ACTIVATIONS:
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        self.bias = bias
        self.weight_ih = nn.Parameter(torch.empty(hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(hidden_size, hidden_size))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(hidden_size))
            self.bias_hh = nn.Parameter(torch.empty(hidden_size))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def project(self, x: Tensor) -> Tensor:
        # both biases join the input side, so the step is a single addmm
        bias = self.bias_ih + self.bias_hh if self.bias else None
        return F.linear(x, self.weight_ih, bias)

    def _advance(self, xp, state, weights, h_mask) -> tuple[State, tuple[Tensor, ...]]:
        (h,) = state
        h_in = h if h_mask is None else h * h_mask
        h_new = _ACTIVATIONS[self.nonlinearity](torch.addmm(xp, h_in, weights))
        return (h_new,), (h_new,)

    def native_spec(self) -> NativeSpec | None:
        weights = [self.weight_ih, self.weight_hh]
        if self.bias:
            weights += [self.bias_ih, self.bias_hh]
        return NativeSpec("RNN_" + self.nonlinearity.upper(), tuple(weights), self.bias)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, nonlinearity={self.nonlinearity!r}"
