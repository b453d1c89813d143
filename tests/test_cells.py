"""Every cell computes the equations its docstring states: torch.nn's, or a hand-written formula.

Everything runs in float64 so that equality is asserted to 1e-10 and gradients are checked
numerically (``gradcheck`` and ``gradgradcheck``), parameters included.
"""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn
from torch.autograd import gradcheck, gradgradcheck
from torch.func import functional_call

from rnnkit import ElmanCell, GRUCell, LayerNormGRUCell, LayerNormLSTMCell, LSTMCell, Recurrent
from rnnkit.cells import make_cell

TOL = dict(atol=1e-10, rtol=0)
B, F, H = 3, 5, 4


def randn(*shape: int) -> torch.Tensor:
    return torch.randn(*shape, dtype=torch.float64)


def randomise_(module: nn.Module) -> None:
    """Every parameter (LayerNorm gains and shifts too) to a random value, so each one counts."""
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn_like(p) * 0.7 + (1.0 if p.dim() == 1 else 0.0) * 0.3)


def layer_norm(v: torch.Tensor, gain, shift, eps: float = 1e-5) -> torch.Tensor:
    """LayerNorm by hand: biased variance over the last axis, then gain and shift."""
    mean = v.mean(-1, keepdim=True)
    var = ((v - mean) ** 2).mean(-1, keepdim=True)
    out = (v - mean) / torch.sqrt(var + eps) * gain
    return out if shift is None else out + shift


# -- equal to torch.nn ----------------------------------------------------------------------------
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("bias", [True, False])
def test_elman_cell_equals_torch_rnn_cell(nonlinearity: str, bias: bool) -> None:
    torch.manual_seed(0)
    ref = nn.RNNCell(F, H, bias=bias, nonlinearity=nonlinearity).double()
    cell = ElmanCell(F, H, bias=bias, nonlinearity=nonlinearity).double()
    cell.load_state_dict(ref.state_dict())
    x, h = randn(B, F).requires_grad_(), randn(B, H)
    (ours,) = cell(x, h)
    theirs = ref(x, h)
    torch.testing.assert_close(ours, theirs, **TOL)
    w = randn(B, H)
    g_ours = torch.autograd.grad((ours * w).sum(), [x, cell.weight_hh])
    g_theirs = torch.autograd.grad((theirs * w).sum(), [x, ref.weight_hh])
    for a, b in zip(g_ours, g_theirs):
        torch.testing.assert_close(a, b, **TOL)


@pytest.mark.parametrize("bias", [True, False])
def test_lstm_cell_equals_torch_lstm_cell(bias: bool) -> None:
    torch.manual_seed(1)
    ref = nn.LSTMCell(F, H, bias=bias).double()
    cell = LSTMCell(F, H, bias=bias).double()
    cell.load_state_dict(ref.state_dict())
    x, h, c = randn(B, F), randn(B, H), randn(B, H)
    h1, c1 = cell(x, (h, c))
    h2, c2 = ref(x, (h, c))
    torch.testing.assert_close(h1, h2, **TOL)
    torch.testing.assert_close(c1, c2, **TOL)


@pytest.mark.parametrize("bias", [True, False])
def test_projected_lstm_cell_equals_one_step_of_torch_lstm(bias: bool) -> None:
    torch.manual_seed(2)
    P = 2
    ref = nn.LSTM(F, H, bias=bias, proj_size=P, batch_first=True).double()
    cell = LSTMCell(F, H, bias=bias, proj_size=P).double()
    cell.load_state_dict({k.removesuffix("_l0"): v for k, v in ref.state_dict().items()})
    x, h, c = randn(B, F), randn(B, P), randn(B, H)
    h1, c1 = cell(x, (h, c))
    out, (h2, c2) = ref(x.unsqueeze(1), (h.unsqueeze(0), c.unsqueeze(0)))
    assert h1.shape == (B, P) and c1.shape == (B, H)
    torch.testing.assert_close(h1, h2[0], **TOL)
    torch.testing.assert_close(h1, out[:, 0], **TOL)
    torch.testing.assert_close(c1, c2[0], **TOL)


@pytest.mark.parametrize("bias", [True, False])
def test_gru_cell_equals_torch_gru_cell(bias: bool) -> None:
    torch.manual_seed(3)
    ref = nn.GRUCell(F, H, bias=bias).double()
    cell = GRUCell(F, H, bias=bias).double()
    cell.load_state_dict(ref.state_dict())
    x, h = randn(B, F), randn(B, H)
    (ours,) = cell(x, h)
    torch.testing.assert_close(ours, ref(x, h), **TOL)


# -- equal to hand-written formulas ---------------------------------------------------------------
def test_cho_gru_cell_equals_the_2014_formula() -> None:
    torch.manual_seed(4)
    cell = GRUCell(F, H, reset_after=False).double()
    x, h = randn(B, F), randn(B, H)
    W_ir, W_iz, W_in = cell.weight_ih.chunk(3)
    W_hr, W_hz, W_hn = cell.weight_hh.chunk(3)
    b_ir, b_iz, b_in = cell.bias_ih.chunk(3)
    b_hr, b_hz, b_hn = cell.bias_hh.chunk(3)
    r = torch.sigmoid(x @ W_ir.T + b_ir + h @ W_hr.T + b_hr)
    z = torch.sigmoid(x @ W_iz.T + b_iz + h @ W_hz.T + b_hz)
    n = torch.tanh(x @ W_in.T + b_in + (r * h) @ W_hn.T + b_hn)
    expected = (1 - z) * n + z * h
    (new,), gates = cell.step(cell.project(x), (h,))
    torch.testing.assert_close(new, expected, **TOL)
    for got, want in zip(gates, (r, z, n)):
        torch.testing.assert_close(got, want, **TOL)
    # the reset really is applied before the matmul: torch's variant gives another answer
    after = GRUCell(F, H).double()
    after.load_state_dict(cell.state_dict())
    assert (after(x, h)[0] - new).abs().max() > 1e-3


def test_lstm_and_gru_gates_are_the_named_slices() -> None:
    torch.manual_seed(5)
    x, h, c = randn(B, F), randn(B, H), randn(B, H)
    lstm = LSTMCell(F, H).double()
    pre = x @ lstm.weight_ih.T + lstm.bias_ih + h @ lstm.weight_hh.T + lstm.bias_hh
    a_i, a_f, a_g, a_o = pre.chunk(4, -1)
    want = (a_i.sigmoid(), a_f.sigmoid(), a_g.tanh(), a_o.sigmoid())
    _, gates = lstm.step(lstm.project(x), (h, c))
    for got, w in zip(gates, want):
        torch.testing.assert_close(got, w, **TOL)

    gru = GRUCell(F, H).double()
    xi = (x @ gru.weight_ih.T + gru.bias_ih).chunk(3, -1)
    hh = (h @ gru.weight_hh.T + gru.bias_hh).chunk(3, -1)
    r, z = (xi[0] + hh[0]).sigmoid(), (xi[1] + hh[1]).sigmoid()
    n = (xi[2] + r * hh[2]).tanh()
    _, gates = gru.step(gru.project(x), (h,))
    for got, w in zip(gates, (r, z, n)):
        torch.testing.assert_close(got, w, **TOL)


def test_layernorm_lstm_cell_equals_its_formula() -> None:
    torch.manual_seed(6)
    cell = LayerNormLSTMCell(F, H).double()
    randomise_(cell)
    x, h, c = randn(B, F), randn(B, H), randn(B, H)
    a = layer_norm(x @ cell.weight_ih.T, cell.ln_ih.weight, cell.ln_ih.bias) + layer_norm(
        h @ cell.weight_hh.T, cell.ln_hh.weight, None
    )
    a_i, a_f, a_g, a_o = a.chunk(4, -1)
    c_new = a_f.sigmoid() * c + a_i.sigmoid() * a_g.tanh()
    h_new = a_o.sigmoid() * layer_norm(c_new, cell.ln_c.weight, cell.ln_c.bias).tanh()
    (h1, c1), gates = cell.step(cell.project(x), (h, c))
    torch.testing.assert_close(c1, c_new, **TOL)
    torch.testing.assert_close(h1, h_new, **TOL)
    torch.testing.assert_close(gates[2], a_g.tanh(), **TOL)


def test_layernorm_gru_cell_equals_its_formula() -> None:
    torch.manual_seed(7)
    cell = LayerNormGRUCell(F, H).double()
    randomise_(cell)
    x, h = randn(B, F), randn(B, H)
    a_r, a_z, a_n = layer_norm(x @ cell.weight_ih.T, cell.ln_ih.weight, cell.ln_ih.bias).chunk(
        3, -1
    )
    b_r, b_z, b_n = layer_norm(h @ cell.weight_hh.T, cell.ln_hh.weight, cell.ln_hh.bias).chunk(
        3, -1
    )
    r, z = (a_r + b_r).sigmoid(), (a_z + b_z).sigmoid()
    n = (a_n + r * b_n).tanh()
    (h1,), gates = cell.step(cell.project(x), (h,))
    torch.testing.assert_close(h1, (1 - z) * n + z * h, **TOL)
    for got, want in zip(gates, (r, z, n)):
        torch.testing.assert_close(got, want, **TOL)


# -- forget bias ----------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [LSTMCell, LayerNormLSTMCell])
def test_forget_bias_sets_the_effective_forget_bias(cls) -> None:
    torch.manual_seed(8)
    cell = cls(F, H, forget_bias=2.5).double()
    if cls is LSTMCell:
        total = cell.bias_ih + cell.bias_hh
        assert torch.equal(total[H : 2 * H], torch.full((H,), 2.5, dtype=torch.float64))
        assert not torch.equal(total[:H], torch.full((H,), 2.5, dtype=torch.float64))
    else:
        assert torch.equal(cell.ln_ih.bias[H : 2 * H], torch.full((H,), 2.5, dtype=torch.float64))
    with torch.no_grad():  # no weights: the forget gate sees only its bias
        cell.weight_ih.zero_()
        cell.weight_hh.zero_()
    _, (i, f, g, o) = cell.step(cell.project(randn(B, F)), (randn(B, H), randn(B, H)))
    torch.testing.assert_close(f, torch.full_like(f, 1 / (1 + math.exp(-2.5))), **TOL)
    cell.reset_parameters()  # a re-initialisation keeps it
    bias = cell.bias_ih + cell.bias_hh if cls is LSTMCell else cell.ln_ih.bias
    assert torch.equal(bias[H : 2 * H], torch.full((H,), 2.5, dtype=torch.float64))


# -- the contract ---------------------------------------------------------------------------------
def test_names_and_sizes_agree_with_what_step_returns(any_cell: str, build_cell) -> None:
    cell = build_cell(any_cell, F, H)
    x = randn(B, F)
    xp = cell.project(x)
    assert xp.shape == (B, len(cell.gate_names) * H)
    state = cell.initial_state(B)
    assert [tuple(s.shape) for s in state] == [(B, n) for n in cell.state_sizes]
    assert len(cell.state_sizes) == len(cell.state_names)
    new, gates = cell.step(xp, tuple(randn(B, n) for n in cell.state_sizes))
    assert [tuple(s.shape) for s in new] == [(B, n) for n in cell.state_sizes]
    assert len(gates) == len(cell.gate_names) and all(g.shape == (B, H) for g in gates)
    assert cell.output_size == cell.state_sizes[0] == new[0].shape[1]
    assert all(s.dtype == torch.float64 for s in state)


# -- gradients: numerically checked, parameters included ------------------------------------------
def _check_gradients(module: nn.Module, inputs: tuple[torch.Tensor, ...], call, fast: bool) -> None:
    """gradcheck and gradgradcheck of ``call(module, *inputs)`` in every input and parameter.

    ``fast`` compares random projections ``u^T J v`` of the analytic and numerical Jacobians
    (torch's fast mode) instead of every entry: as strict in practice, many times cheaper.
    """
    names = [n for n, _ in module.named_parameters()]
    params = [p.detach().clone().requires_grad_() for _, p in module.named_parameters()]
    n = len(inputs)

    def fn(*tensors):
        outputs = call(
            lambda *a, **k: functional_call(module, dict(zip(names, tensors[n:])), a, k),
            *tensors[:n],
        )
        return tuple(outputs)

    leaves = tuple(t.detach().clone().requires_grad_() for t in inputs) + tuple(params)
    assert gradcheck(fn, leaves, fast_mode=fast)
    assert gradgradcheck(fn, leaves, fast_mode=True)


def test_cell_gradients_are_exact(any_cell: str, build_cell) -> None:
    cell = build_cell(any_cell, 2, 3)
    state = tuple(randn(2, n) for n in cell.state_sizes)
    _check_gradients(cell, (randn(2, 2), *state), lambda f, x, *s: f(x, s), fast=False)


def test_reference_layer_gradients_are_exact(any_cell: str, build_cell) -> None:
    cell = build_cell(any_cell, 2, 3)
    layer = Recurrent(cell, backend="reference")
    # a hole in the middle of row 0 and left padding in row 1: masking is in the graph too
    mask = torch.tensor([[True, False, True, True], [False, True, True, True]])
    state = tuple(randn(2, n) for n in cell.state_sizes)

    def run(f, x, *s):
        out, final = f(x, s, mask=mask)
        return (out, *final)

    _check_gradients(layer, (randn(2, 4, 2), *state), run, fast=True)


# -- construction errors --------------------------------------------------------------------------
def test_bad_cell_arguments_raise_clear_errors() -> None:
    with pytest.raises(ValueError, match="unknown cell kind 'lstmm'.*lstm, gru"):
        make_cell("lstmm", 3, 4)
    with pytest.raises(ValueError, match="nonlinearity must be 'tanh' or 'relu', got 'gelu'"):
        ElmanCell(3, 4, nonlinearity="gelu")
    with pytest.raises(ValueError, match=r"proj_size must be in \[0, hidden_size\), got 4"):
        LSTMCell(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="forget_bias needs bias=True"):
        LSTMCell(3, 4, bias=False, forget_bias=1.0)
    with pytest.raises(ValueError, match="must be positive, got 3 and 0"):
        GRUCell(3, 0)
    with pytest.raises(ValueError, match=r"expects input of shape \(batch, 3\), got \(2, 5\)"):
        GRUCell(3, 4)(torch.zeros(2, 5))
