"""minLSTM (Feng et al. 2024, "Were RNNs All We Needed?"): an LSTM whose gates read only the
input, so that the whole sequence is one linear recurrence computed by a parallel scan.

    f_t = σ(W_f x_t + b_f)      i_t = σ(W_i x_t + b_i)      h~_t = W_h x_t + b_h
    f'_t = f_t / (f_t + i_t)    i'_t = i_t / (f_t + i_t)     (normalised: f' + i' = 1)
    h_t = f'_t ⊙ h_{t-1} + i'_t ⊙ h~_t

The normalised gates are computed as ``f' = σ(d)``, ``i' = σ(-d)`` with
``d = log σ(a_f) - log σ(a_i)``: equal to the quotients, without dividing two numbers that
may both underflow. Every ``a_t = f'_t`` and ``b_t = i'_t ⊙ h~_t`` is known before the first
step, so :meth:`MinLSTMCell.scan` computes ``h_t = a_t ⊙ h_{t-1} + b_t`` for all ``t`` at once
(:func:`linear_scan`); :meth:`MinLSTMCell.step` is the same math one step at a time, for
decoders and generation.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnkit.cells.base import Cell, State


def linear_scan(a: Tensor, b: Tensor, h0: Tensor, mask: Tensor | None = None) -> Tensor:
    """Every ``h_t = a_t ⊙ h_{t-1} + b_t`` at once: ``a, b (B, T, H)``, ``h0 (B, H)`` ->
    ``(B, T, H)``. A step where ``mask (B, T)`` is False carries the state unchanged.

    :class:`LinearRecurrence` runs the recurrence as one autograd node: forward and backward
    are loops of one fused elementwise op per step over ``(B, H)``, with no graph of T nodes
    and no ``(B, T, H)`` temporaries per round. No logarithm and no division is taken, so
    candidates of any sign are exact and a product of gates that underflows to 0 is the
    right answer. Its backward is made of differentiable ops, so double backward works.
    """
    if mask is not None:
        keep = mask.unsqueeze(-1)
        a = torch.where(keep, a, torch.ones_like(a))
        b = torch.where(keep, b, torch.zeros_like(b))
    return LinearRecurrence.apply(a, b, h0)


class LinearRecurrence(torch.autograd.Function):
    """``h_t = a_t ⊙ h_{t-1} + b_t`` over ``t``: ``(a, b, h0) -> h (B, T, H)``.

    Backward: with ``g_t`` the gradient reaching ``h_t`` (its own plus ``a_{t+1} ⊙ g_{t+1}``),
    ``∂L/∂b_t = g_t``, ``∂L/∂a_t = g_t ⊙ h_{t-1}`` and ``∂L/∂h_0 = a_1 ⊙ g_1``.
    """

    @staticmethod
    def forward(ctx, a: Tensor, b: Tensor, h0: Tensor) -> Tensor:
        # time-major copies: every step then reads and writes contiguous (B, H) blocks
        a_t, b_t = a.transpose(0, 1).contiguous(), b.transpose(0, 1).contiguous()
        out = torch.empty_like(b_t)
        h = h0
        for t in range(a_t.size(0)):
            h = torch.addcmul(b_t[t], a_t[t], h, out=out[t])
        ctx.save_for_backward(a_t, h0, out)
        return out.transpose(0, 1)

    @staticmethod
    def backward(ctx, grad: Tensor):
        a_t, h0, out = ctx.saved_tensors  # time-major (T, B, H)
        grad = grad.transpose(0, 1)
        carried = torch.zeros_like(h0)
        grads = []
        for t in range(a_t.size(0) - 1, -1, -1):
            g = grad[t] + carried
            grads.append(g)
            carried = a_t[t] * g
        g_all = torch.stack(grads[::-1])  # (T, B, H): ∂L/∂b
        previous = torch.cat([h0.unsqueeze(0), out[:-1]])
        return (g_all * previous).transpose(0, 1), g_all.transpose(0, 1), carried


class MinLSTMCell(Cell):
    """minLSTM: ``project`` gives ``[a_f, a_i, h~]`` (B, 3H) in one matmul.

    Parameters: ``weight_ih (3H, F)`` and ``bias_ih (3H,)``, rows ``[f; i; h~]``; no
    ``weight_hh`` (the state never enters a matmul, so there is nothing for DropConnect).
    """

    state_names = ("h",)
    gate_names = ("f", "i", "candidate")

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True) -> None:
        super().__init__(input_size, hidden_size)
        self.weight_ih = nn.Parameter(torch.empty(3 * hidden_size, input_size))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(3 * hidden_size))
        else:
            self.register_parameter("bias_ih", None)
        self.reset_parameters()

    def project(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight_ih, self.bias_ih)

    @staticmethod
    def _coefficients(xp: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """``(f', i', h~, i' ⊙ h~)`` of projected inputs ``xp (..., 3H)``."""
        a_f, a_i, candidate = xp.chunk(3, -1)
        d = F.logsigmoid(a_f) - F.logsigmoid(a_i)
        keep, take = torch.sigmoid(d), torch.sigmoid(-d)
        return keep, take, candidate, take * candidate

    def step(self, xp: Tensor, state: State, *, weight_hh: Tensor | None = None,
             h_mask: Tensor | None = None) -> tuple[State, tuple[Tensor, ...]]:
        """``h' = f' ⊙ h + i' ⊙ h~`` from ``xp (B, 3H)``; ``weight_hh`` must be None (there
        is no recurrent weight) and ``h_mask`` is ignored (no recurrent matmul to drop)."""
        if weight_hh is not None:
            raise ValueError("MinLSTMCell has no recurrent weight: weight_hh must be None")
        (h,) = state
        keep, take, candidate, pushed = self._coefficients(xp)
        return (torch.addcmul(pushed, keep, h),), (keep, take, candidate)

    def scan(self, xp: Tensor, state: State, mask: Tensor | None = None) -> tuple[Tensor, State]:
        """Every step at once (:func:`linear_scan`): ``xp (B, T, 3H)`` -> ``(B, T, H)``."""
        (h0,) = state
        keep, _, _, pushed = self._coefficients(xp)
        out = linear_scan(keep, pushed, h0, mask)
        return out, (out[:, -1],)
