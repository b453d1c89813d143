"""Layers on top of each other; the cells may differ from layer to layer."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn
from torch.nn import functional as F

from rnnkit.cells import Cell, make_cell
from rnnkit.layers.bidirectional import Bidirectional
from rnnkit.layers.dropout import check_probability
from rnnkit.layers.recurrent import Recurrent


class Stack(nn.Module):
    r"""Recurrent or bidirectional layers applied in turn, with dropout between them.

    ``forward(x (B, T, F), states=None, *, lengths=None, mask=None, trajectories=False)``
    returns ``(output, states)`` where ``states`` has one entry per layer (and a list of
    trajectories when asked). ``dropout`` is applied to every layer's output but the last, in
    training, as torch.nn.LSTM's ``dropout`` does. Cells given directly are wrapped in
    :class:`Recurrent`.
    """

    def __init__(self, layers: Sequence[Recurrent | Bidirectional | Cell], dropout: float = 0.0):
        super().__init__()
        if len(layers) == 0:
            raise ValueError("a Stack needs at least one layer")
        wrapped = [Recurrent(layer) if isinstance(layer, Cell) else layer for layer in layers]
        for k, (below, above) in enumerate(zip(wrapped, wrapped[1:])):
            if below.output_size != above.input_size:
                raise ValueError(
                    f"layer {k} outputs {below.output_size} features but layer {k + 1} "
                    f"reads {above.input_size}"
                )
            if not below.return_sequences:
                raise ValueError(f"layer {k} must return sequences: another layer follows it")
        self.layers = nn.ModuleList(wrapped)
        self.dropout = check_probability("dropout", dropout)

    @property
    def input_size(self) -> int:
        return self.layers[0].input_size

    @property
    def output_size(self) -> int:
        return self.layers[-1].output_size

    def forward(self, x: Tensor, states=None, *, lengths=None, mask=None, trajectories=False):
        if states is None:
            states = [None] * len(self.layers)
        elif len(states) != len(self.layers):
            raise ValueError(
                f"states must have one entry per layer ({len(self.layers)}), got {len(states)}"
            )
        finals, paths = [], []
        for k, (layer, state) in enumerate(zip(self.layers, states)):
            if k > 0 and self.dropout:
                x = F.dropout(x, self.dropout, self.training)
            result = layer(x, state, lengths=lengths, mask=mask, trajectories=trajectories)
            x = result[0]
            finals.append(result[1])
            if trajectories:
                paths.append(result[2])
        return (x, finals, paths) if trajectories else (x, finals)

    def initial_state(self, batch: int, device=None, dtype=None) -> list:
        """Zeros for every layer (what ``states=None`` means)."""
        return [layer.cell.initial_state(batch, device, dtype) for layer in self._steppable()]

    def step(self, x: Tensor, states=None) -> tuple[Tensor, list]:
        """One time step through every layer: ``x (B, F), states -> (y (B, H), states)``.

        Equal to :meth:`forward` fed one step at a time (tested); the one place that steps a
        stack, for generation, recurrent decoders and attention decoders. ``states`` has one
        entry per layer (None: zeros). Bidirectional layers cannot step: they read the future.
        """
        layers = self.layers
        if states is None:
            states = [None] * len(layers)
        elif len(states) != len(layers):
            raise ValueError(
                f"states must have one entry per layer ({len(layers)}), got {len(states)}"
            )
        new_states = []
        for k, layer in enumerate(layers):
            if not isinstance(layer, Recurrent) or layer.reverse:
                self._steppable()  # raises, naming the layer
            if k > 0 and self.dropout:
                x = F.dropout(x, self.dropout, self.training)
            x, state = layer.step(x, states[k])
            new_states.append(state)
        return x, new_states

    def _steppable(self) -> list[Recurrent]:
        for k, layer in enumerate(self.layers):
            if not isinstance(layer, Recurrent) or layer.reverse:
                raise ValueError(
                    f"layer {k} ({type(layer).__name__}) reads the sequence backwards: only "
                    "a stack of forward Recurrent layers can step"
                )
        return list(self.layers)


def build_stack(
    cell: str | Sequence[str],
    input_size: int,
    hidden_size: int,
    num_layers: int = 1,
    *,
    bidirectional: bool = False,
    merge: str = "concat",
    dropout: float = 0.0,
    cell_options: dict | None = None,
    **layer_options,
) -> Stack:
    """A stack by cell names: ``build_stack("lstm", 64, 256, 2)`` or ``(["lstm", "gru"], ...)``.

    ``layer_options`` go to every :class:`Recurrent` (``backend``, ``zoneout``, ``dropconnect``...).
    """
    kinds = [cell] * num_layers if isinstance(cell, str) else list(cell)
    if isinstance(cell, str) and num_layers < 1:
        raise ValueError(f"num_layers must be at least 1, got {num_layers}")
    layers: list[nn.Module] = []
    size = input_size
    for kind in kinds:

        def layer(kind: str = kind, size: int = size) -> Recurrent:
            cell = make_cell(kind, size, hidden_size, **(cell_options or {}))
            return Recurrent(cell, **layer_options)

        layers.append(Bidirectional(layer(), layer(), merge) if bidirectional else layer())
        size = layers[-1].output_size
    return Stack(layers, dropout=dropout)
