"""rnnkit: recurrent neural networks on the CPU, exact and fast.

The building blocks are plain ``torch.nn.Module``s:

- cells (the math of one step): :class:`ElmanCell`, :class:`LSTMCell`, :class:`GRUCell`,
  :class:`LayerNormLSTMCell`, :class:`LayerNormGRUCell`;
- :class:`Recurrent` unrolls any cell through time (lengths, masks, direction, state,
  trajectories, dropouts), :class:`Bidirectional` and :class:`Stack` compose layers;
- :mod:`rnnkit.nn` has drop-ins for ``torch.nn.RNN``, ``LSTM``, ``GRU`` and their cells.
"""

from rnnkit.cells import Cell, ElmanCell, GRUCell, LayerNormGRUCell, LayerNormLSTMCell, LSTMCell
from rnnkit.layers import Bidirectional, Recurrent, Stack, Trajectory

__version__ = "0.1.0"

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
]
