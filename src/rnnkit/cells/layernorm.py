"""Layer-normalised LSTM and GRU (Ba et al. 2016; the variants haste ships).

Each is one small file's worth of math on top of the Cell contract: the proof that a new cell
gets every layer feature (directions, lengths, stacking, dropouts, trajectories) for free.
A step's math is a plain function (:func:`ln_lstm_step`, :func:`ln_gru_step`) shared by the
cell's ``step`` and by its whole-sequence ``scan`` (:mod:`rnnkit.cells.layernorm_scan`), whose
hand-written backward falls back to it for double backward.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnkit.cells.base import Cell, PreparedRecurrence, State
from rnnkit.cells.layernorm_scan import (
    LayerNormGRUSequence,
    LayerNormLSTMSequence,
    ln_gru_step,
    ln_lstm_step,
    reference_scan,
)


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

    def _ln_parameters(self) -> tuple:
        """What the recurrence reads besides ``weight_hh``: gains, shifts and epsilons."""
        return (self.ln_hh.weight, self.ln_c.weight, self.ln_c.bias, self.ln_hh.eps, self.ln_c.eps)

    def _advance(self, xp, state, weights, h_mask) -> tuple[State, tuple[Tensor, ...]]:
        return ln_lstm_step(xp, state, weights, *self._ln_parameters(), h_mask=h_mask)

    def scan(self, xp: Tensor, state: State, mask: Tensor | None = None) -> tuple[Tensor, State]:
        """Every step as one autograd node (:class:`LayerNormLSTMSequence`): ``xp (B, T, 4H)``
        -> ``(B, T, H)``. Under autocast the step loop runs instead (its dtypes are autocast's)."""
        if torch.is_autocast_enabled(xp.device.type):
            return reference_scan(ln_lstm_step, xp, state, mask, self.weight_hh,
                                  self._ln_parameters())
        h0, c0 = state
        hs, c_last = LayerNormLSTMSequence.apply(xp, h0, c0, self.weight_hh, mask,
                                                 *self._ln_parameters())
        return hs.transpose(0, 1), (hs[-1], c_last)


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

    def _ln_parameters(self) -> tuple:
        """What the recurrence reads besides ``weight_hh``: ``ln_hh``'s gain, shift, epsilon."""
        return (self.ln_hh.weight, self.ln_hh.bias, self.ln_hh.eps)

    def _advance(self, xp, state, weights, h_mask) -> tuple[State, tuple[Tensor, ...]]:
        return ln_gru_step(xp, state, weights, *self._ln_parameters(), h_mask=h_mask)

    def scan(self, xp: Tensor, state: State, mask: Tensor | None = None) -> tuple[Tensor, State]:
        """Every step as one autograd node (:class:`LayerNormGRUSequence`): ``xp (B, T, 3H)``
        -> ``(B, T, H)``. Under autocast the step loop runs instead (its dtypes are autocast's)."""
        if torch.is_autocast_enabled(xp.device.type):
            return reference_scan(ln_gru_step, xp, state, mask, self.weight_hh,
                                  self._ln_parameters())
        (h0,) = state
        hs = LayerNormGRUSequence.apply(xp, h0, self.weight_hh, mask, *self._ln_parameters())
        return hs.transpose(0, 1), (hs[-1],)
