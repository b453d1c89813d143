"""Layer-normalised LSTM and GRU (Ba et al. 2016; the variants haste ships).

Each is one small file's worth of math on top of the Cell contract: the proof that a new cell
gets every layer feature (directions, lengths, stacking, dropouts, trajectories) for free.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnkit.cells.base import Cell, PreparedRecurrence, State


class LayerNormLSTMCell(PreparedRecurrence, Cell):
    r"""LSTM with layer normalisation of both pre-activations and of the cell state::

        a = LN_ih(W_ih x) + LN_hh(W_hh h)                     (B, 4H), gates split as i, f, g, o
        c' = σ(a_f) ⊙ c + σ(a_i) ⊙ tanh(a_g)
        h' = σ(a_o) ⊙ tanh(LN_c(c'))

    The biases are the LayerNorms' shifts (``ln_ih.bias`` plays the role of ``b_ih + b_hh``;
    ``ln_hh`` has a gain only). Gains start at 1 and shifts at 0 (``forget_bias`` on the f block).
    """

    state_names = ("h", "c")
    gate_names = ("i", "f", "g", "o")

    def __init__(
        self, input_size: int, hidden_size: int, forget_bias: float | None = None, eps: float = 1e-5
    ) -> None:
        super().__init__(input_size, hidden_size)
        self.forget_bias = forget_bias
        self.weight_ih = nn.Parameter(torch.empty(4 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(4 * hidden_size, hidden_size))
        self.ln_ih = nn.LayerNorm(4 * hidden_size, eps=eps)
        self.ln_hh = nn.LayerNorm(4 * hidden_size, eps=eps, bias=False)
        self.ln_c = nn.LayerNorm(hidden_size, eps=eps)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = self.hidden_size**-0.5
        nn.init.uniform_(self.weight_ih, -bound, bound)
        nn.init.uniform_(self.weight_hh, -bound, bound)
        for ln in (self.ln_ih, self.ln_hh, self.ln_c):
            ln.reset_parameters()
        if self.forget_bias is not None:
            H = self.hidden_size
            with torch.no_grad():
                self.ln_ih.bias[H : 2 * H].fill_(self.forget_bias)

    def project(self, x: Tensor) -> Tensor:
        return self.ln_ih(F.linear(x, self.weight_ih))

    def _advance(self, xp, state, weights, h_mask) -> tuple[State, tuple[Tensor, ...]]:
        h, c = state
        h_in = h if h_mask is None else h * h_mask
        # one chunk node instead of four slices (see LSTMCell)
        i, f, g, o = (xp + self.ln_hh(h_in.mm(weights))).chunk(4, 1)
        i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
        c_new = torch.addcmul(f * c, i, g)
        h_new = o * self.ln_c(c_new).tanh()
        return (h_new, c_new), (i, f, g, o)


class LayerNormGRUCell(PreparedRecurrence, Cell):
    r"""GRU (reset after the recurrent matmul) with layer-normalised pre-activations::

        a = LN_ih(W_ih x)        b = LN_hh(W_hh h)              both (B, 3H), split r, z, n
        r = σ(a_r + b_r)    z = σ(a_z + b_z)    n = tanh(a_n + r ⊙ b_n)
        h' = (1 - z) ⊙ n + z ⊙ h
    """

    state_names = ("h",)
    gate_names = ("r", "z", "n")

    def __init__(self, input_size: int, hidden_size: int, eps: float = 1e-5) -> None:
        super().__init__(input_size, hidden_size)
        self.weight_ih = nn.Parameter(torch.empty(3 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(3 * hidden_size, hidden_size))
        self.ln_ih = nn.LayerNorm(3 * hidden_size, eps=eps)
        self.ln_hh = nn.LayerNorm(3 * hidden_size, eps=eps)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = self.hidden_size**-0.5
        nn.init.uniform_(self.weight_ih, -bound, bound)
        nn.init.uniform_(self.weight_hh, -bound, bound)
        self.ln_ih.reset_parameters()
        self.ln_hh.reset_parameters()

    def project(self, x: Tensor) -> Tensor:
        return self.ln_ih(F.linear(x, self.weight_ih))

    def _advance(self, xp, state, weights, h_mask) -> tuple[State, tuple[Tensor, ...]]:
        (h,) = state
        H = self.hidden_size
        h_in = h if h_mask is None else h * h_mask
        xp_rz, xp_n = xp.split(2 * H, 1)
        hh_rz, hh_n = self.ln_hh(h_in.mm(weights)).split(2 * H, 1)
        r, z = (xp_rz + hh_rz).sigmoid().chunk(2, 1)
        n = torch.addcmul(xp_n, r, hh_n).tanh()
        h_new = torch.lerp(n, h, z)
        return (h_new,), (r, z, n)
