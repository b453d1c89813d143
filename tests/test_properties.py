"""Properties over random sizes, lengths and paddings (hypothesis): the paths agree, padding is
inert, and reading a sequence backwards is the same as reversing it."""

from __future__ import annotations

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ALL_CELLS, NATIVE_CELLS
from rnnkit import Recurrent

TOL = dict(atol=1e-10, rtol=0)
SETTINGS = settings(max_examples=30, deadline=None)


@st.composite
def batches(draw, kinds: tuple[str, ...]):
    """A cell kind, sizes, per-row lengths, a padding side and a seed for the tensors."""
    kind = draw(st.sampled_from(kinds))
    batch = draw(st.integers(1, 4))
    total = draw(st.integers(1, 6))
    lengths = draw(st.lists(st.integers(0, total), min_size=batch, max_size=batch))
    hidden = draw(st.integers(3 if kind == "lstm-proj" else 1, 5))  # proj_size 2 < hidden
    return dict(
        kind=kind,
        shape=(batch, total, draw(st.integers(1, 4))),
        hidden=hidden,
        lengths=torch.tensor(lengths),
        left=draw(st.booleans()),
        reverse=draw(st.booleans()),
        seed=draw(st.integers(0, 2**16)),
    )


def tensors(case: dict, build_cell):
    """The case's cell, input and mask (True = real step), all seeded."""
    B, T, F = case["shape"]
    cell = build_cell(case["kind"], F, case["hidden"], seed=case["seed"])
    x = torch.randn(B, T, F, dtype=torch.float64)
    mask = torch.arange(T) < case["lengths"].unsqueeze(1)
    return cell, x, mask.flip(1) if case["left"] else mask


@SETTINGS
@given(case=batches(NATIVE_CELLS), initial=st.booleans())
def test_reference_equals_native(case: dict, initial: bool, build_cell) -> None:
    cell, x, mask = tensors(case, build_cell)
    x.requires_grad_()
    state = (
        tuple(torch.randn(x.size(0), n, dtype=x.dtype) for n in cell.state_sizes)
        if initial
        else None
    )
    results = []
    for backend in ("native", "reference"):
        out, final = Recurrent(cell, backend=backend, reverse=case["reverse"])(x, state, mask=mask)
        (grad,) = torch.autograd.grad(out.sum() + final[-1].sum(), [x])
        results.append((out, *final, grad))
    for a, b in zip(*results):
        torch.testing.assert_close(a, b, **TOL)


@SETTINGS
@given(case=batches(ALL_CELLS), holes=st.lists(st.booleans(), min_size=24, max_size=24))
def test_masked_steps_never_leak(case: dict, holes: list[bool], build_cell) -> None:
    cell, x, mask = tensors(case, build_cell)
    B, T, _ = x.shape
    # also knock arbitrary holes into the mask: any False step must be inert
    mask = mask & ~torch.tensor(holes[: B * T]).view(B, T)
    real = mask.unsqueeze(-1)
    noisy = torch.where(real, x, 100 * torch.randn_like(x))
    layer = Recurrent(cell, reverse=case["reverse"])
    params = list(cell.parameters())
    out, final = layer(x, mask=mask)
    grads = torch.autograd.grad(out.sum() + final[-1].sum(), params)
    out2, final2 = layer(noisy, mask=mask)
    grads2 = torch.autograd.grad(out2.sum() + final2[-1].sum(), params)
    assert torch.equal(out, out2)
    assert all(torch.equal(a, b) for a, b in zip(final, final2))
    assert out[~mask].abs().sum() == 0
    for a, b in zip(grads, grads2):
        torch.testing.assert_close(a, b, atol=1e-12, rtol=0)
    # not even NaN padding reaches the values (for gradients see test_layers' NaN test)
    with torch.no_grad():
        out3, final3 = layer(torch.where(real, x, torch.nan), mask=mask)
    assert torch.equal(out, out3)
    assert all(torch.equal(a, b) for a, b in zip(final, final3))


@SETTINGS
@given(case=batches(ALL_CELLS))
def test_reversed_layer_on_reversed_rows_equals_forward_layer(case: dict, build_cell) -> None:
    cell, x, _ = tensors(case, build_cell)
    lengths = case["lengths"]
    flipped = x.clone()
    for b, n in enumerate(lengths.tolist()):
        flipped[b, :n] = x[b, :n].flip(0)  # right padding: reverse each row's real part only
    out, final = Recurrent(cell)(x, lengths=lengths)
    rev_out, rev_final = Recurrent(cell, reverse=True)(flipped, lengths=lengths)
    for b, n in enumerate(lengths.tolist()):
        torch.testing.assert_close(rev_out[b, :n], out[b, :n].flip(0), **TOL)
        assert rev_out[b, n:].abs().sum() == 0
    for a, b in zip(final, rev_final):
        torch.testing.assert_close(a, b, **TOL)
