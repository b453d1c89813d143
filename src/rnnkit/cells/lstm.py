"""Long short-term memory (torch.nn.LSTMCell), with optional projection and forget bias."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnkit.cells.base import Cell, NativeSpec, PreparedRecurrence, State


class LSTMCell(PreparedRecurrence, Cell):
    r"""LSTM step, exactly torch.nn.LSTM's equations and gate order (i, f, g, o)::

        i = σ(W_ii x + b_ii + W_hi h + b_hi)
        f = σ(W_if x + b_if + W_hf h + b_hf)
        g = tanh(W_ig x + b_ig + W_hg h + b_hg)
        o = σ(W_io x + b_io + W_ho h + b_ho)
        c' = f ⊙ c + i ⊙ g
        h' = o ⊙ tanh(c')                 (h' = W_hr (o ⊙ tanh(c')) when proj_size > 0)

    Shapes: x ``(B, F)``, h ``(B, P)`` with ``P = proj_size or H``, c ``(B, H)``;
    ``weight_ih (4H, F)``, ``weight_hh (4H, P)``, ``bias_ih (4H,)``, ``bias_hh (4H,)``,
    ``weight_hr (P, H)``. ``forget_bias`` (e.g. 1.0, Jozefowicz et al. 2015) sets the forget
    slice of ``bias_ih`` to that value and of ``bias_hh`` to zero, so their sum is exactly it.
    """

    state_names = ("h", "c")
    gate_names = ("i", "f", "g", "o")

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        proj_size: int = 0,
        forget_bias: float | None = None,
    ) -> None:
        super().__init__(input_size, hidden_size)
        if proj_size < 0 or proj_size >= hidden_size and proj_size != 0:
            raise ValueError(f"proj_size must be in [0, hidden_size), got {proj_size}")
        if forget_bias is not None and not bias:
            raise ValueError("forget_bias needs bias=True")
        self.bias = bias
        self.proj_size = int(proj_size)
        self.forget_bias = forget_bias
        out = proj_size or hidden_size
        self.weight_ih = nn.Parameter(torch.empty(4 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(4 * hidden_size, out))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(4 * hidden_size))
            self.bias_hh = nn.Parameter(torch.empty(4 * hidden_size))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        if proj_size:
            self.weight_hr = nn.Parameter(torch.empty(proj_size, hidden_size))
        else:
            self.register_parameter("weight_hr", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        if self.forget_bias is not None:
            H = self.hidden_size
            with torch.no_grad():
                self.bias_ih[H : 2 * H].fill_(self.forget_bias)
                self.bias_hh[H : 2 * H].zero_()

    @property
    def state_sizes(self) -> tuple[int, ...]:
        return (self.proj_size or self.hidden_size, self.hidden_size)

    def project(self, x: Tensor) -> Tensor:
        bias = self.bias_ih + self.bias_hh if self.bias else None
        return F.linear(x, self.weight_ih, bias)

    def _advance(self, xp, state, weights, h_mask) -> tuple[State, tuple[Tensor, ...]]:
        h, c = state
        h_in = h if h_mask is None else h * h_mask
        # chunk is one autograd node whose backward is one cat; four slices would each
        # zero-fill a (B, 4H) gradient and add them up
        i, f, g, o = torch.addmm(xp, h_in, weights).chunk(4, 1)  # 4 x (B, H)
        i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
        c_new = torch.addcmul(f * c, i, g)
        h_new = o * c_new.tanh()
        if self.weight_hr is not None:
            h_new = h_new @ self.weight_hr.t()
        return (h_new, c_new), (i, f, g, o)

    def native_spec(self) -> NativeSpec | None:
        weights = [self.weight_ih, self.weight_hh]
        if self.bias:
            weights += [self.bias_ih, self.bias_hh]
        if self.weight_hr is not None:
            weights.append(self.weight_hr)
        return NativeSpec("LSTM", tuple(weights), self.bias)

    def extra_repr(self) -> str:
        extra = f", proj_size={self.proj_size}" if self.proj_size else ""
        if self.forget_bias is not None:
            extra += f", forget_bias={self.forget_bias}"
        return f"{self.input_size}, {self.hidden_size}{extra}"
