"""Two layers over the same sequence, one forward and one reversed, their outputs merged."""

from __future__ import annotations

import copy

import torch
from torch import Tensor, nn

from rnnkit.cells.base import Cell
from rnnkit.layers.recurrent import Recurrent

MERGES = ("concat", "sum", "mean", "mul")


class Bidirectional(nn.Module):
    r"""A forward and a backward :class:`Recurrent` layer, outputs merged per step.

    ``Bidirectional(layer_or_cell)`` makes the backward layer a copy with fresh weights (as
    Keras does); pass ``backward`` to choose it (its cell may differ, or be the forward cell for
    tied weights); the layers given are set to read forwards and backwards. ``merge`` is
    ``"concat"`` (``(B, T, 2H)``, torch.nn's layout: forward first), ``"sum"``, ``"mean"`` or
    ``"mul"``.

    ``forward(x, state=None, *, lengths=None, mask=None, trajectories=False)`` returns
    ``(output, (forward_state, backward_state))`` (and ``(forward_traj, backward_traj)``).
    """

    def __init__(
        self,
        forward: Recurrent | Cell,
        backward: Recurrent | Cell | None = None,
        merge: str = "concat",
    ) -> None:
        super().__init__()
        if merge not in MERGES:
            raise ValueError(f"merge must be one of {MERGES}, got {merge!r}")
        fwd = forward if isinstance(forward, Recurrent) else Recurrent(forward)
        if backward is None:
            bwd = copy.deepcopy(fwd)
            bwd.cell.reset_parameters()
        else:
            bwd = backward if isinstance(backward, Recurrent) else Recurrent(backward)
        if bwd is fwd:
            # one object cannot read both ways; two layers over one cell tie the weights instead
            raise ValueError(
                "forward and backward are the same Recurrent layer; give two layers "
                "(Recurrent(cell) twice ties their weights) or omit backward for a fresh copy"
            )
        if fwd.input_size != bwd.input_size:
            raise ValueError(
                f"forward and backward layers read different input sizes: "
                f"{fwd.input_size} and {bwd.input_size}"
            )
        if merge != "concat" and fwd.output_size != bwd.output_size:
            raise ValueError(
                f"merge={merge!r} needs equal output sizes, "
                f"got {fwd.output_size} and {bwd.output_size}"
            )
        if fwd.return_sequences != bwd.return_sequences:
            raise ValueError("forward and backward layers must agree on return_sequences")
        fwd.reverse, bwd.reverse = False, True
        self.forward_layer = fwd
        self.backward_layer = bwd
        self.merge = merge

    @property
    def input_size(self) -> int:
        return self.forward_layer.input_size

    @property
    def output_size(self) -> int:
        f, b = self.forward_layer.output_size, self.backward_layer.output_size
        return f + b if self.merge == "concat" else f

    @property
    def return_sequences(self) -> bool:
        return self.forward_layer.return_sequences

    def forward(self, x: Tensor, state=None, *, lengths=None, mask=None, trajectories=False):
        if state is None:
            state = (None, None)
        elif not isinstance(state, (tuple, list)) or len(state) != 2:
            is_seq = isinstance(state, (tuple, list))
            got = f"{len(state)} entries" if is_seq else type(state).__name__
            raise ValueError(
                f"a Bidirectional state is a pair (forward_state, backward_state), got {got}"
            )
        elif len(self.forward_layer.cell.state_names) > 1 and all(
            isinstance(s, Tensor) for s in state
        ):
            # (h, c) of one direction looks like a pair; say so rather than fail on shapes later
            cell = self.forward_layer.cell
            names = ", ".join(cell.state_names)
            raise ValueError(
                f"a Bidirectional state is a pair (forward_state, backward_state), each a tuple "
                f"({names}); got one {type(cell).__name__} state (two tensors)"
            )
        kw = dict(lengths=lengths, mask=mask, trajectories=trajectories)
        f = self.forward_layer(x, state[0], **kw)
        b = self.backward_layer(x, state[1], **kw)
        out = merge_outputs(f[0], b[0], self.merge)
        if trajectories:
            return out, (f[1], b[1]), (f[2], b[2])
        return out, (f[1], b[1])

    def extra_repr(self) -> str:
        return f"merge={self.merge!r}"


def merge_outputs(fwd: Tensor, bwd: Tensor, merge: str) -> Tensor:
    if merge == "concat":
        return torch.cat([fwd, bwd], -1)
    if merge == "sum":
        return fwd + bwd
    if merge == "mean":
        return (fwd + bwd) * 0.5
    return fwd * bwd
