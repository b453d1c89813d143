"""Recurrent cells: the math of one time step (see :mod:`rnnkit.cells.base`)."""

from __future__ import annotations

from rnnkit.cells.base import Cell, NativeSpec, State
from rnnkit.cells.elman import ElmanCell
from rnnkit.cells.gru import GRUCell
from rnnkit.cells.layernorm import LayerNormGRUCell, LayerNormLSTMCell
from rnnkit.cells.lstm import LSTMCell

CELL_KINDS = {
    "rnn": lambda i, h, **kw: ElmanCell(i, h, **kw),
    "rnn-relu": lambda i, h, **kw: ElmanCell(i, h, nonlinearity="relu", **kw),
    "lstm": lambda i, h, **kw: LSTMCell(i, h, **kw),
    "gru": lambda i, h, **kw: GRUCell(i, h, **kw),
    "gru-cho": lambda i, h, **kw: GRUCell(i, h, reset_after=False, **kw),
    "ln-lstm": lambda i, h, **kw: LayerNormLSTMCell(i, h, **kw),
    "ln-gru": lambda i, h, **kw: LayerNormGRUCell(i, h, **kw),
}


def make_cell(kind: str, input_size: int, hidden_size: int, **options) -> Cell:
    """A cell by name, one of ``CELL_KINDS``: ``"lstm"``, ``"gru"``, ``"rnn"``, ``"ln-lstm"``..."""
    try:
        build = CELL_KINDS[kind]
    except KeyError:
        known = ", ".join(CELL_KINDS)
        raise ValueError(f"unknown cell kind {kind!r}; choose one of: {known}") from None
    return build(input_size, hidden_size, **options)


__all__ = [
    "CELL_KINDS",
    "Cell",
    "ElmanCell",
    "GRUCell",
    "LSTMCell",
    "LayerNormGRUCell",
    "LayerNormLSTMCell",
    "NativeSpec",
    "State",
    "make_cell",
]
