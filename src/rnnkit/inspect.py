"""A view inside a recurrent layer: gradients through time and gate activations.

- :func:`gradients_through_time` measures how much of a loss's gradient reaches each step's
  state, ``‖∂L/∂h_t‖``: the vanishing (or exploding) gradient problem, step by step;
- :func:`gate_statistics` summarises each sigmoid gate of a :class:`~rnnkit.Trajectory`: its
  mean and how often it is saturated (near 0 or 1, where it passes almost no gradient).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from rnnkit.layers.bidirectional import Bidirectional
from rnnkit.layers.masks import resolve_steps
from rnnkit.layers.recurrent import Recurrent, Trajectory
from rnnkit.layers.stack import Stack

# gates squashed by a sigmoid in rnnkit's cells: LSTM (i, f, o) and GRU (r, z); g, n and an
# Elman cell's h are tanh/relu outputs, for which "saturated at 0.1 / 0.9" means nothing
SIGMOID_GATES = ("i", "f", "o", "r", "z")


def gradients_through_time(
    layer: Recurrent | Bidirectional | Stack,
    x: Tensor,
    loss_fn: Callable[[Tensor], Tensor],
    *,
    state_name: str = "h",
    **forward_kwargs,
) -> Tensor:
    r"""The norm of the loss's gradient with respect to the state at every step.

    Runs ``layer(x, trajectories=True, **forward_kwargs)``, takes the scalar
    ``L = loss_fn(output)`` of its output and returns ``g[t] = ‖∂L/∂h_t‖`` (Frobenius norm over
    the batch and the features), where ``∂L/∂h_t`` is the *total* derivative: everything that
    backpropagation through time sends to step t, through its own output and through every
    later step (later in processing order: earlier in time for a reversed layer). It is taken
    with respect to the very tensors the layer computed (:attr:`Trajectory.step_states`), so it
    is exactly the gradient training would see. ``state_name`` picks another state (``"c"``).

    Shapes, indexed by time in the input's order whatever the direction:

    - :class:`Recurrent`: ``(T,)``;
    - :class:`Bidirectional`: ``(2, T)``, the forward layer's row then the backward layer's;
    - :class:`Stack`: ``(L, T)``, one row per layer; a bidirectional layer's row is the norm
      over both directions, ``sqrt(g_fwd² + g_bwd²)``.

    At a padded step the state is the one carried over it, so ``g[t]`` there is the gradient
    reaching the carried state. The layer is run as it is: call ``layer.eval()`` first for a
    deterministic answer if it has dropouts.
    """
    if not isinstance(layer, (Recurrent, Bidirectional, Stack)):
        raise ValueError(
            "gradients_through_time needs a Recurrent, Bidirectional or Stack layer, "
            f"got {type(layer).__name__}"
        )
    # x itself need not be differentiable; a fresh leaf guarantees a graph even when the
    # layer's parameters are frozen
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        result = layer(x, trajectories=True, **forward_kwargs)
        loss = loss_fn(result[0])
        if not isinstance(loss, Tensor) or loss.numel() != 1:
            shape = tuple(loss.shape) if isinstance(loss, Tensor) else type(loss).__name__
            raise ValueError(f"loss_fn must return a scalar tensor, got {shape}")
        groups = _state_groups(layer, result[2], state_name)  # rows of (directions of (T,) states)
        flat = [h for row in groups for direction in row for h in direction]
        grads = torch.autograd.grad(loss.reshape(()), flat, allow_unused=True)
    squares = iter(
        torch.zeros((), dtype=h.dtype) if g is None else g.detach().pow(2).sum()
        for g, h in zip(grads, flat)
    )
    rows = [
        torch.stack([torch.stack([next(squares) for _ in d]) for d in row]).sum(0).sqrt()
        for row in groups
    ]
    return rows[0] if isinstance(layer, Recurrent) else torch.stack(rows)


def _state_groups(layer, trajectories, state_name: str) -> list[list[list[Tensor]]]:
    """The step states to differentiate: rows (layers) of directions of per-step tensors."""
    if isinstance(layer, Recurrent):
        return [[_in_time_order(layer, trajectories, state_name)]]
    if isinstance(layer, Bidirectional):
        fwd, bwd = trajectories
        return [
            [_in_time_order(layer.forward_layer, fwd, state_name)],
            [_in_time_order(layer.backward_layer, bwd, state_name)],
        ]
    # a Stack: one row per layer, a bidirectional layer's two directions in the same row
    return [
        [d for row in _state_groups(sub, traj, state_name) for d in row]
        for sub, traj in zip(layer.layers, trajectories)
    ]


def _in_time_order(layer: Recurrent, trajectory: Trajectory, state_name: str) -> list[Tensor]:
    cell = layer.cell
    if state_name not in cell.state_names:
        raise ValueError(f"{type(cell).__name__} has states {cell.state_names}, not {state_name!r}")
    k = cell.state_names.index(state_name)
    seq = [s[k] for s in trajectory.step_states]  # processing order
    return seq[::-1] if layer.reverse else seq


def gate_statistics(
    trajectory: Trajectory,
    *,
    lengths: Tensor | None = None,
    mask: Tensor | None = None,
    gates: Sequence[str] | None = None,
    low: float = 0.1,
    high: float = 0.9,
) -> dict[str, dict[str, float]]:
    """Mean and saturation of each sigmoid gate over the real steps of a trajectory.

    Returns ``{gate: {"mean", "saturated", "low", "high"}}``: the mean activation, the fraction
    of activations below ``low`` or above ``high`` (``"saturated"``), and each side on its own.
    ``gates`` defaults to the trajectory's sigmoid gates (LSTM ``i, f, o``; GRU ``r, z``; none
    for an Elman cell). Give the ``lengths`` or ``mask`` the layer ran with, so that padded
    steps (zeros in the trajectory) are left out.
    """
    names = [g for g in trajectory.gates if g in SIGMOID_GATES] if gates is None else list(gates)
    unknown = [g for g in names if g not in trajectory.gates]
    if unknown:
        have = tuple(trajectory.gates)
        raise ValueError(f"no gate named {unknown[0]!r}; this trajectory has {have}")
    stats: dict[str, dict[str, float]] = {}
    if not names:
        return stats
    B, T, _ = trajectory.gates[names[0]].shape
    steps = resolve_steps(B, T, lengths, mask, trajectory.gates[names[0]].device)
    for name in names:
        values = trajectory.gates[name].detach()
        values = values[steps.mask] if steps is not None else values.reshape(-1, values.size(-1))
        if values.numel() == 0:
            raise ValueError("the trajectory has no real steps to summarise")
        below, above = (values < low).double().mean().item(), (values > high).double().mean().item()
        stats[name] = {
            "mean": values.double().mean().item(),
            "saturated": below + above,
            "low": below,
            "high": above,
        }
    return stats
