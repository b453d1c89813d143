"""Shared fixtures: every cell kind by name, built small, seeded and in float64."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from rnnkit.cells import Cell, cell_names, make_cell

# examples/custom_cell.py registers a user's cell (minGRU) the way a user would: importing it
# here puts it, and any other registered cell, through every test parametrised by cell kind
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
sys.path.insert(0, str(EXAMPLES))
import custom_cell  # noqa: E402, F401

# The suite's tensors are tiny: one thread is faster, and on a shared 2-core machine OpenMP's
# spinning threads made small LayerNorm calls ~20x slower.
torch.set_num_threads(1)

# name -> (make_cell kind, options); "lstm-proj" is the LSTM with a projection (h smaller than c)
CELL_SPECS: dict[str, tuple[str, dict]] = {
    "rnn": ("rnn", {}),
    "rnn-relu": ("rnn-relu", {}),
    "lstm": ("lstm", {}),
    "lstm-proj": ("lstm", {"proj_size": 2}),
    "gru": ("gru", {}),
    "gru-cho": ("gru-cho", {}),
    "ln-lstm": ("ln-lstm", {}),
    "ln-gru": ("ln-gru", {}),
}
# cells registered with rnnkit.cells.register_cell, built with their default options
CELL_SPECS.update({name: (name, {}) for name in cell_names() if name not in CELL_SPECS})
ALL_CELLS = tuple(CELL_SPECS)
# the cells that declare a fused torch kernel (Cell.native_spec() is not None)
NATIVE_CELLS = ("rnn", "rnn-relu", "lstm", "lstm-proj", "gru")


def build(name: str, input_size: int = 3, hidden_size: int = 4, seed: int = 0) -> Cell:
    """A float64 cell of kind ``name`` (a key of ``CELL_SPECS``) with seeded weights."""
    kind, options = CELL_SPECS[name]
    torch.manual_seed(seed)
    return make_cell(kind, input_size, hidden_size, **options).double()


@pytest.fixture(scope="session")
def build_cell() -> Callable[..., Cell]:
    """``build_cell(name, input_size=3, hidden_size=4, seed=0)``: see :func:`build`."""
    return build


@pytest.fixture(params=ALL_CELLS)
def any_cell(request) -> str:
    """The name of every cell kind in turn."""
    return request.param


@pytest.fixture(params=NATIVE_CELLS)
def native_cell(request) -> str:
    """The name of every cell kind that has a fused kernel, in turn."""
    return request.param
