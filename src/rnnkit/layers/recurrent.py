"""One layer that unrolls any cell through time."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

import torch
from torch import Tensor, nn

from rnnkit.cells.base import Cell, State
from rnnkit.layers.backends import run_native
from rnnkit.layers.dropout import (
    check_probability,
    dropconnect,
    variational_dropout,
    variational_mask,
    zoneout,
)
from rnnkit.layers.masks import Steps, last_valid, resolve_steps

BACKENDS = ("auto", "native", "reference")


@dataclass
class Trajectory:
    """What a layer computed at every step, for looking inside.

    ``states[name]`` and ``gates[name]`` are ``(B, T, size)`` (zeros at padded steps), in the
    input's time order whatever the direction. ``step_states`` holds each processed step's state
    tuple, in processing order, still in the autograd graph: ``torch.autograd.grad(loss,
    [s[0] for s in step_states])`` gives the gradient of the loss through time (see
    :func:`rnnkit.inspect.gradients_through_time`).
    """

    states: dict[str, Tensor]
    gates: dict[str, Tensor]
    step_states: list[State] = field(repr=False)

    def __getitem__(self, name: str) -> Tensor:
        return self.states[name] if name in self.states else self.gates[name]


def _sequence_step(cell: Cell, options: dict):
    """``cell.step`` with the layer's options bound, made once per sequence.

    A cell may offer ``_sequence_step(**options)``: the same function with the per-sequence
    work (transposing ``weight_hh``) done once instead of at every step, which saves an
    autograd node per step. It is used only when the class that defines it also defines the
    ``step`` in force, so a subclass (or an instance) that replaces ``step`` is honoured.
    """
    if "step" not in vars(cell):
        for klass in type(cell).__mro__:
            defined = vars(klass)
            if "step" in defined or "_sequence_step" in defined:
                if "step" in defined and "_sequence_step" in defined:
                    return cell._sequence_step(**options)
                break
    return partial(cell.step, **options)


class Recurrent(nn.Module):
    r"""Unroll ``cell`` over a batch-first sequence.

    ``forward(x (B, T, F), state=None, *, lengths=None, mask=None, trajectories=False)``
    returns ``(output, final_state)`` (and a :class:`Trajectory` third when asked):

    - ``output`` is ``(B, T, H)`` (zeros at padded steps), or ``(B, H)`` (the last processed
      real step) with ``return_sequences=False``;
    - ``final_state`` is the state tuple after each row's last real step (a row of length zero
      returns its initial state);
    - ``lengths (B,)`` means right padding; a ``mask (B, T)`` (True = real step) may pad on
      either side, or skip steps in the middle (the state is carried over them);
    - ``reverse=True`` reads each row's real steps from last to first.

    ``backend="auto"`` runs a whole-sequence path when the cell has one and nothing needs the
    per-step loop (trajectories, recurrent dropout, zoneout, a mask with holes for fused
    kernels): torch's fused kernel for the standard cells, else the cell's own ``scan``;
    ``"native"`` insists on one and ``"reference"`` always runs the loop, the specification of
    the others. :meth:`step` advances one time step, for decoders.
    """

    def __init__(
        self,
        cell: Cell,
        *,
        reverse: bool = False,
        return_sequences: bool = True,
        backend: str = "auto",
        input_dropout: float = 0.0,
        output_dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        zoneout: float = 0.0,
        dropconnect: float = 0.0,
    ) -> None:
        super().__init__()
        if not isinstance(cell, Cell):
            raise ValueError(f"Recurrent needs an rnnkit Cell, got {type(cell).__name__}")
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        self.cell = cell
        self.reverse = reverse
        self.return_sequences = return_sequences
        self.backend = backend
        self.input_dropout = check_probability("input_dropout", input_dropout)
        self.output_dropout = check_probability("output_dropout", output_dropout)
        self.recurrent_dropout = check_probability("recurrent_dropout", recurrent_dropout)
        self.zoneout = check_probability("zoneout", zoneout)
        self.dropconnect = check_probability("dropconnect", dropconnect)
        if self.dropconnect and not isinstance(getattr(cell, "weight_hh", None), Tensor):
            raise ValueError(
                f"dropconnect needs a cell with a weight_hh, {type(cell).__name__} has none"
            )

    @property
    def input_size(self) -> int:
        return self.cell.input_size

    @property
    def output_size(self) -> int:
        return self.cell.output_size

    def native_obstacle(self, steps: Steps | None, trajectories: bool) -> str | None:
        """Why no whole-sequence path (fused kernel or the cell's ``scan``) can run this call,
        or None if one can."""
        cell = self.cell
        if cell.native_spec() is None and not cell.has_scan:
            return f"{type(cell).__name__} has no fused kernel and no scan"
        if trajectories:
            return "trajectories need the per-step loop"
        if self.recurrent_dropout and self.training:
            return "recurrent dropout needs the per-step loop"
        if self.zoneout:
            return "zoneout needs the per-step loop"
        if cell.native_spec() is None:
            if self.dropconnect:
                return "dropconnect needs the per-step loop (scan takes no weight_hh)"
            return None  # a scan carries the state over any mask
        if steps is not None and not steps.contiguous:
            return "a mask with holes needs the per-step loop"
        return None

    def forward(
        self,
        x: Tensor,
        state: State | Tensor | None = None,
        *,
        lengths: Tensor | None = None,
        mask: Tensor | None = None,
        trajectories: bool = False,
    ):
        cell = self.cell
        if x.dim() != 3 or x.size(-1) != cell.input_size:
            raise ValueError(
                f"input must have shape (batch, time, {cell.input_size}), got {tuple(x.shape)}"
            )
        B, T, _ = x.shape
        if T == 0:
            raise ValueError("input has no time steps (shape (batch, 0, features))")
        steps = resolve_steps(B, T, lengths, mask, x.device)
        state = cell.check_state(state, B, x.device, x.dtype)
        x = variational_dropout(x, self.input_dropout, self.training)
        w_hh = None
        if self.dropconnect:
            w_hh = dropconnect(cell.weight_hh, self.dropconnect, self.training)

        obstacle = None
        if self.backend != "reference":
            obstacle = self.native_obstacle(steps, trajectories)
        if self.backend == "native" and obstacle:
            raise ValueError(f"backend='native' cannot run this call: {obstacle}; use 'auto'")
        trajectory = None
        if self.backend != "reference" and obstacle is None:
            spec = cell.native_spec()
            if spec is not None:
                out, final = run_native(spec, x, state, steps, self.reverse, w_hh)
            else:
                out, final = self._scan(x, state, steps)
        else:
            out, final, trajectory = self._loop(x, state, steps, w_hh, trajectories)

        out = variational_dropout(out, self.output_dropout, self.training)
        if not self.return_sequences:
            out = last_valid(out, steps, self.reverse)
        return (out, final, trajectory) if trajectories else (out, final)

    def _scan(self, x: Tensor, state: State, steps: Steps | None) -> tuple[Tensor, State]:
        """The cell's own whole-sequence form, in processing order (flipped for reverse)."""
        mask = steps.mask if steps is not None else None
        if mask is not None:
            x = x.masked_fill(~mask.unsqueeze(-1), 0.0)  # as in the loop: no NaN padding
        if self.reverse:
            x = x.flip(1)
            mask = mask.flip(1) if mask is not None else None
        out, final = self.cell.scan(self.cell.project(x), state, mask)
        if self.reverse:
            out = out.flip(1)
        if steps is not None:
            out = out * steps.mask.unsqueeze(-1).to(out.dtype)
        return out, tuple(final)

    def step(self, x: Tensor, state: State | Tensor | None = None) -> tuple[Tensor, State]:
        """One time step: ``x (B, F), state -> (output (B, H), new_state)``.

        Equal to :meth:`forward` on a sequence, fed one step at a time (the state of one call
        given to the next); decoders and samplers call it. The cell's own ``step`` runs, with no
        layer machinery (lengths, masks, kernel dispatch) around it. In training, the layer's
        dropouts draw a fresh mask at every call (a step has no sequence to share one with).
        """
        cell = self.cell
        if x.dim() != 2 or x.shape[1] != cell.input_size:
            raise ValueError(
                f"a step's input must have shape (batch, {cell.input_size}), got {tuple(x.shape)}"
            )
        if self.reverse:
            raise ValueError("a reverse layer reads the sequence from its end: it cannot step")
        state = cell.check_state(state, x.shape[0], x.device, x.dtype)
        training = self.training
        if not (self.dropconnect or self.zoneout or (training and (
                self.input_dropout or self.recurrent_dropout or self.output_dropout))):
            new, _ = cell.step(cell.project(x), state)  # the plain step: generation's path
            return new[0], new
        if self.input_dropout and training:
            x = variational_dropout(x.unsqueeze(1), self.input_dropout, True).squeeze(1)
        options = {}
        if self.dropconnect:
            options["weight_hh"] = dropconnect(cell.weight_hh, self.dropconnect, training)
        if self.recurrent_dropout and training:
            options["h_mask"] = variational_mask(
                (x.size(0), cell.state_sizes[0]), self.recurrent_dropout, x
            )
        new, _ = cell.step(cell.project(x), state, **options)
        if self.zoneout:
            new = tuple(zoneout(o, n, self.zoneout, training) for o, n in zip(state, new))
        out = new[0]
        if self.output_dropout and training:
            out = variational_dropout(out.unsqueeze(1), self.output_dropout, True).squeeze(1)
        return out, new

    def _loop(self, x: Tensor, state: State, steps: Steps | None, w_hh, record: bool):
        """The reference path: one projection matmul, then ``cell.step`` at every step."""
        cell = self.cell
        B, T, _ = x.shape
        if steps is not None:
            # padded steps are computed and discarded; zeros there keep NaN padding (common in
            # series of unequal lengths) out of the gradients, which multiply 0 by derivatives
            x = x.masked_fill(~steps.mask.unsqueeze(-1), 0.0)
        options = {}
        if w_hh is not None:
            options["weight_hh"] = w_hh
        if self.recurrent_dropout and self.training:
            options["h_mask"] = variational_mask(
                (B, cell.state_sizes[0]), self.recurrent_dropout, x
            )
        zone = self.zoneout
        step_masks = steps.mask.unsqueeze(-1).unbind(1) if steps is not None else None

        step = _sequence_step(cell, options)
        inputs = cell.project(x).unbind(1)  # T x (B, G*H)
        outputs: list[Tensor] = [x] * T
        seen_states: list[State] = []
        seen_gates: list[tuple[Tensor, ...]] = []
        order = range(T - 1, -1, -1) if self.reverse else range(T)
        for t in order:
            new, gates = step(inputs[t], state)
            if zone:
                new = tuple(zoneout(o, n, zone, self.training) for o, n in zip(state, new))
            if step_masks is not None:
                keep = step_masks[t]
                new = tuple(torch.where(keep, n, o) for n, o in zip(new, state))
            state = new
            outputs[t] = new[0]
            if record:
                seen_states.append(new)
                seen_gates.append(gates)

        out = torch.stack(outputs, 1)
        valid = steps.mask.unsqueeze(-1).to(x.dtype) if steps is not None else None
        if valid is not None:
            out = out * valid
        trajectory = None
        if record:
            trajectory = self._trajectory(seen_states, seen_gates, valid)
        return out, state, trajectory

    def _trajectory(self, seen_states, seen_gates, valid: Tensor | None) -> Trajectory:
        cell = self.cell
        in_time_order = (lambda seq: seq[::-1]) if self.reverse else (lambda seq: seq)

        def stacked(per_step: list[Tensor]) -> Tensor:
            out = torch.stack(in_time_order(per_step), 1)
            return out * valid if valid is not None else out

        states = {
            name: stacked([s[k] for s in seen_states]) for k, name in enumerate(cell.state_names)
        }
        gates = {
            name: stacked([g[k] for g in seen_gates]) for k, name in enumerate(cell.gate_names)
        }
        return Trajectory(states, gates, seen_states)

    def extra_repr(self) -> str:
        options = [f"reverse={self.reverse}"] if self.reverse else []
        if not self.return_sequences:
            options.append("return_sequences=False")
        if self.backend != "auto":
            options.append(f"backend={self.backend!r}")
        for name in ("input_dropout", "output_dropout", "recurrent_dropout", "zoneout"):
            if getattr(self, name):
                options.append(f"{name}={getattr(self, name)}")
        if self.dropconnect:
            options.append(f"dropconnect={self.dropconnect}")
        return ", ".join(options)
