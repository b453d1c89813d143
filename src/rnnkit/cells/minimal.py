"""minGRU and minLSTM (Feng et al. 2024, "Were RNNs All We Needed?"): a GRU and an LSTM whose
gates read only the input, so that a whole sequence is one linear recurrence.

minGRU::

    z_t = σ(W_z x_t + b_z)      h~_t = W_h x_t + b_h
    h_t = (1 - z_t) ⊙ h_{t-1} + z_t ⊙ h~_t

minLSTM::

    f_t = σ(W_f x_t + b_f)      i_t = σ(W_i x_t + b_i)      h~_t = W_h x_t + b_h
    f'_t = f_t / (f_t + i_t)    i'_t = i_t / (f_t + i_t)     (normalised: f' + i' = 1)
    h_t = f'_t ⊙ h_{t-1} + i'_t ⊙ h~_t

Both are ``h_t = lerp(h_{t-1}, h~_t, w_t)`` with ``w = z`` or ``w = i'`` (minLSTM computes
``i' = σ(log σ(a_i) - log σ(a_f))``: the quotient, without dividing two numbers that may both
underflow). ``step`` is that one step at a time, for decoders and generation; ``scan`` is
every step at once, gates included, as one autograd node (:func:`~rnnkit.cells.scans.lerp_scan`),
equal to the step loop. Parameters: ``weight_ih (G*H, F)`` and ``bias_ih (G*H,)`` only; there
is no ``weight_hh`` (the state never enters a matmul, so DropConnect and recurrent dropout have
nothing to act on).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnkit.cells.base import Cell, State
from rnnkit.cells.scans import Gates, MinGRUGates, MinLSTMGates, lerp_scan, linear_scan

__all__ = ["MinGRUCell", "MinLSTMCell", "linear_scan"]  # linear_scan: for cells of one's own


class InputGatedCell(Cell):
    """A cell ``h' = lerp(h, h~, w)`` whose ``w`` and ``h~`` read only the projected input
    ``xp (B, G*H)`` (``G = gates.parts``, the candidate last)."""

    state_names = ("h",)
    gates: Gates

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True) -> None:
        super().__init__(input_size, hidden_size)
        rows = self.gates.parts * hidden_size
        self.weight_ih = nn.Parameter(torch.empty(rows, input_size))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(rows))
        else:
            self.register_parameter("bias_ih", None)
        self.reset_parameters()

    def project(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight_ih, self.bias_ih)  # (..., F) -> (..., G*H)

    def _gates(self, xp: Tensor, w: Tensor) -> tuple[Tensor, ...]:
        raise NotImplementedError

    def step(self, xp: Tensor, state: State, *, weight_hh: Tensor | None = None,
             h_mask: Tensor | None = None) -> tuple[State, tuple[Tensor, ...]]:
        """``h' = h + w ⊙ (h~ - h)`` from ``xp (B, G*H)``; ``weight_hh`` must be None (there is
        no recurrent weight) and ``h_mask`` is ignored (no recurrent matmul to drop)."""
        if weight_hh is not None:
            raise ValueError(f"{type(self).__name__} has no recurrent weight: weight_hh must "
                             "be None")
        (h,) = state
        w, candidate = self.gates.weight(xp), xp[..., -self.hidden_size:]
        dtype = torch.promote_types(xp.dtype, h.dtype)  # autocast: a bf16 xp, a float32 h
        new = torch.lerp(h.to(dtype), candidate.to(dtype), w.to(dtype))
        return (new,), self._gates(xp, w)

    def scan(self, xp: Tensor, state: State, mask: Tensor | None = None) -> tuple[Tensor, State]:
        """Every step at once: ``xp (B, T, G*H)``, ``state = (h_0,)`` -> ``(B, T, H)``."""
        (h0,) = state
        out = lerp_scan(self.gates, xp, h0, mask)
        return out, (out[:, -1],)


class MinGRUCell(InputGatedCell):
    """minGRU: ``project`` gives ``[W_z x + b_z, W_h x + b_h]`` (B, 2H), rows ``[z; h~]``."""

    gate_names = ("z", "candidate")
    gates = MinGRUGates

    def _gates(self, xp: Tensor, w: Tensor) -> tuple[Tensor, ...]:
        return w, xp[..., self.hidden_size:]


class MinLSTMCell(InputGatedCell):
    """minLSTM: ``project`` gives ``[a_f, a_i, h~]`` (B, 3H), rows ``[f; i; h~]``; its gates are
    the normalised ``(f', i', h~)``."""

    gate_names = ("f", "i", "candidate")
    gates = MinLSTMGates

    def _gates(self, xp: Tensor, w: Tensor) -> tuple[Tensor, ...]:
        return torch.rsub(w, 1), w, xp[..., 2 * self.hidden_size:]
