"""rnnkit.inspect: gradients through time show vanishing gradients, and equal finite differences
and a hand-written backward pass; gate statistics summarise the real steps only."""

from __future__ import annotations

import math

import pytest
import torch

from rnnkit import Bidirectional, ElmanCell, GRUCell, LSTMCell, Recurrent, Stack
from rnnkit.inspect import gate_statistics, gradients_through_time
from rnnkit.layers import lengths_to_mask

T = 12


def last_output_loss(out: torch.Tensor) -> torch.Tensor:
    return out[:, -1].sum()


def small_recurrence(cell, scale: float = 0.3):
    """The cell with its recurrent weight shrunk: a contraction, the textbook vanishing case."""
    with torch.no_grad():
        cell.weight_hh.mul_(scale)
    return cell


@pytest.fixture
def x() -> torch.Tensor:
    torch.manual_seed(0)
    return torch.randn(2, T, 3, dtype=torch.float64)


def test_elman_gradients_vanish_going_back_in_time(x) -> None:
    torch.manual_seed(1)
    g = gradients_through_time(
        Recurrent(small_recurrence(ElmanCell(3, 4).double())), x, last_output_loss
    )
    assert g.shape == (T,) and g.dtype == torch.float64
    assert torch.all(g[:-1] < g[1:])  # strictly smaller at every step back
    assert g[0] / g[-1] < 1e-6
    assert g[-1] == pytest.approx(math.sqrt(2 * 4))  # dL/dh_T is all ones (2 rows x 4 units)


def test_lstm_with_high_forget_bias_keeps_its_gradients(x) -> None:
    torch.manual_seed(1)
    elman = Recurrent(small_recurrence(ElmanCell(3, 4).double()))
    lstm = Recurrent(small_recurrence(LSTMCell(3, 4, forget_bias=5.0).double()))
    g_elman = gradients_through_time(elman, x, last_output_loss)
    g_lstm = gradients_through_time(lstm, x, last_output_loss)
    g_cell = gradients_through_time(lstm, x, last_output_loss, state_name="c")
    # beyond the first step back the LSTM's gradient stays level; the Elman one keeps shrinking
    assert g_lstm[0] / g_lstm[-2] > 0.1 and g_elman[0] / g_elman[-2] < 1e-6
    assert (g_lstm[0] / g_lstm[-1]) > 1e4 * (g_elman[0] / g_elman[-1])
    assert g_cell[0] / g_cell[-1] > 0.5  # the memory path carries it almost undiminished


@pytest.mark.parametrize("kind", ["elman", "lstm"])
def test_gradient_norms_equal_finite_differences(kind: str, x) -> None:
    torch.manual_seed(2)
    cell = ElmanCell(3, 4).double() if kind == "elman" else LSTMCell(3, 4).double()
    layer = Recurrent(cell)
    g = gradients_through_time(layer, x, last_output_loss)
    _, _, traj = layer(x, trajectories=True)
    eps = 1e-6
    for t in (2, 7):
        state = tuple(s.detach() for s in traj.step_states[t])

        def rest(h: torch.Tensor, state=state, t=t) -> float:  # the loss from step t on, given h_t
            with torch.no_grad():
                return last_output_loss(layer(x[:, t + 1 :], (h, *state[1:]))[0]).item()

        numeric = torch.zeros(state[0].numel(), dtype=x.dtype)
        for i in range(numeric.numel()):  # central differences, one coordinate of h_t at a time
            bump = torch.zeros_like(numeric)
            bump[i] = eps
            bump = bump.view_as(state[0])
            numeric[i] = (rest(state[0] + bump) - rest(state[0] - bump)) / (2 * eps)
        assert numeric.norm() > 1e-3
        assert g[t].item() == pytest.approx(numeric.norm().item(), rel=1e-6)


def test_gradient_norms_equal_a_hand_written_backward_pass(x) -> None:
    torch.manual_seed(3)
    cell = ElmanCell(3, 4).double()
    layer = Recurrent(cell)
    g = gradients_through_time(layer, x, last_output_loss)
    with torch.no_grad():
        out, _ = layer(x)
        delta = torch.ones(2, 4, dtype=x.dtype)  # dL/dh_T
        want = [delta.norm()]
        for t in range(T - 1, 0, -1):  # h_t = tanh(a_t): dL/dh_{t-1} = (δ_t ⊙ (1 - h_t²)) W_hh
            delta = (delta * (1 - out[:, t] ** 2)) @ cell.weight_hh
            want.append(delta.norm())
    torch.testing.assert_close(g, torch.stack(want[::-1]), atol=1e-12, rtol=1e-10)


def test_reverse_layer_gradients_are_in_time_order(x) -> None:
    torch.manual_seed(4)
    cell = small_recurrence(ElmanCell(3, 4).double())
    g_rev = gradients_through_time(Recurrent(cell, reverse=True), x, lambda o: o[:, 0].sum())
    g_fwd = gradients_through_time(Recurrent(cell), x.flip(1), last_output_loss)
    torch.testing.assert_close(g_rev, g_fwd.flip(0), atol=1e-14, rtol=1e-12)
    assert torch.all(g_rev[1:] < g_rev[:-1])  # vanishing towards the end of the sequence


def test_bidirectional_and_stack_rows(x) -> None:
    torch.manual_seed(5)
    fwd, bwd = GRUCell(3, 4).double(), GRUCell(3, 4).double()
    g = gradients_through_time(Bidirectional(fwd, bwd), x, lambda o: o.sum())
    assert g.shape == (2, T)
    torch.testing.assert_close(g[0], gradients_through_time(Recurrent(fwd), x, lambda o: o.sum()))
    torch.testing.assert_close(
        g[1], gradients_through_time(Recurrent(bwd, reverse=True), x, lambda o: o.sum())
    )

    top = Recurrent(LSTMCell(8, 4).double())
    lengths = torch.tensor([T, 7])
    stack = Stack([Bidirectional(fwd, bwd), top])
    g = gradients_through_time(stack, x, last_output_loss, lengths=lengths)
    assert g.shape == (2, T) and torch.all(torch.isfinite(g)) and torch.all(g[0] > 0)
    with torch.no_grad():
        mid, _ = stack.layers[0](x, lengths=lengths)
    torch.testing.assert_close(
        g[1], gradients_through_time(top, mid, last_output_loss, lengths=lengths)
    )


def test_gate_statistics_summarise_real_steps(x) -> None:
    torch.manual_seed(6)
    lengths = torch.tensor([T, 5])
    lstm = Recurrent(small_recurrence(LSTMCell(3, 4, forget_bias=5.0).double()))
    _, _, traj = lstm(x, lengths=lengths, trajectories=True)
    stats = gate_statistics(traj, lengths=lengths)
    assert set(stats) == {"i", "f", "o"}  # g is a tanh, not a gate that saturates at 0 / 1
    assert stats["f"]["mean"] > 0.95 and stats["f"]["saturated"] == 1.0 == stats["f"]["high"]
    real = lengths_to_mask(lengths, T)
    for name, s in stats.items():
        values = traj[name][real]
        assert s["mean"] == pytest.approx(values.mean().item())
        assert s["low"] == pytest.approx((values < 0.1).double().mean().item())
        assert s["saturated"] == pytest.approx(s["low"] + s["high"])
    # without the lengths the zeros at padded steps count as saturated low
    assert gate_statistics(traj)["i"]["low"] == pytest.approx(stats["i"]["low"] * 17 / 24 + 7 / 24)

    _, _, gru_traj = Recurrent(GRUCell(3, 4).double())(x, trajectories=True)
    assert set(gate_statistics(gru_traj)) == {"r", "z"}
    _, _, elman_traj = Recurrent(ElmanCell(3, 4).double())(x, trajectories=True)
    assert gate_statistics(elman_traj) == {}


def test_inspect_errors_name_the_problem(x) -> None:
    gru = Recurrent(GRUCell(3, 4).double())
    with pytest.raises(ValueError, match=r"GRUCell has states \('h',\), not 'c'"):
        gradients_through_time(gru, x, last_output_loss, state_name="c")
    with pytest.raises(ValueError, match=r"loss_fn must return a scalar tensor, got \(2, 4\)"):
        gradients_through_time(gru, x, lambda o: o[:, -1])
    with pytest.raises(
        ValueError, match="needs a Recurrent, Bidirectional or Stack layer, got GRUCell"
    ):
        gradients_through_time(gru.cell, x, last_output_loss)
    _, _, traj = gru(x, trajectories=True)
    with pytest.raises(
        ValueError, match=r"no gate named 'f'; this trajectory has \('r', 'z', 'n'\)"
    ):
        gate_statistics(traj, gates=["f"])
