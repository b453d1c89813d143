"""Cells of one's own: the registry (``register_cell``), and the ``scan`` door through which a
cell runs a whole sequence at once, proved on the minGRU of ``examples/custom_cell.py``
(registered by conftest) against the reference step loop."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import pytest
import torch
from custom_cell import MinGRUCell
from torch import nn

import rnnkit
from conftest import ALL_CELLS, build
from rnnkit.cells import BUILT_IN, GRUCell, cell_names, make_cell, register_cell, unregister_cell
from rnnkit.errors import ConfigError
from rnnkit.layers import Recurrent, build_stack
from rnnkit.tasks import lm
from rnnkit.train import TrainConfig

TOL = dict(atol=1e-10, rtol=0)
ALICE = Path(__file__).parent / "fixtures" / "alice_head.txt"
SCAN_CELLS = tuple(name for name in ALL_CELLS if build(name).has_scan)


def randn(*shape: int, grad: bool = False) -> torch.Tensor:
    return torch.randn(*shape, dtype=torch.float64, requires_grad=grad)


@pytest.fixture
def scratch_name():
    """A cell name free for the test, forgotten afterwards."""
    yield "scratch-cell"
    unregister_cell("scratch-cell")


# -- the registry ----------------------------------------------------------------------------------
def test_a_registered_cell_is_known_by_name_until_unregistered(scratch_name) -> None:
    assert scratch_name not in cell_names()
    register_cell(scratch_name, GRUCell)
    assert cell_names()[: len(BUILT_IN)] == BUILT_IN and cell_names()[-1] == scratch_name
    assert isinstance(make_cell(scratch_name, 3, 4, bias=False), GRUCell)
    LMConfig = lm.LMConfig
    LMConfig(cell=scratch_name).check()  # the config's choices are the live registry
    unregister_cell(scratch_name)
    assert scratch_name not in cell_names()
    with pytest.raises(ValueError, match="unknown cell kind 'scratch-cell'"):
        make_cell(scratch_name, 3, 4)
    with pytest.raises(ConfigError, match="cell"):
        LMConfig(cell=scratch_name).check()
    unregister_cell(scratch_name)  # forgetting an unknown name is no error


def test_registering_a_name_twice_needs_replace(scratch_name) -> None:
    register_cell(scratch_name, GRUCell)
    with pytest.raises(ValueError, match="a cell named 'scratch-cell' is already registered"):
        register_cell(scratch_name, MinGRUCell)
    assert isinstance(make_cell(scratch_name, 3, 4), GRUCell)  # the first one stays
    register_cell(scratch_name, MinGRUCell, replace=True)
    assert isinstance(make_cell(scratch_name, 3, 4), MinGRUCell)


@pytest.mark.parametrize("name", BUILT_IN)
def test_built_in_cells_can_be_neither_replaced_nor_forgotten(name: str) -> None:
    for replace in (False, True):
        with pytest.raises(ValueError, match=f"'{name}' is a built-in cell and cannot be replaced"):
            register_cell(name, MinGRUCell, replace=replace)
    with pytest.raises(ValueError, match=f"'{name}' is a built-in cell"):
        unregister_cell(name)
    assert name in cell_names() and not isinstance(make_cell(name, 3, 4), MinGRUCell)


@pytest.mark.parametrize("name", ["", " mingru2", "min gru", 3])
def test_a_cell_name_is_one_word(name) -> None:
    with pytest.raises(ValueError, match="a cell name is one word"):
        register_cell(name, MinGRUCell)


def test_a_factory_must_be_callable_and_make_a_cell(scratch_name) -> None:
    with pytest.raises(ValueError, match="the factory for 'scratch-cell' must be callable"):
        register_cell(scratch_name, "MinGRUCell")
    register_cell(scratch_name, lambda i, h, **kw: nn.Linear(i, h))
    with pytest.raises(ValueError, match="registered as 'scratch-cell' made a Linear, not an "
                                         "rnnkit Cell"):
        make_cell(scratch_name, 3, 4)
    with pytest.raises(ValueError, match="made a Linear"):
        build_stack(scratch_name, 3, 4)


# -- minGRU, registered by name, works wherever a cell name does -----------------------------------
def test_the_example_registers_mingru_once() -> None:
    assert "my-mingru" in cell_names() and "my-mingru" not in BUILT_IN
    import custom_cell

    # a second import of the file (as another module): no error, the first class stays
    again = runpy.run_path(custom_cell.__file__, run_name="custom_cell_again")
    assert again["MinGRUCell"] is not MinGRUCell
    assert cell_names().count("my-mingru") == 1
    assert type(make_cell("my-mingru", 3, 4)) is MinGRUCell


def test_mingru_by_name_in_build_stack() -> None:
    torch.manual_seed(0)
    stack = build_stack(["lstm", "my-mingru", "my-mingru"], 3, 5).double()
    assert [type(layer.cell).__name__ for layer in stack.layers] == [
        "LSTMCell", "MinGRUCell", "MinGRUCell"]
    x = randn(2, 6, 3)
    out, states = stack(x)
    assert out.shape == (2, 6, 5) and [len(s) for s in states] == [2, 1, 1]
    by_hand = stack.layers[0](x)[0]
    for layer in stack.layers[1:]:
        by_hand = layer.cell.project(by_hand)
        h, rows = torch.zeros(2, 5, dtype=x.dtype), []
        for xp in by_hand.unbind(1):  # the example's equations, written out once more
            z, candidate = xp.chunk(2, -1)
            h = (1 - z.sigmoid()) * h + z.sigmoid() * candidate
            rows.append(h)
        by_hand = torch.stack(rows, 1)
    torch.testing.assert_close(out, by_hand, **TOL)


def test_mingru_language_model_trains_by_name(tmp_path: Path) -> None:
    config = lm.LMConfig(cell="my-mingru", hidden=48, embedding=24, batch=8, bptt=32)
    train = TrainConfig(steps=40, lr=1e-2, warmup=5, eval_every=20, log_every=10)
    metrics = lm.fit(str(ALICE), tmp_path, config, train, baseline=False)
    corpus = lm.prepare(str(ALICE), config)
    unigram = lm.ngram_baseline(corpus, "char", orders=(1,))["orders"][0]
    assert metrics["status"] == "finished" and metrics["steps"] == 40
    assert metrics["valid"]["loss"] < unigram["loss"] - 0.2
    assert json.loads((tmp_path / "config.json").read_text())["model"]["cell"] == "my-mingru"
    loaded = rnnkit.load(tmp_path)
    assert isinstance(loaded.model.rnn.layers[0].cell, MinGRUCell)
    assert len(loaded.generate("Alice", 10, temperature=0.0)) >= 10  # generation steps minGRU


# -- scan: the whole sequence at once equals the step loop -----------------------------------------
B, T, F, H = 4, 13, 3, 5  # 13 steps: four rounds of the scan, the last one partial
LENGTHS = torch.tensor([13, 6, 0, 1])


def masks() -> dict[str, dict]:
    holes = torch.rand(B, T, generator=torch.Generator().manual_seed(3)) < 0.7
    holes[1] = False  # a row with no real step at all
    return {
        "none": {},
        "lengths": {"lengths": LENGTHS},
        "left": {"mask": (torch.arange(T) < LENGTHS.unsqueeze(1)).flip(1)},
        "holes": {"mask": holes},
    }


def run_both(cell, steps: dict, reverse: bool, initial: bool, return_sequences: bool = True):
    """Outputs, final state and gradients (input, initial state, every parameter) of the
    auto path (the scan) and of the reference loop, on the same seeded tensors."""
    torch.manual_seed(1)
    x = randn(B, T, cell.input_size, grad=True)
    s0 = tuple(randn(B, n, grad=True) for n in cell.state_sizes) if initial else None
    results = []
    for backend in ("auto", "reference"):
        layer = Recurrent(cell, backend=backend, reverse=reverse,
                          return_sequences=return_sequences)
        out, final = layer(x, s0, **steps)
        leaves = [x, *(s0 or ()), *cell.parameters()]
        loss = (out * torch.linspace(-1, 1, out.size(-1), dtype=out.dtype)).sum() + sum(
            (s * s).sum() for s in final)
        results.append((out, *final, *torch.autograd.grad(loss, leaves)))
    return results


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("padding", ["none", "lengths", "left", "holes"])
@pytest.mark.parametrize("kind", SCAN_CELLS)
def test_scan_equals_the_step_loop(kind: str, padding: str, reverse: bool) -> None:
    cell = build(kind, F, H)
    for initial in (False, True):
        scanned, looped = run_both(cell, masks()[padding], reverse, initial)
        for a, b in zip(scanned, looped):
            torch.testing.assert_close(a, b, **TOL)
    last_scanned, last_looped = run_both(cell, masks()[padding], reverse, True, False)
    for a, b in zip(last_scanned, last_looped):
        torch.testing.assert_close(a, b, **TOL)


def test_mingru_scan_is_stable_on_long_sequences_and_saturated_gates() -> None:
    torch.manual_seed(0)
    cell = MinGRUCell(2, 8)
    with torch.no_grad():
        cell.weight_ih.mul_(40)  # gates at 0 and 1 to float32's precision: cumulative products
    x = torch.randn(3, 3000, 2)  # underflow, where dividing by them (or taking logs) would fail
    scanned = Recurrent(cell)(x)
    looped = Recurrent(cell, backend="reference")(x)
    assert all(t.isfinite().all() for t in (*scanned[1], scanned[0]))
    torch.testing.assert_close(scanned[0], looped[0], atol=1e-5, rtol=1e-5)


# -- which path runs -------------------------------------------------------------------------------
@pytest.fixture
def scans(monkeypatch) -> list:
    """The calls of MinGRUCell.scan made during a test."""
    calls = []
    original = MinGRUCell.scan

    def spy(self, xp, state, mask=None):
        calls.append(None if mask is None else mask.clone())
        return original(self, xp, state, mask)

    monkeypatch.setattr(MinGRUCell, "scan", spy)
    return calls


def test_recurrent_takes_the_scan_whenever_no_step_needs_to_be_seen(scans) -> None:
    cell = build("my-mingru", F, H)
    assert cell.has_scan and cell.native_spec() is None
    assert [kind for kind in BUILT_IN if build(kind).has_scan] == [
        "ln-lstm", "ln-gru", "minlstm", "mingru"]
    x, hole = randn(2, T, F), torch.ones(2, T, dtype=torch.bool)
    hole[0, 4] = False
    Recurrent(cell)(x)
    Recurrent(cell)(x, mask=hole)  # a mask with holes: a scan carries the state over them
    Recurrent(cell, backend="native")(x)  # "native" means any whole-sequence path
    Recurrent(cell, reverse=True, recurrent_dropout=0.3).eval()(x)  # off in evaluation
    assert len(scans) == 4 and torch.equal(scans[1], hole)
    assert scans[0] is None and scans[2] is None  # no mask: every step is real
    Recurrent(cell, backend="reference")(x)
    Recurrent(cell)(x, trajectories=True)
    Recurrent(cell, zoneout=0.1)(x)
    Recurrent(cell, recurrent_dropout=0.3).train()(x)
    Recurrent(cell).step(x[:, 0])
    assert len(scans) == 4  # each of these needs (or is) the per-step view
    with pytest.raises(ValueError, match="backend='native' cannot run this call: trajectories"):
        Recurrent(cell, backend="native")(x, trajectories=True)


def test_mingru_has_no_recurrent_weight_to_drop() -> None:
    cell = build("mingru", F, H)
    with pytest.raises(ValueError, match="dropconnect needs a cell with a weight_hh, MinGRUCell "
                                         "has none"):
        Recurrent(cell, dropconnect=0.5)
    with pytest.raises(ValueError, match="MinGRUCell has no recurrent weight"):
        cell.step(cell.project(randn(2, F)), cell.initial_state(2), weight_hh=randn(H, H))
    # recurrent dropout has no matmul to act on: h_mask changes nothing
    xp, state = cell.project(randn(2, F)), (randn(2, H),)
    (plain,), _ = cell.step(xp, state)
    (masked,), _ = cell.step(xp, state, h_mask=torch.zeros(2, H, dtype=torch.float64))
    assert torch.equal(plain, masked)
