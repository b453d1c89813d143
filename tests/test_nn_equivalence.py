"""rnnkit.nn's drop-ins (and rnnkit.layers built from them) against torch.nn, on a full grid.

Grid: cell kind x num_layers {1, 2, 3} x bidirectional x dtype x backend {native, reference},
and for the drop-ins also batch_first x {equal lengths, ragged as a PackedSequence}; for
rnnkit.layers (``as_stack``, batch-first, ``lengths=`` / ``mask=``) x {right padding, left
padding, a zero-length row given by lengths, a zero-length row given by a mask}. Outputs, final
states and gradients with respect to the input, h0/c0 and every weight must agree within 1e-5
(float32) and 1e-10 (float64). torch.nn cannot take left padding or empty rows: there it runs
row by row on each row's real steps, and an empty row keeps its initial state and outputs zeros.
"""

from __future__ import annotations

import functools

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnnkit import nn as rnn

pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections is not supported")

B, T, F, H = 4, 7, 5, 6
RAGGED = [7, 3, 5, 1]  # unsorted, so packing permutes the rows
WITH_EMPTY = [7, 0, 5, 2]
TOLERANCE = {torch.float32: 1e-5, torch.float64: 1e-10}
DTYPES = {"float32": torch.float32, "float64": torch.float64}

# name -> (torch.nn class, rnnkit.nn class, constructor options)
KINDS = {
    "rnn-tanh": (torch.nn.RNN, rnn.RNN, {"nonlinearity": "tanh"}),
    "rnn-relu": (torch.nn.RNN, rnn.RNN, {"nonlinearity": "relu"}),
    "lstm": (torch.nn.LSTM, rnn.LSTM, {}),
    "lstm-proj": (torch.nn.LSTM, rnn.LSTM, {"proj_size": 3}),
    "gru": (torch.nn.GRU, rnn.GRU, {}),
}


def seed(value: int) -> None:
    torch.random.default_generator.manual_seed(value)  # torch.manual_seed also seeds CUDA: slow


@functools.cache
def _modules(kind, num_layers, bidirectional, dtype, batch_first):
    torch_class, our_class, options = KINDS[kind]
    config = dict(num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first,
                  dtype=dtype, **options)
    seed(0)
    reference = torch_class(F, H, **config)
    ours = our_class(F, H, **config)
    ours.load_state_dict(reference.state_dict())
    return reference, ours


def build_pair(kind, num_layers, bidirectional, dtype, backend, batch_first=True):
    """A torch.nn module with seeded weights, and the drop-in with those weights loaded.

    Built once per configuration (the tests only read them: gradients come from
    torch.autograd.grad, never ``.grad``); ``backend`` is set on every call.
    """
    reference, ours = _modules(kind, num_layers, bidirectional, dtype, batch_first)
    ours.backend = backend
    return reference, ours


def initial_states(model, dtype, random: bool) -> tuple[torch.Tensor, ...]:
    """(h0,) or (h0, c0) of shape (L*D, B, size): random (nonzero) or zeros."""
    runs = model.num_layers * (2 if model.bidirectional else 1)
    sizes = [model.proj_size or model.hidden_size]
    if isinstance(model, torch.nn.LSTM):
        sizes.append(model.hidden_size)
    make = torch.randn if random else torch.zeros
    return tuple(0.5 * make(runs, B, size, dtype=dtype) for size in sizes)


def as_hx(model, states):
    return tuple(states) if isinstance(model, torch.nn.LSTM) else states[0]


def as_tuple(hidden) -> tuple[torch.Tensor, ...]:
    return tuple(hidden) if isinstance(hidden, tuple) else (hidden,)


def leaves(*tensors):
    return [t.detach().clone().requires_grad_() for t in tensors]


def weighted_loss(outputs: list[torch.Tensor]) -> torch.Tensor:
    """A loss that reaches every entry of every output with its own fixed random weight."""
    generator = torch.Generator().manual_seed(1)
    return sum(
        (out * torch.randn(out.shape, generator=generator, dtype=out.dtype)).sum()
        for out in outputs
    )


def gradients(loss, x, states, model):
    return torch.autograd.grad(loss, [x, *states, *model.parameters()])


def assert_all_close(ours, theirs, dtype, what):
    """Every pair within the dtype's tolerance (atol = rtol), checked in one vectorised pass."""
    tol = TOLERANCE[dtype]
    assert len(ours) == len(theirs)
    assert [a.shape for a in ours] == [b.shape for b in theirs], what
    a = torch.cat([t.reshape(-1) for t in ours])
    b = torch.cat([t.reshape(-1) for t in theirs])
    excess = (a - b).abs() - (tol + tol * b.abs())
    worst = int(excess.argmax()) if excess.numel() else 0
    if excess.numel() and excess[worst] > 0:
        raise AssertionError(f"{what}: entry {worst} of {a.numel()} differs: {a[worst].item()!r} "
                             f"vs torch.nn's {b[worst].item()!r} (tolerance {tol})")


GRID = [
    pytest.param(kind, layers, bidir, id=f"{kind}-L{layers}-{'bi' if bidir else 'uni'}")
    for kind in KINDS
    for layers in (1, 2, 3)
    for bidir in (False, True)
]


# -- the drop-ins: padded and packed, seq-first and batch-first -------------------------------
def run_dropin(model, lengths, explicit_state, dtype):
    """Forward and gradients of ``model`` on the case's fixed input; everything detached."""
    seed(2)
    x = torch.randn(B, T, F, dtype=dtype)
    if not model.batch_first:
        x = x.transpose(0, 1).contiguous()
    x, *states = leaves(x, *initial_states(model, dtype, random=True))
    hx = as_hx(model, states) if explicit_state else None
    if lengths == "packed":
        packed = pack_padded_sequence(x, torch.tensor(RAGGED), batch_first=model.batch_first,
                                      enforce_sorted=False)
        out, hidden = model(packed, hx)
        layout = (out.batch_sizes, out.sorted_indices, out.unsorted_indices)
        out = out.data
    else:
        out, hidden = model(x, hx)
        layout = ()
    finals = as_tuple(hidden)
    wrt = [x, *states] if explicit_state else [x]
    grads = torch.autograd.grad(weighted_loss([out, *finals]), [*wrt, *model.parameters()])
    return out.detach(), tuple(f.detach() for f in finals), grads, layout


@functools.cache
def torch_dropin_result(kind, num_layers, bidirectional, batch_first, lengths, dtype, explicit):
    """torch.nn's side, shared by the native and the reference test of a configuration."""
    reference, _ = build_pair(kind, num_layers, bidirectional, dtype, "auto", batch_first)
    return run_dropin(reference, lengths, explicit, dtype)


@pytest.mark.parametrize("backend", ["native", "reference"])
@pytest.mark.parametrize("dtype_name", list(DTYPES))
@pytest.mark.parametrize("lengths", ["equal", "packed"])
@pytest.mark.parametrize("batch_first", [False, True], ids=["seq-first", "batch-first"])
@pytest.mark.parametrize("kind, num_layers, bidirectional", GRID)
def test_dropin_matches_torch_nn(kind, num_layers, bidirectional, batch_first, lengths,
                                 dtype_name, backend):
    dtype = DTYPES[dtype_name]
    # a deterministic mix of explicit random states and the default zeros
    explicit = (num_layers + bidirectional + batch_first) % 2 == 1
    _, ours = build_pair(kind, num_layers, bidirectional, dtype, backend, batch_first)
    out_o, final_o, grad_o, layout_o = run_dropin(ours, lengths, explicit, dtype)
    out_t, final_t, grad_t, layout_t = torch_dropin_result(
        kind, num_layers, bidirectional, batch_first, lengths, dtype, explicit
    )
    assert out_o.shape == out_t.shape
    assert all(torch.equal(a, b) for a, b in zip(layout_o, layout_t))
    assert_all_close([out_o], [out_t], dtype, "output")
    assert_all_close(final_o, final_t, dtype, "final state")
    assert_all_close(grad_o, grad_t, dtype, "gradient")


# -- rnnkit.layers over the same parameters: lengths and masks torch.nn cannot take --------
def padded_case(padding: str, dtype):
    """``x (B, T, F)``, real-step ``lengths``, ``starts``, ``mask`` and random-or-zero states."""
    seed(3)
    x = torch.randn(B, T, F, dtype=dtype)
    lengths = torch.tensor(RAGGED if padding in ("right", "left") else WITH_EMPTY)
    left = padding in ("left", "empty-row-mask")
    starts = T - lengths if left else torch.zeros_like(lengths)
    steps = torch.arange(T)
    mask = (steps >= starts[:, None]) & (steps < (starts + lengths)[:, None])
    return x, lengths, starts, mask


def torch_row_by_row(model, x, states, starts, lengths):
    """torch.nn on each row's real steps ``x[b, start:start+length]``.

    An empty row keeps its initial state and outputs zeros.
    """
    directions = 2 if model.bidirectional else 1
    width = directions * (model.proj_size or model.hidden_size)
    outputs, finals = [], []
    for b in range(B):
        start, length = int(starts[b]), int(lengths[b])
        row_states = tuple(s[:, b : b + 1] for s in states)
        if length == 0:
            outputs.append(x.new_zeros(T, width))
            finals.append(row_states)
            continue
        out, hidden = model(x[b : b + 1, start : start + length], as_hx(model, row_states))
        before, after = x.new_zeros(start, width), x.new_zeros(T - start - length, width)
        outputs.append(torch.cat([before, out[0], after]))
        finals.append(as_tuple(hidden))
    joined = tuple(torch.cat([f[k] for f in finals], 1) for k in range(len(states)))
    return torch.stack(outputs), joined


@functools.cache
def torch_padded_result(kind, num_layers, bidirectional, padding, dtype):
    """torch.nn's side: packed for right padding, else row by row on the real steps."""
    reference, _ = build_pair(kind, num_layers, bidirectional, dtype, "auto")
    x, lengths, starts, _ = padded_case(padding, dtype)
    x, *states = leaves(x, *initial_states(reference, dtype, random=num_layers != 2))
    if padding == "right":
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        packed_out, hidden = reference(packed, as_hx(reference, states))
        out, _ = pad_packed_sequence(packed_out, batch_first=True, total_length=T)
        finals = as_tuple(hidden)
    else:
        out, finals = torch_row_by_row(reference, x, states, starts, lengths)
    grads = gradients(weighted_loss([out, *finals]), x, states, reference)
    return out.detach(), tuple(f.detach() for f in finals), grads


@pytest.mark.parametrize("backend", ["native", "reference"])
@pytest.mark.parametrize("dtype_name", list(DTYPES))
@pytest.mark.parametrize("padding", ["right", "left", "empty-row-lengths", "empty-row-mask"])
@pytest.mark.parametrize("kind, num_layers, bidirectional", GRID)
def test_rnnkit_layers_match_torch_nn_on_real_steps(kind, num_layers, bidirectional, padding,
                                                    dtype_name, backend):
    dtype = DTYPES[dtype_name]
    _, ours = build_pair(kind, num_layers, bidirectional, dtype, backend)
    stack = ours.as_stack(backend)
    x, lengths, _, mask = padded_case(padding, dtype)
    initial = initial_states(ours, dtype, random=num_layers != 2)
    x, *states = leaves(x, *initial)
    keyword = {"lengths": lengths} if padding in ("right", "empty-row-lengths") else {"mask": mask}
    out_o, layer_states = stack(x, ours.to_stack_state(as_hx(ours, states)), **keyword)
    final_o = as_tuple(ours.from_stack_state(layer_states))
    grad_o = gradients(weighted_loss([out_o, *final_o]), x, states, ours)

    out_t, final_t, grad_t = torch_padded_result(kind, num_layers, bidirectional, padding, dtype)
    assert_all_close([out_o], [out_t], dtype, "output")
    assert_all_close(final_o, final_t, dtype, "final state")
    assert_all_close(grad_o, grad_t, dtype, "gradient")
    if padding.startswith("empty"):
        empty = int((lengths == 0).nonzero()[0])
        assert not out_o[empty].any()
        for final, start in zip(final_o, initial):
            assert torch.equal(final[:, empty], start[:, empty])
