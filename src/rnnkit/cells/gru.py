"""Gated recurrent unit: reset after the recurrent matmul (torch.nn, cuDNN) or before (Cho 2014)."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnkit.cells.base import Cell, NativeSpec, PreparedRecurrence, State


def _linear(x: Tensor, w_t: Tensor, b: Tensor | None) -> Tensor:
    """``F.linear(x, w_t.t(), b)`` from the transposed weight: the same addmm or mm."""
    return x.mm(w_t) if b is None else torch.addmm(b, x, w_t)


class GRUCell(PreparedRecurrence, Cell):
    r"""GRU step with torch.nn.GRU's gate order (r, z, n)::

        r = σ(W_ir x + b_ir + W_hr h + b_hr)
        z = σ(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))          reset_after=True (torch.nn)
        n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn)          reset_after=False (Cho et al.)
        h' = (1 - z) ⊙ n + z ⊙ h

    Shapes: x ``(B, F)``, h ``(B, H)``; ``weight_ih (3H, F)``, ``weight_hh (3H, H)``,
    ``bias_ih (3H,)``, ``bias_hh (3H,)``: the same parameters in both variants, so weights load
    either way (the variants compute different functions of them).
    """

    state_names = ("h",)
    gate_names = ("r", "z", "n")

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, reset_after: bool = True
    ) -> None:
        super().__init__(input_size, hidden_size)
        self.bias = bias
        self.reset_after = reset_after
        self.weight_ih = nn.Parameter(torch.empty(3 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(3 * hidden_size, hidden_size))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(3 * hidden_size))
            self.bias_hh = nn.Parameter(torch.empty(3 * hidden_size))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def project(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight_ih, self.bias_ih)

    def _prepare(self, w: Tensor) -> tuple[Tensor | None, ...]:
        """``(w.t(), b_hh)``, or for reset_after=False ``(w_rz.t(), w_n.t(), b_rz, b_n)``."""
        if self.reset_after:
            return w.t(), self.bias_hh
        b_rz, b_n = self.bias_hh.split(2 * self.hidden_size) if self.bias else (None, None)
        w_rz_t, w_n_t = w.t().split(2 * self.hidden_size, 1)
        return w_rz_t, w_n_t, b_rz, b_n

    def _advance(self, xp, state, weights, h_mask) -> tuple[State, tuple[Tensor, ...]]:
        (h,) = state
        h_in = h if h_mask is None else h * h_mask
        # split/chunk: one autograd node per cut, where slices take one each and zero-fill
        # a full-width gradient in backward
        xp_rz, xp_n = xp.split(2 * self.hidden_size, 1)  # (B, 2H), (B, H)
        if self.reset_after:
            w_t, b = weights
            hh_rz, hh_n = _linear(h_in, w_t, b).split(2 * self.hidden_size, 1)
            r, z = (xp_rz + hh_rz).sigmoid().chunk(2, 1)
            n = torch.addcmul(xp_n, r, hh_n).tanh()
        else:
            w_rz_t, w_n_t, b_rz, b_n = weights
            r, z = (xp_rz + _linear(h_in, w_rz_t, b_rz)).sigmoid().chunk(2, 1)
            n = (xp_n + _linear(r * h_in, w_n_t, b_n)).tanh()
        h_new = torch.lerp(n, h, z)  # n + z (h - n) = (1 - z) n + z h
        return (h_new,), (r, z, n)

    def native_spec(self) -> NativeSpec | None:
        if not self.reset_after:
            return None
        weights = [self.weight_ih, self.weight_hh]
        if self.bias:
            weights += [self.bias_ih, self.bias_hh]
        return NativeSpec("GRU", tuple(weights), self.bias)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, reset_after={self.reset_after}"
