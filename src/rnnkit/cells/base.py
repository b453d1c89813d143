"""The Cell contract: the math of one time step, and nothing else.

A cell splits its work in two so that layers can be fast and decoders can be simple:

- ``project(x)``: the input's contribution, ``(..., F) -> (..., G*H)``. A layer calls it once
  on the whole sequence ``(B, T, F)``: one matmul instead of T.
- ``step(xp_t, state)``: one step of the recurrence from the projected input ``(B, G*H)`` and
  the state (a tuple of ``(B, size)`` tensors, in ``state_names`` order). It returns
  ``(new_state, gates)``; the step's output is ``new_state[0]``, the cell's ``h``.

``step`` also takes two optional keywords that the layer's regularisers need and that every
cell must honour: ``weight_hh`` (a replacement for the recurrent weight, for DropConnect) and
``h_mask`` (a ``(B, H)`` mask multiplied into ``h`` where it enters the recurrent matmul only,
for recurrent dropout).

A cell may also define ``_sequence_step(weight_hh=None, h_mask=None)``, returning a function
``(xp_t, state) -> (new_state, gates)`` equal to ``step`` with per-sequence work done once (the
built-in cells get both from :class:`PreparedRecurrence`, which transposes ``weight_hh`` there);
layers use it only when the same class defines ``step``, so overriding ``step`` alone is safe.

Two doors to whole-sequence speed, used by layers when nothing needs the per-step view
(trajectories, recurrent dropout, zoneout):

- a cell whose math is exactly one of torch's fused kernels says so through ``native_spec``;
  layers then run it at torch.nn's speed;
- any cell may override ``scan(xp, state, mask)``: the whole sequence at once (a parallel scan
  for minGRU-style cells whose gates read only the input, or a kernel of its own). It must equal
  ``step`` applied at every step; ``tests/test_cells.py`` checks every registered cell that
  has one against the step loop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial

import torch
from torch import Tensor, nn

State = tuple[Tensor, ...]


@dataclass(frozen=True)
class NativeSpec:
    """How torch's fused kernel runs a cell: its mode and weights in torch.nn's flat order."""

    mode: str  # "LSTM", "GRU", "RNN_TANH" or "RNN_RELU"
    weights: tuple[Tensor, ...]  # weight_ih, weight_hh[, bias_ih, bias_hh][, weight_hr]
    has_biases: bool


class Cell(nn.Module):
    """Base class of every recurrent cell. Subclasses set the class attributes below."""

    state_names: tuple[str, ...] = ("h",)
    gate_names: tuple[str, ...] = ()

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        if input_size <= 0 or hidden_size <= 0:
            raise ValueError(
                f"input_size and hidden_size must be positive, got {input_size} and {hidden_size}"
            )
        self.input_size = int(input_size)
        self.hidden_size = int(hidden_size)

    # -- sizes -------------------------------------------------------------------------
    @property
    def state_sizes(self) -> tuple[int, ...]:
        """The feature size of each state tensor, in ``state_names`` order."""
        return (self.hidden_size,) * len(self.state_names)

    @property
    def output_size(self) -> int:
        """The size of a step's output, ``new_state[0]``."""
        return self.state_sizes[0]

    # -- the contract ------------------------------------------------------------------
    def project(self, x: Tensor) -> Tensor:
        """The input's part of every pre-activation: ``(..., F) -> (..., G*H)``."""
        raise NotImplementedError

    def step(
        self,
        xp: Tensor,
        state: State,
        *,
        weight_hh: Tensor | None = None,
        h_mask: Tensor | None = None,
    ) -> tuple[State, tuple[Tensor, ...]]:
        """One step: ``(B, G*H), state -> (new_state, gates)``."""
        raise NotImplementedError

    def initial_state(
        self, batch: int, device: torch.device | None = None, dtype: torch.dtype | None = None
    ) -> State:
        """Zeros, one ``(batch, size)`` tensor per state."""
        ref = next(self.parameters(), None)
        device = device if device is not None else (ref.device if ref is not None else None)
        dtype = dtype if dtype is not None else (ref.dtype if ref is not None else None)
        sizes = self.state_sizes
        return tuple(torch.zeros(batch, size, device=device, dtype=dtype) for size in sizes)

    def native_spec(self) -> NativeSpec | None:
        """The fused torch kernel that computes exactly this cell, or None."""
        return None

    def scan(
        self, xp: Tensor, state: State, mask: Tensor | None = None
    ) -> tuple[Tensor, State]:
        """Optional: every step at once, equal to ``step`` applied in order.

        ``xp (B, T, G*H)`` is the projected input in processing order, ``state`` the state
        before the first step, ``mask (B, T)`` (True = a real step; None = all real) marks the
        steps whose state update happens: the state is carried unchanged over the others.
        Returns ``(outputs (B, T, H), final_state)``, ``outputs[:, t]`` being the output after
        step t (anything at masked steps: the layer zeros them).
        """
        raise NotImplementedError

    @property
    def has_scan(self) -> bool:
        """Whether this cell's class offers a whole-sequence :meth:`scan`."""
        return type(self).scan is not Cell.scan

    def reset_parameters(self) -> None:
        """torch.nn's initialisation: every parameter uniform in ``±1/sqrt(hidden_size)``."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    # -- convenience -------------------------------------------------------------------
    def forward(self, x: Tensor, state: State | Tensor | None = None) -> State:
        """One step from a raw input ``(B, F)``; returns the new state tuple."""
        if x.dim() != 2 or x.size(-1) != self.input_size:
            raise ValueError(
                f"{type(self).__name__} expects input of shape (batch, {self.input_size}), "
                f"got {tuple(x.shape)}"
            )
        state = self.check_state(state, x.size(0), x.device, x.dtype)
        new_state, _ = self.step(self.project(x), state)
        return new_state

    def check_state(
        self,
        state: State | Tensor | None,
        batch: int,
        device: torch.device,
        dtype: torch.dtype,
    ) -> State:
        """Validate a user's state (or make zeros); a lone tensor is taken for a 1-state cell."""
        if state is None:
            return self.initial_state(batch, device, dtype)
        if isinstance(state, Tensor):
            state = (state,)
        elif type(state) is not tuple:
            state = tuple(state)
        sizes = self.state_sizes
        right = len(state) == len(sizes)  # a plain loop: decoders check every step
        for s, size in zip(state, sizes):
            right = right and s.shape == (batch, size)
        if not right:
            expected = tuple((batch, size) for size in sizes)
            got = tuple(tuple(s.shape) for s in state)
            raise ValueError(
                f"{type(self).__name__} state ({', '.join(self.state_names)}) must have shapes "
                f"{expected}, got {got}"
            )
        cast = False
        for s in state:
            if s.dtype != dtype or s.device != device:
                # under autocast a carried state comes back in bf16 beside an fp32 input
                cast = (s.device == device and s.dtype.is_floating_point
                        and dtype.is_floating_point and torch.is_autocast_enabled(device.type))
                if not cast:
                    raise ValueError(
                        f"{type(self).__name__} state ({', '.join(self.state_names)}) must have "
                        f"the input's dtype and device ({dtype} on {device}), got {s.dtype} on "
                        f"{s.device}"
                    )
        return tuple(s.to(dtype) for s in state) if cast else state

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}"


class PreparedRecurrence:
    """Mixin for cells written as ``_advance(xp, state, weights, h_mask)``.

    ``weights = _prepare(weight_hh)`` (by default its transpose) is the per-sequence work:
    ``step`` does it at every call, ``_sequence_step`` once for a layer's whole loop. Put it
    before :class:`Cell` in the bases: ``class MyCell(PreparedRecurrence, Cell)``.
    """

    def _prepare(self, weight_hh: Tensor):
        return weight_hh.t()

    def step(self, xp, state, *, weight_hh=None, h_mask=None) -> tuple[State, tuple[Tensor, ...]]:
        w = self.weight_hh if weight_hh is None else weight_hh
        return self._advance(xp, state, self._prepare(w), h_mask)

    def _sequence_step(self, weight_hh: Tensor | None = None, h_mask: Tensor | None = None):
        w = self.weight_hh if weight_hh is None else weight_hh
        return partial(self._advance, weights=self._prepare(w), h_mask=h_mask)
