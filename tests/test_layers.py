"""Recurrent, Bidirectional and Stack: the fused path equals the reference loop, and both equal
running the cell by hand (or torch.nn) on the real steps of every row."""

from __future__ import annotations

import itertools

import pytest
import torch
from torch import nn

from rnnkit import Bidirectional, ElmanCell, GRUCell, LSTMCell, Recurrent, Stack
from rnnkit.layers import build_stack
from rnnkit.layers import recurrent as recurrent_module

TOL = dict(atol=1e-10, rtol=0)
B, T, F = 4, 6, 3
LENGTHS = torch.tensor([6, 3, 0, 1])  # a full row, a short one, an empty one, a single step
RIGHT = torch.arange(T) < LENGTHS.unsqueeze(1)
LEFT = RIGHT.flip(1)


def randn(*shape: int, grad: bool = False) -> torch.Tensor:
    return torch.randn(*shape, dtype=torch.float64, requires_grad=grad)


def by_hand(cell, x_row: torch.Tensor, state=None):
    """``cell.step`` over one row ``x_row (T, F)``: lists of h, of states and of gates."""
    state = cell.initial_state(1) if state is None else tuple(s[None] for s in state)
    hs, states, gates = [], [], []
    for xp in cell.project(x_row[None]).unbind(1):
        state, g = cell.step(xp, state)
        hs.append(state[0][0])
        states.append(tuple(s[0] for s in state))
        gates.append(tuple(gi[0] for gi in g))
    return hs, states, gates


def assert_all_close(got, want) -> None:
    """Pairwise equal to 1e-10: two equally long sequences of tensors."""
    for a, b in zip(got, want, strict=True):
        torch.testing.assert_close(a, b, **TOL)


def weighted_loss(out: torch.Tensor, final) -> torch.Tensor:
    """A loss that weighs every output element differently, so misplaced gradients show."""
    w = torch.sin(torch.arange(out.numel(), dtype=out.dtype)).reshape(out.shape)
    return (out * w).sum() + sum((s**2).sum() for s in final)


# -- the fused path equals the reference loop -----------------------------------------------------
def test_native_equals_reference(native_cell: str, build_cell) -> None:
    cell = build_cell(native_cell)
    x = randn(B, T, F, grad=True)
    s0 = tuple(randn(B, n, grad=True) for n in cell.state_sizes)
    steps = {
        "all": {},
        "lengths": {"lengths": LENGTHS},
        "right": {"mask": RIGHT},
        "left": {"mask": LEFT},
    }
    for (name, kw), reverse, seqs, init in itertools.product(
        steps.items(), [False, True], [True, False], [False, True]
    ):
        results = []
        for backend in ("native", "reference"):
            layer = Recurrent(cell, backend=backend, reverse=reverse, return_sequences=seqs)
            out, final = layer(x, s0 if init else None, **kw)
            wrt = [x, *cell.parameters(), *(s0 if init else ())]
            results.append((out, final, torch.autograd.grad(weighted_loss(out, final), wrt)))
        (o1, f1, g1), (o2, f2, g2) = results
        case = f"{name}, reverse={reverse}, return_sequences={seqs}, initial state={init}"
        torch.testing.assert_close(o1, o2, **TOL, msg=case)
        for a, b in itertools.chain(zip(f1, f2), zip(g1, g2)):
            torch.testing.assert_close(a, b, **TOL, msg=case)


@pytest.mark.parametrize(
    "make",
    [ElmanCell, LSTMCell, GRUCell, lambda f, h, **k: LSTMCell(f, h, proj_size=2, **k)],
    ids=["rnn", "lstm", "gru", "lstm-proj"],
)
def test_native_equals_reference_without_biases(make) -> None:
    torch.manual_seed(0)
    cell = make(F, 4, bias=False).double()
    x = randn(B, T, F)
    native, reference = (
        Recurrent(cell, backend=backend, reverse=True)(x, mask=LEFT)
        for backend in ("native", "reference")
    )
    assert_all_close((native[0], *native[1]), (reference[0], *reference[1]))


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_float32_native_gradients_in_eval_mode_equal_reference(kind: str, build_cell) -> None:
    # float32 on the CPU goes through oneDNN's kernels, float64 never does
    cell = build_cell(kind).float()
    x = torch.randn(B, T, F, requires_grad=True)
    grads = []
    for backend in ("native", "reference"):
        layer = Recurrent(cell, backend=backend).eval()
        out, final = layer(x, lengths=LENGTHS)
        grads.append(torch.autograd.grad(weighted_loss(out, final), [x, *cell.parameters()]))
    for a, b in zip(*grads):
        assert a.abs().sum() > 0
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def test_double_backward_agrees_between_paths(build_cell) -> None:
    cell = build_cell("lstm")
    x = randn(B, T, F, grad=True)
    results = []
    for backend in ("native", "reference"):
        out, _ = Recurrent(cell, backend=backend)(x, lengths=LENGTHS)
        (gx,) = torch.autograd.grad(out.pow(2).sum(), [x], create_graph=True)
        results.append(torch.autograd.grad(gx.pow(2).sum(), list(cell.parameters())))
    assert_all_close(*results)


# -- every layer equals the cell run by hand on each row's real steps -----------------------------
@pytest.mark.parametrize("padding", ["right", "left"])
@pytest.mark.parametrize("reverse", [False, True])
def test_layer_equals_cell_by_hand_on_real_steps(any_cell, build_cell, padding, reverse) -> None:
    cell = build_cell(any_cell)
    x = randn(B, T, F)
    s0 = tuple(randn(B, n) for n in cell.state_sizes)
    mask = RIGHT if padding == "right" else LEFT
    out, final = Recurrent(cell, reverse=reverse)(x, s0, mask=mask)
    last, _ = Recurrent(cell, reverse=reverse, return_sequences=False)(x, s0, mask=mask)
    for b in range(B):
        real = mask[b].nonzero().squeeze(1)
        order = real.flip(0) if reverse else real
        hs, states, _ = by_hand(cell, x[b, order], tuple(s[b] for s in s0))
        for t, h in zip(order.tolist(), hs):
            torch.testing.assert_close(out[b, t], h, **TOL)
        assert out[b, ~mask[b]].abs().sum() == 0  # padded steps are zero
        want_final = states[-1] if states else tuple(s[b] for s in s0)
        assert_all_close([s[b] for s in final], want_final)
        torch.testing.assert_close(last[b], hs[-1] if hs else torch.zeros_like(last[b]), **TOL)


@pytest.mark.parametrize("reverse", [False, True])
def test_mask_hole_carries_state_over_skipped_steps(any_cell, build_cell, reverse) -> None:
    cell = build_cell(any_cell)
    x = randn(2, T, F)
    mask = torch.ones(2, T, dtype=torch.bool)
    mask[0, 2] = mask[0, 3] = False  # a hole in the middle of row 0
    mask[1, 0] = mask[1, 4] = False  # left padding and a hole in row 1
    out, final = Recurrent(cell, reverse=reverse)(x, mask=mask)
    last, _ = Recurrent(cell, reverse=reverse, return_sequences=False)(x, mask=mask)
    if cell.native_spec() is not None:
        with pytest.raises(ValueError, match="a mask with holes needs the per-step loop"):
            Recurrent(cell, backend="native")(x, mask=mask)
    for b in range(2):
        keep = mask[b]
        out_b, final_b = Recurrent(cell, reverse=reverse)(x[b : b + 1, keep])
        torch.testing.assert_close(out[b, keep], out_b[0], **TOL)
        assert out[b, ~keep].abs().sum() == 0
        assert_all_close([s[b] for s in final], [s[0] for s in final_b])
        torch.testing.assert_close(last[b], out_b[0, 0 if reverse else -1], **TOL)


@pytest.mark.parametrize("padding", ["right", "left"])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("backend", ["native", "reference"])
def test_nan_at_padded_steps_reaches_neither_outputs_nor_gradients(
    backend, reverse, padding, build_cell
) -> None:
    # NaN padding is natural for series of unequal lengths (missing values)
    cell = build_cell("lstm")
    mask = RIGHT if padding == "right" else LEFT
    x = randn(B, T, F)
    x[~mask] = float("nan")
    out, final = Recurrent(cell, backend=backend, reverse=reverse)(x, mask=mask)
    grads = torch.autograd.grad(weighted_loss(out, final), list(cell.parameters()))
    assert not out.isnan().any() and not any(s.isnan().any() for s in final)
    assert not any(g.isnan().any() for g in grads)


# -- trajectories ---------------------------------------------------------------------------------
@pytest.mark.parametrize("reverse", [False, True])
def test_trajectories_equal_a_manual_step_loop(any_cell, build_cell, reverse) -> None:
    cell = build_cell(any_cell)
    x = randn(B, T, F)
    out, final, traj = Recurrent(cell, reverse=reverse)(x, lengths=LENGTHS, trajectories=True)
    torch.testing.assert_close(traj["h"], out, **TOL)  # the h trajectory is the output
    assert set(traj.states) == set(cell.state_names) and set(traj.gates) == set(cell.gate_names)
    assert len(traj.step_states) == T
    for b in range(B):
        n = int(LENGTHS[b])
        order = torch.arange(n).flip(0) if reverse else torch.arange(n)
        _, states, gates = by_hand(cell, x[b, order])
        for k, t in enumerate(order.tolist()):
            for i, name in enumerate(cell.state_names):
                torch.testing.assert_close(traj.states[name][b, t], states[k][i], **TOL)
            for i, name in enumerate(cell.gate_names):
                torch.testing.assert_close(traj[name][b, t], gates[k][i], **TOL)
        for tensor in (*traj.states.values(), *traj.gates.values()):
            assert tensor[b, n:].abs().sum() == 0  # padded steps are zero
    # step_states are in processing order: the last one is the final state
    assert_all_close(traj.step_states[-1], final)


# -- Bidirectional --------------------------------------------------------------------------------
@pytest.mark.parametrize("merge", ["concat", "sum", "mean", "mul"])
def test_bidirectional_merges_a_forward_and_a_reverse_run(merge: str, build_cell) -> None:
    fwd_cell, bwd_cell = build_cell("lstm", seed=1), build_cell("ln-lstm", seed=2)
    x = randn(B, T, F)
    bi = Bidirectional(fwd_cell, bwd_cell, merge=merge)
    out, (sf, sb) = bi(x, lengths=LENGTHS)
    f, f_state = Recurrent(fwd_cell)(x, lengths=LENGTHS)
    # the backward direction by hand: the cell over each row's real steps, last to first
    b, b_state = torch.zeros_like(f), tuple(torch.zeros(B, 4, dtype=x.dtype) for _ in range(2))
    for row, n in enumerate(LENGTHS.tolist()):
        if n:
            hs, states, _ = by_hand(bwd_cell, x[row, :n].flip(0))
            b[row, :n] = torch.stack(hs).flip(0)
            for s, last in zip(b_state, states[-1]):
                s[row] = last
    want = {"concat": torch.cat([f, b], -1), "sum": f + b, "mean": (f + b) / 2, "mul": f * b}[merge]
    torch.testing.assert_close(out, want, **TOL)
    assert bi.output_size == out.shape[-1] == (8 if merge == "concat" else 4)
    assert_all_close((*sf, *sb), (*f_state, *b_state))


def test_bidirectional_last_step_and_default_backward_copy(build_cell) -> None:
    cell = build_cell("gru")
    bi = Bidirectional(Recurrent(cell, return_sequences=False))
    assert not torch.equal(bi.backward_layer.cell.weight_hh, cell.weight_hh)  # fresh weights
    x = randn(B, T, F)
    last, _ = bi(x, lengths=LENGTHS)
    full, _ = Bidirectional(bi.forward_layer.cell, bi.backward_layer.cell)(x, lengths=LENGTHS)
    for b, n in enumerate(LENGTHS.tolist()):
        want = torch.cat([full[b, n - 1, :4], full[b, 0, 4:]]) if n else torch.zeros(8)
        torch.testing.assert_close(last[b], want.double(), **TOL)


def test_stack_of_mixed_cells_equals_running_the_layers_by_hand(build_cell) -> None:
    gru, lstm = build_cell("gru", F, 5, seed=1), build_cell("lstm", 5, 4, seed=2)
    x = randn(B, T, F)
    stack = Stack([Recurrent(gru), Recurrent(lstm)])
    out, states, trajs = stack(x, lengths=LENGTHS, trajectories=True)
    mid, s1 = Recurrent(gru)(x, lengths=LENGTHS)
    want, s2 = Recurrent(lstm)(mid, lengths=LENGTHS)
    torch.testing.assert_close(out, want, **TOL)
    assert_all_close((*states[0], *states[1]), (*s1, *s2))
    torch.testing.assert_close(trajs[0]["h"], mid, **TOL)
    assert len(trajs) == 2 and "c" in trajs[1].states
    named = build_stack(["gru", "lstm"], F, 4)
    assert [type(layer.cell).__name__ for layer in named.layers] == ["GRUCell", "LSTMCell"]
    both_ways = build_stack("gru", F, 4, num_layers=2, bidirectional=True, merge="sum")
    assert both_ways.layers[1].input_size == 4
    assert both_ways(x.float(), lengths=LENGTHS)[0].shape == (B, T, 4)


def test_stack_dropout_acts_between_layers_only_in_training(build_cell) -> None:
    first, second = build_cell("gru", F, 5, seed=1), build_cell("lstm", 5, 4, seed=2)
    stack = Stack([first, second], dropout=0.5)
    x = randn(B, T, F)
    plain, _ = Stack([first, second])(x)
    torch.testing.assert_close(stack.eval()(x)[0], plain, **TOL)
    stack.train()
    torch.manual_seed(11)
    out, _ = stack(x)
    torch.manual_seed(11)
    mid, _ = Recurrent(first)(x)
    dropped = nn.functional.dropout(mid, 0.5, training=True)
    want, _ = Recurrent(second)(dropped)
    assert (dropped == 0).any()
    torch.testing.assert_close(out, want, **TOL)
    assert (out != plain).any() and (out != 0).all()  # nothing dropped after the last layer


# -- backends -------------------------------------------------------------------------------------
def test_auto_backend_uses_the_fused_kernel_only_when_it_can(build_cell, monkeypatch) -> None:
    calls = []
    real = recurrent_module.run_native
    monkeypatch.setattr(
        recurrent_module, "run_native", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    x, hole = randn(2, T, F), torch.ones(2, T, dtype=torch.bool)
    hole[0, 2] = False
    lstm = Recurrent(build_cell("lstm"))
    lstm(x, mask=LEFT[:2])
    assert len(calls) == 1
    lstm(x, trajectories=True)
    lstm(x, mask=hole)
    Recurrent(build_cell("lstm"), backend="reference")(x)
    Recurrent(build_cell("ln-lstm"))(x)
    Recurrent(build_cell("lstm"), zoneout=0.1)(x)
    assert len(calls) == 1


def test_forcing_native_where_it_cannot_run_raises(build_cell) -> None:
    x = randn(2, T, F)
    with pytest.raises(
        ValueError,
        match="backend='native' cannot run this call: GRUCell "
        "has no fused kernel and no scan; use 'auto'",
    ):
        Recurrent(GRUCell(F, 4, reset_after=False).double(), backend="native")(x)
    with pytest.raises(ValueError, match="trajectories need the per-step loop"):
        Recurrent(build_cell("lstm"), backend="native")(x, trajectories=True)
    with pytest.raises(ValueError, match="recurrent dropout needs the per-step loop"):
        Recurrent(build_cell("gru"), backend="native", recurrent_dropout=0.2)(x)


# -- bad input: every message says what was expected and what was given ---------------------------
ONES = torch.ones(2, T, dtype=torch.bool)
BAD_CALLS = {  # what is wrong: (arguments, the message); an LSTMCell(3, 4) reads x (2, 6, 3)
    "rank": (dict(x=(2, F)), r"input must have shape \(batch, time, 3\), got \(2, 3\)"),
    "features": (dict(x=(2, T, 5)), r"input must have shape \(batch, time, 3\), got \(2, 6, 5\)"),
    "no steps": (dict(x=(2, 0, F)), r"input has no time steps"),
    "long": (dict(lengths=torch.tensor([7, 2])), r"lie in \[0, 6\].*got min 2 and max 7"),
    "negative": (dict(lengths=torch.tensor([3, -1])), r"lengths must lie in \[0, 6\].*min -1"),
    "float": (dict(lengths=torch.tensor([3.0, 2.0])), r"integer tensor, got torch.float32"),
    "lengths shape": (dict(lengths=torch.tensor([3])), r"lengths must have shape \(2,\).*\(1,\)"),
    "mask shape": (dict(mask=ONES[:, 1:]), r"mask must have shape \(2, 6\), got \(2, 5\)"),
    "mask dtype": (dict(mask=ONES.float()), r"mask must be a bool tensor.*got torch.float32"),
    "both": (dict(lengths=torch.tensor([3, 2]), mask=ONES), r"lengths or mask, not both"),
    "state": (
        dict(state=(torch.zeros(2, 4), torch.zeros(2, 5))),
        r"LSTMCell state \(h, c\) must have shapes \(\(2, 4\), \(2, 4\)\), "
        r"got \(\(2, 4\), \(2, 5\)\)",
    ),
    "state count": (dict(state=torch.zeros(2, 4)), r"got \(\(2, 4\),\)"),
}


@pytest.mark.parametrize("backend", ["auto", "reference"])
@pytest.mark.parametrize("case", list(BAD_CALLS))
def test_bad_input_names_expected_and_given(case: str, backend: str) -> None:
    kw, message = BAD_CALLS[case]
    kw = dict(kw)
    x = torch.zeros(*kw.pop("x", (2, T, F)))
    state = kw.pop("state", None)
    with pytest.raises(ValueError, match=message):
        Recurrent(LSTMCell(F, 4), backend=backend)(x, state, **kw)


def test_state_of_wrong_dtype_is_a_clear_value_error(build_cell) -> None:
    with pytest.raises(ValueError, match="dtype"):
        Recurrent(build_cell("lstm"))(randn(2, T, F), (torch.zeros(2, 4), torch.zeros(2, 4)))


LSTM, GRU = LSTMCell(F, 4), GRUCell(F, 4)
BAD_LAYERS = {  # what is wrong: (building or calling the layer, the message)
    "merge": (lambda: Bidirectional(LSTM, merge="max"), r"one of \('concat', .*'mul'\), got 'max'"),
    "backend": (
        lambda: Recurrent(LSTM, backend="gpu"),
        r"one of \('auto', .*'reference'\), got 'gpu'",
    ),
    "merge sizes": (
        lambda: Bidirectional(LSTM, LSTMCell(F, 4, proj_size=2), merge="sum"),
        "merge='sum' needs equal output sizes, got 4 and 2",
    ),
    "state pair": (
        lambda: Bidirectional(GRU)(torch.zeros(2, T, F), [None] * 3),
        r"a Bidirectional state is a pair.*got 3 entries",
    ),
    "one state": (
        lambda: Bidirectional(LSTM)(torch.zeros(2, T, F), LSTM.initial_state(2)),
        r"pair \(forward_state, backward_state\).*\(h, c\).*got one LSTMCell state",
    ),
    "sizes": (lambda: Stack([LSTM, GRU]), "layer 0 outputs 4 features but layer 1 reads 3"),
    "sequences": (
        lambda: Stack([Recurrent(LSTM, return_sequences=False), GRUCell(4, 4)]),
        "layer 0 must return sequences",
    ),
    "states": (
        lambda: Stack([LSTM])(torch.zeros(2, T, F), [None, None]),
        r"states must have one entry per layer \(1\), got 2",
    ),
    "not a cell": (lambda: Recurrent(nn.LSTMCell(3, 4)), "needs an rnnkit Cell, got LSTMCell"),
    "empty": (lambda: Stack([]), "a Stack needs at least one layer"),
}


@pytest.mark.parametrize("case", list(BAD_LAYERS))
def test_bad_layer_configuration_names_expected_and_given(case: str) -> None:
    build, message = BAD_LAYERS[case]
    with pytest.raises(ValueError, match=message):
        build()


def test_one_layer_cannot_read_both_ways(build_cell) -> None:
    layer = Recurrent(build_cell("gru"), reverse=True)
    with pytest.raises(ValueError, match="forward and backward are the same Recurrent layer"):
        Bidirectional(layer, layer)
    assert layer.reverse  # a refused layer is left as it was
