"""minGRU and minLSTM: their one-node scan (gates and recurrence, hand-derived backward) equals
the step loop in values and gradients (float64 1e-10, float32 1e-5) over lengths, masks with
holes, left padding and reverse; padding never leaks; double backward works. (Every registered
cell's generic tests, scan against step included, also run on both through conftest.)"""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import rnnkit.cells.scans as scans
from rnnkit.cells import MinGRUCell, MinLSTMCell, make_cell
from rnnkit.cells.minimal import linear_scan
from rnnkit.layers import Recurrent

KINDS = ("mingru", "minlstm")
F, H = 3, 5
TOLERANCE = {torch.float64: dict(atol=1e-10, rtol=0), torch.float32: dict(atol=1e-5, rtol=1e-5)}


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    """Chunks of 3 steps at (B, H) = (4, 5): every test crosses chunk boundaries, and T = 13
    leaves a last chunk of one step."""
    monkeypatch.setattr(scans, "CHUNK_ELEMENTS", 60)


def cell_of(kind: str, dtype: torch.dtype = torch.float64, seed: int = 0):
    torch.manual_seed(seed)
    return make_cell(kind, F, H).to(dtype)


def step_loop(cell, xp: torch.Tensor, h0: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """The reference: ``cell.step`` at every step, the state carried where mask is False."""
    h, outs = h0, []
    for t in range(xp.size(1)):
        (new,), _ = cell.step(xp[:, t], (h,))
        h = new if mask is None else torch.where(mask[:, t, None], new, h)
        outs.append(h)
    return torch.stack(outs, 1)


def masks(B: int, T: int) -> dict[str, torch.Tensor | None]:
    lengths = torch.tensor([T, T // 2, 1, 0])[:B]
    right = torch.arange(T) < lengths[:, None]
    holes = torch.rand(B, T, generator=torch.Generator().manual_seed(3)) < 0.6
    return {"none": None, "right": right, "left": right.flip(1), "holes": holes}


# -- the scan equals the step loop -----------------------------------------------------------------
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("padding", ["none", "right", "left", "holes"])
@pytest.mark.parametrize("kind", KINDS)
def test_scan_equals_step_loop_in_values_and_gradients(kind, padding, dtype) -> None:
    cell = cell_of(kind, dtype)
    B, T = 4, 13
    mask = masks(B, T)[padding]
    xp = (3 * torch.randn(B, T, cell.gates.parts * H, dtype=dtype)).requires_grad_()
    h0 = torch.randn(B, H, dtype=dtype, requires_grad=True)
    weights = torch.randn(B, T, H, dtype=dtype)
    scanned, (final,) = cell.scan(xp, (h0,), mask)
    looped = step_loop(cell, xp, h0, mask)
    torch.testing.assert_close(scanned, looped, **TOLERANCE[dtype])
    torch.testing.assert_close(final, looped[:, -1], **TOLERANCE[dtype])
    got = torch.autograd.grad((scanned * weights).sum() + (final**2).sum(), (xp, h0))
    want = torch.autograd.grad((looped * weights).sum() + (looped[:, -1] ** 2).sum(), (xp, h0))
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, **TOLERANCE[dtype])


@pytest.mark.parametrize("kind", KINDS)
def test_step_is_the_papers_formula(kind) -> None:
    cell = cell_of(kind)
    xp, h = cell.project(torch.randn(6, F, dtype=torch.float64)), torch.randn(6, H).double()
    (new,), gates = cell.step(xp, (h,))
    if kind == "mingru":
        z, candidate = xp[:, :H].sigmoid(), xp[:, H:]
        want = (1 - z) * h + z * candidate
        assert len(gates) == 2 and torch.allclose(gates[0], z, atol=1e-12, rtol=0)
    else:
        f, i, candidate = xp[:, :H].sigmoid(), xp[:, H:2 * H].sigmoid(), xp[:, 2 * H:]
        want = f / (f + i) * h + i / (f + i) * candidate
        keep, take, _ = gates
        torch.testing.assert_close(take, i / (f + i), atol=1e-12, rtol=0)
        torch.testing.assert_close(keep + take, torch.ones_like(keep), atol=1e-12, rtol=0)
    torch.testing.assert_close(new, want, atol=1e-12, rtol=0)


# -- padding never leaks ---------------------------------------------------------------------------
@pytest.mark.parametrize("padding", ["right", "left", "holes"])
@pytest.mark.parametrize("kind", KINDS)
def test_nan_or_huge_padding_changes_no_output_state_or_gradient(kind, padding) -> None:
    cell = cell_of(kind)
    B, T = 4, 13
    mask = masks(B, T)[padding]
    x = torch.randn(B, T, F, dtype=torch.float64)
    results = []
    for fill in (0.0, float("nan"), 1e30, -1e30):
        for reverse in (False, True):
            padded = x.masked_fill(~mask[..., None], fill).requires_grad_()
            out, (final,) = Recurrent(cell, reverse=reverse)(padded, mask=mask)
            loss = out.sum() + (final * torch.arange(H)).sum()
            grads = torch.autograd.grad(loss, (padded, *cell.parameters()))
            results.append((reverse, out, final, *grads))
    for reverse, *values in results[2:]:
        for a, b in zip(values, results[reverse][1:]):
            assert torch.equal(a, b)
    assert all(torch.equal(r[3][~mask], torch.zeros_like(r[3][~mask])) for r in results)


@pytest.mark.parametrize("kind", KINDS)
def test_scan_ignores_nan_in_masked_projected_steps(kind) -> None:
    cell = cell_of(kind)
    B, T = 4, 13
    mask = masks(B, T)["holes"]
    clean = torch.randn(B, T, cell.gates.parts * H, dtype=torch.float64)
    h0 = torch.randn(B, H, dtype=torch.float64, requires_grad=True)
    results = []
    for xp in (clean, clean.masked_fill(~mask[..., None], float("nan"))):
        xp = xp.clone().requires_grad_()
        out, (final,) = cell.scan(xp, (h0,), mask)
        results.append((out, final, *torch.autograd.grad(out.sum() + final.sum(), (xp, h0))))
    for a, b in zip(*results):
        assert torch.equal(a, b)


# -- reverse, lengths and masks through the layer, on random shapes ------------------------------
@settings(max_examples=12, deadline=None)
@given(kind=st.sampled_from(KINDS), B=st.integers(1, 4), T=st.integers(1, 17),
       reverse=st.booleans(), holes=st.booleans(), seed=st.integers(0, 2**16))
def test_layer_scan_equals_reference_loop_on_random_masks(kind, B, T, reverse, holes, seed):
    generator = torch.Generator().manual_seed(seed)
    lengths = torch.randint(0, T + 1, (B,), generator=generator)
    steps = ({"mask": torch.rand(B, T, generator=generator) < 0.7} if holes
             else {"lengths": lengths})
    cell = cell_of(kind, seed=seed)
    x = torch.randn(B, T, F, dtype=torch.float64, generator=generator, requires_grad=True)
    h0 = torch.randn(B, H, dtype=torch.float64, generator=generator, requires_grad=True)
    results = []
    for backend in ("auto", "reference"):
        out, (final,) = Recurrent(cell, backend=backend, reverse=reverse)(x, h0, **steps)
        loss = (out * out).sum() + final.sum()
        results.append((out, final, *torch.autograd.grad(loss, (x, h0, *cell.parameters()))))
    for a, b in zip(*results):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=0)


# -- double backward, long sequences, autocast -----------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_double_backward_is_exact(kind) -> None:
    cell = cell_of(kind)
    xp = torch.randn(2, 7, cell.gates.parts * H, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(2, H, dtype=torch.float64, requires_grad=True)
    mask = torch.rand(2, 7, generator=torch.Generator().manual_seed(1)) < 0.7

    def scan(xp, h0):
        return cell.scan(xp, (h0,), mask)[0]

    assert torch.autograd.gradcheck(scan, (xp, h0))
    assert torch.autograd.gradgradcheck(scan, (xp, h0))


@pytest.mark.parametrize("cls", [MinGRUCell, MinLSTMCell])
def test_scan_is_stable_on_long_sequences_with_saturated_gates(cls, monkeypatch) -> None:
    monkeypatch.setattr(scans, "CHUNK_ELEMENTS", 1 << 18)
    torch.manual_seed(0)
    cell = cls(2, 8)
    with torch.no_grad():
        cell.weight_ih.mul_(40)  # gates at 0 and 1 to float32's precision
    x = torch.randn(3, 3000, 2)
    scanned = Recurrent(cell)(x)
    looped = Recurrent(cell, backend="reference")(x)
    assert scanned[0].isfinite().all()
    torch.testing.assert_close(scanned[0], looped[0], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("kind", KINDS)
def test_scan_under_bf16_autocast_equals_the_step_loop(kind) -> None:
    cell = cell_of(kind, torch.float32)
    x = torch.randn(4, 13, F)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        scanned, (final,) = Recurrent(cell)(x)
        looped, (last,) = Recurrent(cell, backend="reference")(x)
        scanned.sum().backward()
    assert scanned.dtype == looped.dtype == torch.float32 and final.dtype == last.dtype
    torch.testing.assert_close(scanned, looped, atol=1e-5, rtol=1e-5)
    assert all(p.grad.isfinite().all() for p in cell.parameters())


def test_linear_scan_is_the_recurrence_with_masked_steps_carried() -> None:
    torch.manual_seed(0)
    B, T = 3, 37
    a, b = torch.rand(B, T, H, dtype=torch.float64), torch.randn(B, T, H, dtype=torch.float64)
    h0 = torch.randn(B, H, dtype=torch.float64)
    mask = torch.rand(B, T) > 0.3
    h, want = h0, []
    for t in range(T):
        h = torch.where(mask[:, t:t + 1], a[:, t] * h + b[:, t], h)
        want.append(h)
    got = linear_scan(a, b, h0, mask)
    torch.testing.assert_close(got, torch.stack(want, 1), atol=1e-12, rtol=0)
