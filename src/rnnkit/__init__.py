"""rnnkit: recurrent neural networks on the CPU, exact and fast.

The building blocks are plain ``torch.nn.Module``s:

- cells (the math of one step): :class:`ElmanCell`, :class:`LSTMCell`, :class:`GRUCell`,
  :class:`LayerNormLSTMCell`, :class:`LayerNormGRUCell`;
- :class:`Recurrent` unrolls any cell through time (lengths, masks, direction, state,
  trajectories, dropouts), :class:`Bidirectional` and :class:`Stack` compose layers;
- :mod:`rnnkit.nn` has drop-ins for ``torch.nn.RNN``, ``LSTM``, ``GRU`` and their cells;
- :func:`register_cell` makes a cell of your own usable by name everywhere (``--cell NAME``);
- :func:`load` opens any trained model directory (its task's model, with ``predict``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rnnkit._lazy import lazy_exports

if TYPE_CHECKING:  # for type checkers; at run time the names load on first use (below)
    from rnnkit.cells import (
        Cell,
        ElmanCell,
        GRUCell,
        LayerNormGRUCell,
        LayerNormLSTMCell,
        LSTMCell,
        register_cell,
    )
    from rnnkit.layers import Bidirectional, Recurrent, Stack, Trajectory
    from rnnkit.tasks import load

__version__ = "0.1.0"

# torch loads with the first of these names, not with ``import rnnkit``: commands that need no
# tensors (``rnnkit data list``) start in a fraction of a second
_LAZY = {
    "Cell": "rnnkit.cells", "ElmanCell": "rnnkit.cells", "GRUCell": "rnnkit.cells",
    "LSTMCell": "rnnkit.cells", "LayerNormGRUCell": "rnnkit.cells",
    "LayerNormLSTMCell": "rnnkit.cells", "Bidirectional": "rnnkit.layers",
    "Recurrent": "rnnkit.layers", "Stack": "rnnkit.layers", "Trajectory": "rnnkit.layers",
    "register_cell": "rnnkit.cells", "load": "rnnkit.tasks",
}


__getattr__, __dir__ = lazy_exports(__name__, globals(), _LAZY)

__all__ = [
    "Bidirectional",
    "Cell",
    "ElmanCell",
    "GRUCell",
    "LSTMCell",
    "LayerNormGRUCell",
    "LayerNormLSTMCell",
    "Recurrent",
    "Stack",
    "Trajectory",
    "load",
    "register_cell",
]
