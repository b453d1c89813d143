"""Recurrent cells: the math of one time step (see :mod:`rnnkit.cells.base`).

Cells are also known by name, for configs and the command line (``--cell ln-lstm``): the
built-in kinds below, and any cell a user adds with :func:`register_cell`. Every task, the
CLI's ``--cell`` choices and :func:`rnnkit.layers.build_stack` read this registry when they are
used, so a cell registered before them is usable everywhere.
"""

from __future__ import annotations

from collections.abc import Callable

from rnnkit.cells.base import Cell, NativeSpec, State
from rnnkit.cells.elman import ElmanCell
from rnnkit.cells.gru import GRUCell
from rnnkit.cells.layernorm import LayerNormGRUCell, LayerNormLSTMCell
from rnnkit.cells.lstm import LSTMCell
from rnnkit.cells.minimal import MinGRUCell, MinLSTMCell

CellFactory = Callable[..., Cell]

CELL_KINDS: dict[str, CellFactory] = {
    "rnn": lambda i, h, **kw: ElmanCell(i, h, **kw),
    "rnn-relu": lambda i, h, **kw: ElmanCell(i, h, nonlinearity="relu", **kw),
    "lstm": lambda i, h, **kw: LSTMCell(i, h, **kw),
    "gru": lambda i, h, **kw: GRUCell(i, h, **kw),
    "gru-cho": lambda i, h, **kw: GRUCell(i, h, reset_after=False, **kw),
    "ln-lstm": lambda i, h, **kw: LayerNormLSTMCell(i, h, **kw),
    "ln-gru": lambda i, h, **kw: LayerNormGRUCell(i, h, **kw),
    "minlstm": lambda i, h, **kw: MinLSTMCell(i, h, **kw),
    "mingru": lambda i, h, **kw: MinGRUCell(i, h, **kw),
}
BUILT_IN = tuple(CELL_KINDS)


def register_cell(name: str, factory: CellFactory, *, replace: bool = False) -> None:
    """Make a cell usable by name: ``factory(input_size, hidden_size, **options) -> Cell``.

    A class that follows the Cell contract is itself a factory: ``register_cell("my-cell",
    MyCell)``. Registering a name twice is an error unless ``replace=True``; the built-in
    names cannot be replaced.
    """
    if not isinstance(name, str) or not name or name != name.strip() or " " in name:
        raise ValueError(f"a cell name is one word, got {name!r}")
    if not callable(factory):
        raise ValueError(f"the factory for {name!r} must be callable, got {factory!r}")
    if name in BUILT_IN:
        raise ValueError(f"{name!r} is a built-in cell and cannot be replaced")
    if name in CELL_KINDS and not replace:
        raise ValueError(f"a cell named {name!r} is already registered (replace=True to swap it)")
    CELL_KINDS[name] = factory


def unregister_cell(name: str) -> None:
    """Forget a registered cell (built-in cells stay)."""
    if name in BUILT_IN:
        raise ValueError(f"{name!r} is a built-in cell")
    CELL_KINDS.pop(name, None)


def cell_names() -> tuple[str, ...]:
    """Every cell name in use now: the built-in kinds, then the registered ones."""
    return tuple(CELL_KINDS)


def make_cell(kind: str, input_size: int, hidden_size: int, **options) -> Cell:
    """A cell by name, one of :func:`cell_names`: ``"lstm"``, ``"gru"``, ``"rnn"``..."""
    try:
        build = CELL_KINDS[kind]
    except KeyError:
        known = ", ".join(CELL_KINDS)
        raise ValueError(f"unknown cell kind {kind!r}; choose one of: {known}") from None
    cell = build(input_size, hidden_size, **options)
    if not isinstance(cell, Cell):
        raise ValueError(f"the factory registered as {kind!r} made a {type(cell).__name__}, "
                         "not an rnnkit Cell")
    return cell


__all__ = [
    "BUILT_IN",
    "CELL_KINDS",
    "Cell",
    "ElmanCell",
    "GRUCell",
    "LSTMCell",
    "LayerNormGRUCell",
    "LayerNormLSTMCell",
    "MinGRUCell",
    "MinLSTMCell",
    "NativeSpec",
    "State",
    "cell_names",
    "make_cell",
    "register_cell",
    "unregister_cell",
]
