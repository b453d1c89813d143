"""The layer-normalised cells' whole-sequence path (``scan``: one autograd node with a
hand-written backward, :mod:`rnnkit.cells.layernorm_scan`) equals the reference step loop:
outputs, final states and the gradient of every input and parameter, in float64 to 1e-10."""

from __future__ import annotations

import copy

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from rnnkit.cells import LayerNormGRUCell, LayerNormLSTMCell, make_cell
from rnnkit.layers import Bidirectional, Recurrent, build_stack

KINDS = ("ln-lstm", "ln-gru")
TOL = dict(atol=1e-10, rtol=0)
B, T, F, H = 3, 9, 4, 6


def randn(*shape: int, grad: bool = False, dtype=torch.float64) -> torch.Tensor:
    return torch.randn(*shape, dtype=dtype, requires_grad=grad)


def shaken(cell: nn.Module) -> nn.Module:
    """The cell with every parameter moved off its initial value (gains 1, shifts 0 would hide
    a missing gain or shift gradient)."""
    with torch.no_grad():
        for p in cell.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return cell


def fresh_cell(kind: str, dtype=torch.float64) -> nn.Module:
    return shaken(make_cell(kind, F, H).to(dtype))


def as_reference(model: nn.Module) -> nn.Module:
    """A copy of ``model`` whose every layer runs the per-step loop."""
    ref = copy.deepcopy(model)
    for module in ref.modules():
        if isinstance(module, Recurrent):
            module.backend = "reference"
    return ref


def tensors(nested) -> list[torch.Tensor]:
    """The tensors of a (nested) state, in order."""
    if nested is None:
        return []
    if isinstance(nested, torch.Tensor):
        return [nested]
    return [t for part in nested for t in tensors(part)]


def outputs_and_gradients(model: nn.Module, x, state=None, **steps) -> list[torch.Tensor]:
    """Output, final state tensors, and gradients of a loss reading them all w.r.t. the input,
    the initial state and every parameter."""
    out, final = model(x, state, **steps)
    finals = tensors(final)
    weights = torch.linspace(-1, 1, out.size(-1), dtype=out.dtype)
    loss = (out * weights).sum() + sum((s * s.cos()).sum() for s in finals)
    leaves = [x, *tensors(state), *model.parameters()]
    return [out, *finals, *torch.autograd.grad(loss, leaves)]


def assert_scan_equals_loop(model: nn.Module, x, state=None, tol=TOL, **steps) -> None:
    fused = outputs_and_gradients(model, x, state, **steps)
    looped = outputs_and_gradients(as_reference(model), x, state, **steps)
    assert len(fused) == len(looped)
    for a, b in zip(fused, looped):
        torch.testing.assert_close(a, b, **tol)


def padded_mask() -> torch.Tensor:
    """Left padding, holes in the middle and a row with no real step."""
    mask = torch.ones(B, T, dtype=torch.bool)
    mask[0, :3] = False
    mask[1, [2, 5, 6]] = False
    mask[2] = False
    return mask


@pytest.mark.parametrize("kind", KINDS)
def test_layernorm_cells_offer_a_scan_that_the_layer_takes(kind: str) -> None:
    cell = fresh_cell(kind)
    assert cell.has_scan and cell.native_spec() is None
    _, final = Recurrent(cell)(randn(B, T, F, grad=True))
    node = final[-1].grad_fn
    while "Sequence" not in type(node).__name__:  # GRU's final h is a slice of the outputs
        node = node.next_functions[0][0]
    assert type(node).__name__.startswith("LayerNorm")


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("padding", ["none", "lengths", "mask"])
@pytest.mark.parametrize("kind", KINDS)
def test_scan_equals_the_loop_with_padding_and_direction(kind, padding, reverse) -> None:
    torch.manual_seed(0)
    layer = Recurrent(fresh_cell(kind), reverse=reverse)
    steps = {"none": {}, "lengths": {"lengths": torch.tensor([9, 4, 1])},
             "mask": {"mask": padded_mask()}}[padding]
    assert_scan_equals_loop(layer, randn(B, T, F, grad=True), **steps)


@pytest.mark.parametrize("kind", KINDS)
def test_scan_equals_the_loop_from_a_given_initial_state(kind) -> None:
    torch.manual_seed(1)
    cell = fresh_cell(kind)
    state = tuple(randn(B, size, grad=True) for size in cell.state_sizes)
    assert_scan_equals_loop(Recurrent(cell), randn(B, T, F, grad=True), state,
                            mask=padded_mask())


@pytest.mark.parametrize("kind", KINDS)
def test_bidirectional_and_two_layer_stacks_equal_the_loop(kind) -> None:
    torch.manual_seed(2)
    both = Bidirectional(Recurrent(fresh_cell(kind)), Recurrent(fresh_cell(kind)))
    x = randn(B, T, F, grad=True)
    assert_scan_equals_loop(both, x, lengths=torch.tensor([9, 3, 6]))
    stack = shaken(build_stack(kind, F, H, 2).double())
    assert_scan_equals_loop(stack, x, mask=padded_mask())


@settings(max_examples=6, deadline=None)
@given(st.sampled_from(KINDS), st.booleans(), st.integers(0, 2**31 - 1))
def test_scan_equals_the_loop_on_random_masks(kind: str, reverse: bool, seed: int) -> None:
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    steps = int(torch.randint(1, 12, (), generator=generator))
    mask = torch.rand(B, steps, generator=generator) < 0.7
    layer = Recurrent(fresh_cell(kind), reverse=reverse)
    assert_scan_equals_loop(layer, randn(B, steps, F, grad=True), mask=mask)


@pytest.mark.parametrize("kind", KINDS)
def test_double_backward_equals_the_loop(kind) -> None:
    """A gradient penalty: the gradient (w.r.t. the weights) of the norm of ∂out/∂x."""
    torch.manual_seed(3)
    layer = Recurrent(fresh_cell(kind))
    x = randn(B, T, F, grad=True)
    found = []
    for model in (layer, as_reference(layer)):
        out, _ = model(x, mask=padded_mask())
        (dx,) = torch.autograd.grad((out * out.sin()).sum(), x, create_graph=True)
        found.append(torch.autograd.grad(dx.square().sum(), [x, *model.parameters()]))
    for a, b in zip(*found):
        torch.testing.assert_close(a, b, **TOL)


@pytest.mark.parametrize("kind", KINDS)
def test_gradcheck_of_the_scan(kind) -> None:
    torch.manual_seed(4)
    cell = shaken(make_cell(kind, 3, 2).double())
    state = tuple(randn(2, size, grad=True) for size in cell.state_sizes)
    mask = torch.tensor([[True, False, True, True], [False, True, True, False]])

    def scan(xp, *state):
        out, final = cell.scan(xp, state, mask)
        return out, *final

    xp = randn(2, 4, cell.weight_hh.size(0), grad=True)
    assert torch.autograd.gradcheck(scan, (xp, *state))


@pytest.mark.parametrize("kind", KINDS)
def test_float32_scan_is_close_to_the_loop(kind) -> None:
    """Outputs and final states to 1e-5; each gradient (sums over 40 steps, whose float32
    rounding differs in order: the scan's recurrent matmul is oneDNN's) to 1e-4 of its size."""
    torch.manual_seed(5)
    layer = Recurrent(fresh_cell(kind, torch.float32))
    x = randn(B, 40, F, grad=True, dtype=torch.float32)
    lengths = torch.tensor([40, 7, 22])
    fused = outputs_and_gradients(layer, x, lengths=lengths)
    looped = outputs_and_gradients(as_reference(layer), x, lengths=lengths)
    n_values = 1 + len(layer.cell.state_names)
    for k, (a, b) in enumerate(zip(fused, looped)):
        tol = 1e-5 if k < n_values else 1e-4 * b.abs().max().item()
        torch.testing.assert_close(a, b, atol=tol, rtol=1e-5)


@pytest.mark.parametrize("cls", [LayerNormLSTMCell, LayerNormGRUCell])
def test_under_autocast_the_scan_runs_the_step_loop(cls) -> None:
    torch.manual_seed(6)
    layer = Recurrent(cls(F, H))
    x = torch.randn(B, T, F)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        fused, _ = layer(x)
        looped, _ = as_reference(layer)(x)
    assert torch.equal(fused, looped)
