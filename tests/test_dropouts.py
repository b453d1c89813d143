"""The four dropouts of a Recurrent layer do what their papers say, only in training.

Masks are observed either through a cell whose output is its input (Elman, relu, identity input
weight, no recurrence) or by wrapping the function that draws them and replaying the math by hand.
"""

from __future__ import annotations

import math

import pytest
import torch

from rnnkit import ElmanCell, Recurrent, Stack
from rnnkit.layers import recurrent as recurrent_module

TOL = dict(atol=1e-10, rtol=0)
B, T, F = 8, 5, 16


def identity_cell(size: int = F) -> ElmanCell:
    """h_t = relu(x_t): the layer's output shows exactly what reached the cell."""
    cell = ElmanCell(size, size, nonlinearity="relu").double()
    with torch.no_grad():
        cell.weight_ih.copy_(torch.eye(size))
        cell.weight_hh.zero_()
        cell.bias_ih.zero_()
        cell.bias_hh.zero_()
    return cell


def spy(monkeypatch, name: str) -> list:
    """Record every value ``recurrent_module.<name>`` returns."""
    seen, real = [], getattr(recurrent_module, name)

    def wrapper(*args, **kwargs):
        seen.append(real(*args, **kwargs))
        return seen[-1]

    monkeypatch.setattr(recurrent_module, name, wrapper)
    return seen


def assert_one_mask_per_sequence(out: torch.Tensor, p: float) -> None:
    """Values are 0 or 1/(1-p), the same at every step of a row, and rows differ."""
    scale = 1 / (1 - p)
    assert torch.all((out == 0) | ((out - scale).abs() < 1e-12))
    assert torch.equal(out, out[:, :1].expand_as(out))  # zeros line up across time
    assert 0 < (out == 0).double().mean() < 1
    assert not torch.equal(out[0, 0], out[1, 0])


# -- variational dropout on inputs and outputs ----------------------------------------------------
@pytest.mark.parametrize("backend", ["native", "reference"])
@pytest.mark.parametrize("where", ["input_dropout", "output_dropout"])
def test_variational_dropout_uses_one_mask_for_every_step(where: str, backend: str) -> None:
    torch.manual_seed(0)
    layer = Recurrent(identity_cell(), backend=backend, **{where: 0.5})
    x = torch.ones(B, T, F, dtype=torch.float64)
    out, _ = layer(x)
    assert_one_mask_per_sequence(out, 0.5)
    out2, _ = layer(x)
    assert not torch.equal(out, out2)  # a new mask for every call
    assert torch.equal(layer.eval()(x)[0], x)  # evaluation: no dropout, no rescaling


# -- recurrent dropout ----------------------------------------------------------------------------
def test_recurrent_dropout_masks_only_h_entering_the_matmul(build_cell, monkeypatch) -> None:
    cell = build_cell("lstm", 3, 4)
    masks = spy(monkeypatch, "variational_mask")
    layer = Recurrent(cell, recurrent_dropout=0.5)
    x = torch.randn(2, T, 3, dtype=torch.float64)
    out, (h_T, c_T) = layer(x)
    (m,) = masks  # one mask for the whole sequence
    assert m.shape == (2, 4) and (m == 0).any() and (m == 2).any()
    W_ih, W_hh, b = cell.weight_ih, cell.weight_hh, cell.bias_ih + cell.bias_hh
    h = c = torch.zeros(2, 4, dtype=torch.float64)
    for t in range(T):
        a_i, a_f, a_g, a_o = (x[:, t] @ W_ih.T + b + (h * m) @ W_hh.T).chunk(4, -1)
        c = a_f.sigmoid() * c + a_i.sigmoid() * a_g.tanh()  # the memory path is never dropped
        h = a_o.sigmoid() * c.tanh()  # nor is the h the layer emits
        torch.testing.assert_close(out[:, t], h, **TOL)
    torch.testing.assert_close(c_T, c, **TOL)
    torch.testing.assert_close(h_T, h, **TOL)


def test_recurrent_dropout_is_off_in_evaluation(build_cell) -> None:
    cell = build_cell("gru")
    x = torch.randn(2, T, 3, dtype=torch.float64)
    plain, _ = Recurrent(cell)(x)
    layer = Recurrent(
        cell, recurrent_dropout=0.5, backend="native"
    ).eval()  # native: no loop needed
    torch.testing.assert_close(layer(x)[0], plain, **TOL)
    training = Recurrent(cell, recurrent_dropout=0.5)
    assert not torch.allclose(training(x)[0], plain)


# -- zoneout --------------------------------------------------------------------------------------
def test_zoneout_in_training_keeps_each_unit_or_updates_it(build_cell) -> None:
    torch.manual_seed(1)
    cell = build_cell("lstm", 3, 4)
    x = torch.randn(6, T, 3, dtype=torch.float64)
    _, _, traj = Recurrent(cell, zoneout=0.4)(x, trajectories=True)
    state = cell.initial_state(6)
    xp = cell.project(x)
    kept = []
    for t, new_state in enumerate(traj.step_states):
        updated, _ = cell.step(xp[:, t], state)
        for old, new, got in zip(state, updated, new_state):
            keep = got == old
            assert torch.equal(got, torch.where(keep, old, new))  # every unit is one or the other
            kept.append(keep & (old != new))
        state = new_state
    frac = torch.cat([k.flatten() for k in kept]).double().mean()
    assert 0.25 < frac < 0.55  # about p = 0.4 of the units kept (240 draws)


def test_zoneout_in_evaluation_is_the_expectation(build_cell) -> None:
    cell = build_cell("lstm", 3, 4)
    x = torch.randn(2, T, 3, dtype=torch.float64)
    out, final = Recurrent(cell, zoneout=0.3).eval()(x)
    state = cell.initial_state(2)
    for t, xp in enumerate(cell.project(x).unbind(1)):
        new, _ = cell.step(xp, state)
        state = tuple(0.3 * old + 0.7 * n for old, n in zip(state, new))
        torch.testing.assert_close(out[:, t], state[0], **TOL)
    for a, b in zip(final, state):
        torch.testing.assert_close(a, b, **TOL)


# -- DropConnect ----------------------------------------------------------------------------------
def test_dropconnect_is_one_weight_per_call(build_cell, monkeypatch) -> None:
    cell = build_cell("gru", 3, 4)
    dropped = spy(monkeypatch, "dropconnect")
    layer = Recurrent(cell, dropconnect=0.5, backend="reference")
    x = torch.randn(2, T, 3, dtype=torch.float64)
    out, _ = layer(x)
    layer(x)
    w1, w2 = dropped
    assert not torch.equal(w1 == 0, w2 == 0)  # a new mask for every forward call
    kept = w1 != 0
    torch.testing.assert_close(w1[kept], 2 * cell.weight_hh[kept], **TOL)
    state = cell.initial_state(2)
    for t, xp in enumerate(cell.project(x).unbind(1)):  # the same weight at every step
        state, _ = cell.step(xp, state, weight_hh=w1)
        torch.testing.assert_close(out[:, t], state[0], **TOL)
    (grad,) = torch.autograd.grad(out.sum(), [cell.weight_hh])
    assert torch.all(grad[~kept] == 0) and grad[kept].abs().sum() > 0


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn", "lstm-proj"])
def test_dropconnect_runs_on_the_native_path_and_equals_reference(kind, build_cell) -> None:
    cell = build_cell(kind, 3, 4)
    x = torch.randn(3, T, 3, dtype=torch.float64)
    lengths = torch.tensor([5, 2, 4])
    results = []
    for backend in ("native", "reference"):
        torch.manual_seed(7)  # the dropped weight is the only random draw: the same in both
        results.append(Recurrent(cell, dropconnect=0.3, backend=backend)(x, lengths=lengths))
    (o1, f1), (o2, f2) = results
    torch.testing.assert_close(o1, o2, **TOL)
    for a, b in zip(f1, f2):
        torch.testing.assert_close(a, b, **TOL)
    plain, _ = Recurrent(cell)(x, lengths=lengths)
    assert not torch.allclose(o1, plain)
    torch.testing.assert_close(
        Recurrent(cell, dropconnect=0.3).eval()(x, lengths=lengths)[0], plain
    )


# -- validation -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name", ["input_dropout", "output_dropout", "recurrent_dropout", "zoneout", "dropconnect"]
)
@pytest.mark.parametrize("p", [1.0, -0.1, math.nan, 2])
def test_probabilities_outside_zero_one_are_refused(name: str, p: float) -> None:
    with pytest.raises(ValueError, match=rf"{name} must be in \[0, 1\), got {p}"):
        Recurrent(ElmanCell(2, 3), **{name: p})


def test_stack_dropout_probability_is_checked() -> None:
    with pytest.raises(ValueError, match=r"dropout must be in \[0, 1\), got 1.5"):
        Stack([ElmanCell(2, 3)], dropout=1.5)
