"""rnnkit.nn's drop-ins behave like torch.nn's modules and cells in everything but speed paths.

The numerical grid against torch.nn is in test_nn_equivalence.py; this file covers the module
contract: names and order of parameters, state_dict both ways, initialisation, PackedSequence,
unbatched input, inter-layer dropout, the cells, keeping the rnnkit cells on the module's
parameters (.double(), assign, deepcopy, functional_call), errors, second derivatives, eval mode.
"""

from __future__ import annotations

import copy

import pytest
import torch
from torch.func import functional_call
from torch.nn.utils.rnn import pack_padded_sequence

from rnnkit import nn as rnn
from rnnkit.layers import Recurrent

pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections is not supported")

B, T, F, H = 3, 5, 4, 6

# name -> (torch.nn class, rnnkit.nn class, options)
MODULES = {
    "rnn-relu": (torch.nn.RNN, rnn.RNN, {"nonlinearity": "relu"}),
    "lstm": (torch.nn.LSTM, rnn.LSTM, {}),
    "lstm-proj": (torch.nn.LSTM, rnn.LSTM, {"proj_size": 2}),
    "gru": (torch.nn.GRU, rnn.GRU, {}),
}
BACKENDS = ("native", "reference")


def pair(kind, seed=0, **config):
    """torch.nn's module and the drop-in built from the same seed (so with equal weights)."""
    torch_class, our_class, options = MODULES[kind]
    backend = config.pop("backend", "auto")
    torch.random.default_generator.manual_seed(seed)
    theirs = torch_class(F, H, **options, **config)
    torch.random.default_generator.manual_seed(seed)
    ours = our_class(F, H, **options, **config, backend=backend)
    return theirs, ours


def states_of(hidden) -> tuple[torch.Tensor, ...]:
    return tuple(hidden) if isinstance(hidden, tuple) else (hidden,)


def assert_same_results(a, b, atol=1e-6):
    (out_a, hid_a), (out_b, hid_b) = a, b
    torch.testing.assert_close(out_a, out_b, atol=atol, rtol=atol)
    for s_a, s_b in zip(states_of(hid_a), states_of(hid_b)):
        torch.testing.assert_close(s_a, s_b, atol=atol, rtol=atol)


# -- parameters ------------------------------------------------------------------------------
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("kind", list(MODULES))
def test_named_parameters_have_torch_names_shapes_and_order(kind, bias):
    theirs, ours = pair(kind, num_layers=2, bidirectional=True, bias=bias)
    expected = [(n, p.shape) for n, p in theirs.named_parameters()]
    assert [(n, p.shape) for n, p in ours.named_parameters()] == expected
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert isinstance(ours, type(theirs))


@pytest.mark.parametrize("kind", list(MODULES))
def test_same_seed_gives_torch_nn_weights_in_both_dtypes(kind):
    for dtype in (torch.float32, torch.float64):
        theirs, ours = pair(kind, num_layers=2, bidirectional=True, dtype=dtype)
        for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
            assert p.dtype == dtype and torch.equal(p, q), name
    bound = 1 / H**0.5
    assert all(bool(p.abs().max() <= bound) for p in ours.parameters())


@pytest.mark.parametrize("kind", list(MODULES))
def test_state_dict_round_trips_both_ways(kind):
    x = torch.randn(T, B, F)
    torch_model, _ = pair(kind, num_layers=2, bidirectional=True)
    _, ours = pair(kind, seed=7, num_layers=2, bidirectional=True, backend="reference")
    assert not torch.equal(ours.weight_ih_l0, torch_model.weight_ih_l0)
    ours.load_state_dict(torch_model.state_dict())  # torch.nn -> rnnkit
    assert_same_results(ours(x), torch_model(x))
    with torch.no_grad():
        for p in ours.parameters():
            p.mul_(0.5)
    fresh, _ = pair(kind, seed=8, num_layers=2, bidirectional=True)
    fresh.load_state_dict(ours.state_dict())  # rnnkit -> torch.nn
    assert_same_results(fresh(x), ours(x))


def test_positional_arguments_mean_what_they_mean_in_torch():
    args = (F, H, 2, "relu", False, True, 0.25, True)
    theirs, ours = torch.nn.RNN(*args), rnn.RNN(*args)
    for name in ("num_layers", "nonlinearity", "bias", "batch_first", "dropout", "bidirectional"):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert repr(ours) == repr(theirs)
    ours.backend = "reference"
    assert repr(ours) == repr(theirs)[:-1] + ", backend='reference')"
    lstm_args = (F, H, 2, False, True, 0.0, True, 3)
    assert rnn.LSTM(*lstm_args).proj_size == torch.nn.LSTM(*lstm_args).proj_size == 3


# -- inputs and outputs --------------------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kind", list(MODULES))
def test_packed_sequence_in_gives_packed_sequence_out_with_the_same_layout(kind, backend):
    theirs, ours = pair(kind, num_layers=2, bidirectional=True, backend=backend)
    x = torch.randn(T, B, F)
    lengths = torch.tensor([2, 5, 2])  # ties: the packed order must be kept, not recomputed
    runs = 4
    hx = tuple(torch.randn(runs, B, s) for s in (ours.proj_size or H, H))
    hx = hx if kind.startswith("lstm") else hx[0]
    for sort in (False, True):
        lens = lengths.sort(descending=True).values if sort else lengths
        packed = pack_padded_sequence(x, lens, enforce_sorted=sort)
        out, hidden = ours(packed, hx)
        expected_out, expected_hidden = theirs(packed, hx)
        assert isinstance(out, type(packed))
        assert torch.equal(out.batch_sizes, packed.batch_sizes)
        for mine, given in ((out.sorted_indices, packed.sorted_indices),
                            (out.unsorted_indices, packed.unsorted_indices)):
            assert (mine is None and given is None) or torch.equal(mine, given)
        assert_same_results((out.data, hidden), (expected_out.data, expected_hidden))


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kind", list(MODULES))
def test_unbatched_input_is_a_batch_of_one(kind, backend, batch_first):
    theirs, ours = pair(kind, num_layers=2, batch_first=batch_first, backend=backend)
    x = torch.randn(T, F)
    hx = tuple(torch.randn(2, s) for s in (ours.proj_size or H, H))
    hx = hx if kind.startswith("lstm") else hx[0]
    for given in (None, hx):
        out, hidden = ours(x, given)
        assert out.shape == (T, ours.proj_size or H)
        assert all(s.dim() == 2 for s in states_of(hidden))
        assert_same_results((out, hidden), theirs(x, given))


@pytest.mark.parametrize("kind", list(MODULES))
def test_seq_first_reference_output_is_contiguous_like_torch(kind):
    _, ours = pair(kind, bidirectional=True, backend="reference")
    out, _ = ours(torch.randn(T, B, F))
    assert out.is_contiguous()
    out.view(T * B, -1)  # what seq-first callers commonly do


# -- dropout between layers ----------------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_dropout_between_layers_acts_in_training_only(backend):
    # p = 1 zeroes the second layer's input: deterministic, so comparable with torch.nn
    theirs, ours = pair("lstm", num_layers=2, dropout=1.0, backend=backend)
    x = torch.randn(T, B, F)
    assert_same_results(ours.train()(x), theirs.train()(x))
    with_dropout = ours(x)[0]
    ours.eval()
    without = ours(x)[0]
    assert not torch.allclose(with_dropout, without)
    undropped, _ = pair("lstm", num_layers=2, dropout=0.0)
    assert_same_results(ours(x), undropped(x))
    # p = 0.5: random in training, and never applied to the last layer's output
    ours.dropout = 0.5
    ours.train()
    first, second = ours(x)[0], ours(x)[0]
    assert not torch.equal(first, second)
    assert bool((first != 0).all())


# -- the cells -----------------------------------------------------------------------------
CELLS = {
    "rnn-tanh": (torch.nn.RNNCell, rnn.RNNCell, {}),
    "rnn-relu": (torch.nn.RNNCell, rnn.RNNCell, {"nonlinearity": "relu"}),
    "lstm": (torch.nn.LSTMCell, rnn.LSTMCell, {}),
    "gru": (torch.nn.GRUCell, rnn.GRUCell, {}),
}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("kind", list(CELLS))
def test_cells_equal_torch_cells_bit_for_bit(kind, dtype):
    torch_class, our_class, options = CELLS[kind]
    torch.random.default_generator.manual_seed(1)
    theirs = torch_class(F, H, dtype=dtype, **options)
    torch.random.default_generator.manual_seed(1)
    ours = our_class(F, H, dtype=dtype, **options)
    assert [n for n, _ in ours.named_parameters()] == ["weight_ih", "weight_hh", "bias_ih",
                                                       "bias_hh"]
    for p, q in zip(ours.parameters(), theirs.parameters()):
        assert p.dtype == dtype and torch.equal(p, q)
    assert repr(ours) == repr(theirs)
    x = torch.randn(B, F, dtype=dtype)
    h = torch.randn(B, H, dtype=dtype)
    hx = (h, torch.randn(B, H, dtype=dtype)) if kind == "lstm" else h
    unbatched = (hx[0][0], hx[1][0]) if kind == "lstm" else h[0]
    for args in ((x,), (x, hx), (x[0],), (x[0], unbatched)):
        mine, expected = ours(*args), theirs(*args)
        for a, b in zip(states_of(mine), states_of(expected)):
            assert a.shape == b.shape and torch.equal(a, b)
    # the same step through the rnnkit cell contract (project + step)
    state = hx if kind == "lstm" else (h,)
    stepped, _ = ours.step(ours.project(x), state)
    for a, b in zip(stepped, states_of(ours(x, hx))):
        torch.testing.assert_close(a, b)


def test_dropin_cells_run_inside_rnnkit_layers_as_torch_nn_lstm():
    cell = rnn.LSTMCell(F, H)
    layer = Recurrent(cell)
    theirs = torch.nn.LSTM(F, H, batch_first=True)
    theirs.load_state_dict({f"{n}_l0": p for n, p in cell.state_dict().items()})
    x = torch.randn(B, T, F)
    out, (h, c), path = layer(x, trajectories=True)
    expected, (h_t, c_t) = theirs(x)
    assert_same_results((out, (h, c)), (expected, (h_t[0], c_t[0])))
    assert path.gates["f"].shape == (B, T, H)


# -- the rnnkit cells stay on the module's parameters --------------------------------------
def test_double_and_to_keep_cells_on_the_module_parameters():
    _, ours = pair("lstm-proj", num_layers=2, bidirectional=True, backend="reference")
    ours.double()
    assert ours.cells[0].weight_ih is ours.weight_ih_l0
    assert ours.cells[3].weight_hr is ours.weight_hr_l1_reverse
    assert all(p.dtype == torch.float64 for c in ours.cells for p in c.parameters())
    x = torch.randn(T, B, F, dtype=torch.float64)
    reference = ours(x)
    ours.backend = "native"
    assert_same_results(reference, ours(x), atol=1e-12)
    # a conversion that replaces the Parameter objects instead of their data
    torch.__future__.set_overwrite_module_params_on_conversion(True)
    try:
        ours.float()
    finally:
        torch.__future__.set_overwrite_module_params_on_conversion(False)
    ours.backend = "reference"
    out, _ = ours(x.float())
    assert out.dtype == torch.float32
    assert ours.cells[1].weight_hh is ours.weight_hh_l0_reverse


@pytest.mark.parametrize("kind", list(MODULES))
def test_load_state_dict_with_assign_and_deepcopy_rebind_the_cells(kind):
    theirs, ours = pair(kind, num_layers=2, backend="reference")
    torch.random.default_generator.manual_seed(5)
    other = copy.deepcopy(theirs)
    for p in other.parameters():
        torch.nn.init.normal_(p, std=0.3)
    ours.load_state_dict(other.state_dict(), assign=True)
    x = torch.randn(T, B, F)
    assert_same_results(ours(x), other(x))

    clone = copy.deepcopy(ours)
    assert clone.cells[1].weight_ih is clone.weight_ih_l1
    assert clone.cells[1].weight_ih is not ours.weight_ih_l1
    with torch.no_grad():
        clone.weight_hh_l1.add_(0.1)
    assert_same_results(ours(x), other(x))  # the original is untouched
    reference = clone(x)
    clone.backend = "native"
    assert_same_results(reference, clone(x))


def test_functional_call_reaches_the_reference_path():
    _, ours = pair("gru", num_layers=2, backend="reference")
    replaced = {n: torch.randn_like(p) * 0.3 for n, p in ours.named_parameters()}
    x = torch.randn(T, B, F)
    out, _ = functional_call(ours, replaced, (x,))
    ours.backend = "native"
    expected, _ = functional_call(ours, replaced, (x,))
    torch.testing.assert_close(out, expected)
    assert not torch.allclose(out, ours(x)[0])


def test_as_stack_shares_the_parameters():
    _, ours = pair("lstm", num_layers=2, bidirectional=True)
    stack = ours.as_stack()
    assert {id(p) for p in stack.parameters()} == {id(p) for p in ours.parameters()}
    x = torch.randn(B, T, F)
    out, states = stack(x)
    expected, hidden = ours(x.transpose(0, 1))
    assert_same_results((out, ours.from_stack_state(states)), (expected.transpose(0, 1), hidden))


# -- errors --------------------------------------------------------------------------------
def test_bad_input_raises_value_errors_naming_expected_and_given():
    lstm = rnn.LSTM(F, H, num_layers=2)
    good_h = torch.zeros(2, B, H)
    cases = [
        (lambda: lstm(torch.randn(T, B, F, 1)), r"\(seq_len, batch, 4\).*\(5, 3, 4, 1\)"),
        (lambda: lstm(torch.randn(T, B, F + 1)), r"input_size=4.*5 features"),
        (lambda: lstm(torch.randn(T, B, F).double()), r"float64.*float32"),
        (lambda: lstm(torch.randn(T, B, F), (good_h, torch.zeros(1, B, H))),
         r"c_0 must have shape \(2, 3, 6\).*got \(1, 3, 6\)"),
        (lambda: lstm(torch.randn(T, B, F), good_h), r"pair of tensors \(h_0, c_0\)"),
        (lambda: lstm(torch.randn(T, F), (good_h, good_h)), r"\(2, 6\).*unbatched.*\(2, 3, 6\)"),
        (lambda: rnn.GRU(F, H)(torch.randn(T, B, F), torch.zeros(1, B + 1, H)),
         r"h_0 must have shape \(1, 3, 6\).*got \(1, 4, 6\)"),
        (lambda: rnn.GRU(F, H, backend="fast"), r"backend must be one of.*'fast'"),
        (lambda: setattr(lstm, "backend", "cudnn"), r"backend must be one of.*'cudnn'"),
        (lambda: rnn.LSTMCell(F, H)(torch.randn(B, F + 2)), r"\(batch, 4\).*\(3, 6\)"),
        (lambda: rnn.GRUCell(F, H)(torch.randn(B, F), torch.zeros(H)),
         r"h must have shape \(3, 6\).*got \(6,\)"),
        (lambda: rnn.RNNCell(F, H)(torch.randn(F), torch.zeros(1, H)),
         r"h must have shape \(6,\).*got \(1, 6\)"),
        (lambda: rnn.LSTMCell(F, H)(torch.randn(B, F), torch.zeros(B, H)), r"pair \(h, c\)"),
    ]
    for call, message in cases:
        with pytest.raises(ValueError, match=message):
            call()
    assert lstm.backend == "auto"


# -- derivatives ---------------------------------------------------------------------------
@pytest.mark.parametrize("kind", list(MODULES))
def test_double_backward_through_the_reference_path(kind):
    theirs, ours = pair(kind, num_layers=2, bidirectional=True, dtype=torch.float64,
                        backend="reference")
    x = torch.randn(T, B, F, dtype=torch.float64)
    results = []
    for model in (ours, theirs):
        params = list(model.parameters())
        out, _ = model(x)
        grads = torch.autograd.grad(out.pow(2).sum(), params, create_graph=True)
        penalty = sum(g.pow(2).sum() for g in grads)  # a gradient penalty, as in WGAN-GP
        second = torch.autograd.grad(penalty, params)
        results.append(second)
    for a, b in zip(*results):
        assert a.abs().sum() > 0
        torch.testing.assert_close(a, b, atol=1e-10, rtol=1e-10)


@pytest.mark.parametrize("backend", BACKENDS)
def test_gradients_flow_in_eval_mode(backend):
    theirs, ours = pair("lstm", num_layers=2, dropout=0.5, backend=backend)
    ours.eval(), theirs.eval()
    x = torch.randn(T, B, F)
    for model in (ours, theirs):
        out, (h, c) = model(x)
        (out.sum() + c.sum()).backward()
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        assert p.grad is not None and p.grad.abs().sum() > 0, name
        torch.testing.assert_close(p.grad, q.grad, atol=1e-5, rtol=1e-5)
