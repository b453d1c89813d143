"""Stepping: ``Recurrent.step`` and ``Stack.step`` fed one step at a time equal the layer's
sequence forward (whichever path it takes: fused kernel, the cell's scan, or the loop), for
every cell kind, in float64; and language-model generation runs on it."""

from __future__ import annotations

import pytest
import torch

from rnnkit import Bidirectional, Recurrent, Stack
from rnnkit.data.vocab import Vocabulary
from rnnkit.layers import build_stack
from rnnkit.tasks.lm import LanguageModel, LMConfig, LoadedLM

TOL = dict(atol=1e-10, rtol=0)
B, T, F = 3, 7, 3


def randn(*shape: int) -> torch.Tensor:
    return torch.randn(*shape, dtype=torch.float64)


def stepped(module, x: torch.Tensor, state=None):
    """``module.step`` over ``x (B, T, F)``: the outputs ``(B, T, H)`` and the last state."""
    outputs = []
    for x_t in x.unbind(1):
        y_t, state = module.step(x_t, state)
        outputs.append(y_t)
    return torch.stack(outputs, 1), state


def assert_states_close(got, want) -> None:
    """Equal nested states: a tuple of tensors, or a list of them (one per layer)."""
    if isinstance(got, torch.Tensor):
        torch.testing.assert_close(got, want, **TOL)
        return
    assert len(got) == len(want)
    for a, b in zip(got, want):
        assert_states_close(a, b)


# -- Recurrent.step --------------------------------------------------------------------------------
@pytest.mark.parametrize("initial", [False, True])
@pytest.mark.parametrize("backend", ["auto", "reference"])
def test_recurrent_step_equals_the_sequence_forward(any_cell, build_cell, backend, initial) -> None:
    cell = build_cell(any_cell)
    x = randn(B, T, F)
    s0 = tuple(randn(B, n) for n in cell.state_sizes) if initial else None
    layer = Recurrent(cell, backend=backend)
    want, want_final = layer(x, s0)
    got, final = stepped(layer, x, s0)
    torch.testing.assert_close(got, want, **TOL)
    assert_states_close(final, want_final)


def test_recurrent_step_takes_a_lone_tensor_for_a_one_state_cell(build_cell) -> None:
    layer = Recurrent(build_cell("gru"))
    x, h0 = randn(B, F), randn(B, 4)
    y, (h,) = layer.step(x, h0)
    assert torch.equal(y, h)
    torch.testing.assert_close(y, layer(x[:, None], (h0,))[0][:, 0], **TOL)


def test_recurrent_step_with_every_dropout_equals_forward_in_evaluation(build_cell) -> None:
    # zoneout in evaluation is its expectation, the other dropouts are off: both paths agree
    layer = Recurrent(build_cell("lstm"), input_dropout=0.3, output_dropout=0.3,
                      recurrent_dropout=0.3, zoneout=0.2, dropconnect=0.4).eval()
    x = randn(B, T, F)
    want, want_final = layer(x)
    got, final = stepped(layer, x)
    torch.testing.assert_close(got, want, **TOL)
    assert_states_close(final, want_final)


def test_recurrent_step_in_training_draws_its_dropouts(build_cell) -> None:
    layer = Recurrent(build_cell("gru"), input_dropout=0.5, output_dropout=0.5).train()
    x = randn(B, F)
    torch.manual_seed(0)
    y1, _ = layer.step(x)
    y2, _ = layer.step(x)
    assert not torch.equal(y1, y2)  # a fresh mask per call
    dropped = y1 == 0
    assert dropped.any() and (~dropped).any()


def test_a_reverse_layer_cannot_step(build_cell) -> None:
    layer = Recurrent(build_cell("lstm"), reverse=True)
    with pytest.raises(ValueError, match="a reverse layer reads the sequence from its end"):
        layer.step(randn(B, F))


def test_a_step_of_the_wrong_shape_is_refused(build_cell) -> None:
    layer = Recurrent(build_cell("lstm"))
    with pytest.raises(ValueError, match=r"a step's input must have shape \(batch, 3\), got"):
        layer.step(randn(B, 1, F))
    with pytest.raises(ValueError, match=r"state \(h, c\) must have shapes"):
        layer.step(randn(B, F), (randn(B, 4), randn(B + 1, 4)))


# -- Stack.step ------------------------------------------------------------------------------------
def mixed_stack(build_cell, dropout: float = 0.0) -> Stack:
    """Four different cells on top of each other, sizes 3 -> 2 (LSTM projection) -> 4 -> 4 -> 5."""
    cells = [
        build_cell("lstm-proj", 3, 4, seed=1),
        build_cell("gru", 2, 4, seed=2),
        build_cell("mingru", 4, 4, seed=3),
        build_cell("ln-lstm", 4, 5, seed=4),
    ]
    return Stack(cells, dropout=dropout)


@pytest.mark.parametrize("initial", [False, True])
def test_stack_step_equals_the_stack_forward_with_mixed_cells(build_cell, initial) -> None:
    stack = mixed_stack(build_cell, dropout=0.5).eval()  # dropout between layers is off in eval
    x = randn(B, T, F)
    states = None
    if initial:
        states = [tuple(randn(B, n) for n in layer.cell.state_sizes) for layer in stack.layers]
    want, want_final = stack(x, states)
    got, final = stepped(stack, x, states)
    assert got.shape == (B, T, 5)
    torch.testing.assert_close(got, want, **TOL)
    assert_states_close(final, want_final)


def test_stack_step_equals_forward_for_every_cell_kind(any_cell, build_cell) -> None:
    first = build_cell(any_cell, F, 4, seed=1)
    stack = Stack([first, build_cell(any_cell, first.output_size, 4, seed=2)])
    x = randn(B, T, F)
    want, want_final = stack(x)
    got, final = stepped(stack, x)
    torch.testing.assert_close(got, want, **TOL)
    assert_states_close(final, want_final)


def test_stack_initial_state_is_what_no_state_means(build_cell) -> None:
    stack = mixed_stack(build_cell)
    zeros = stack.initial_state(B, dtype=torch.float64)
    assert [tuple(s.shape) for layer in zeros for s in layer] == [
        (B, 2), (B, 4), (B, 4), (B, 4), (B, 5), (B, 5)]
    assert all(s.dtype == torch.float64 and not s.any() for layer in zeros for s in layer)
    x = randn(B, T, F)
    assert_states_close(stepped(stack, x, zeros), stepped(stack, x))
    assert_states_close(stack(x, zeros), stack(x))


def test_stack_step_checks_the_number_of_states(build_cell) -> None:
    stack = mixed_stack(build_cell)
    with pytest.raises(ValueError, match=r"states must have one entry per layer \(4\), got 2"):
        stack.step(randn(B, F), [None, None])


def test_stepping_a_stack_that_reads_backwards_is_refused(build_cell) -> None:
    bidirectional = build_stack("lstm", F, 4, 2, bidirectional=True).double()
    assert isinstance(bidirectional.layers[0], Bidirectional)
    with pytest.raises(ValueError, match=r"layer 0 \(Bidirectional\) reads the sequence "
                                         "backwards: only a stack of forward Recurrent layers"):
        bidirectional.step(randn(B, F))
    reverse_on_top = Stack([build_cell("gru"), Recurrent(build_cell("gru", 4, 4), reverse=True)])
    with pytest.raises(ValueError, match=r"layer 1 \(Recurrent\) reads the sequence backwards"):
        reverse_on_top.step(randn(B, F))


# -- the language model steps its stack ------------------------------------------------------------
def tiny_lm(cell: str) -> LanguageModel:
    torch.manual_seed(0)
    config = LMConfig(cell=cell, layers=2, hidden=8, embedding=6, dropout=0.2)
    config.vocab_size = 11
    return LanguageModel(config).double().eval()


@pytest.mark.parametrize("cell", ["lstm", "gru", "ln-gru", "mingru"])
def test_language_model_step_equals_its_forward(cell: str) -> None:
    model = tiny_lm(cell)
    ids = torch.randint(0, 11, (2, 9), generator=torch.Generator().manual_seed(1))
    want, want_final = model(ids)
    state, logits = model.initial_state(2), []
    for t in range(ids.size(1)):
        step_logits, state = model.step(ids[:, t], state)
        logits.append(step_logits)
    torch.testing.assert_close(torch.stack(logits, 1), want, **TOL)
    assert_states_close(state, want_final)


def test_generation_runs_on_the_model_step(monkeypatch) -> None:
    text = "abcab cabca bcabc"
    vocab = Vocabulary.build(text)
    config = LMConfig(cell="mingru", layers=2, hidden=8, embedding=6)
    config.vocab_size = len(vocab)
    torch.manual_seed(0)
    lm = LoadedLM(LanguageModel(config).eval(), vocab, config, None)
    calls = []
    original = LanguageModel.step

    def spy(self, ids, state):
        calls.append(ids.clone())
        return original(self, ids, state)

    monkeypatch.setattr(LanguageModel, "step", spy)
    written = lm.generate("ab", 6, temperature=0.0)
    assert len(calls) == 6  # one step per token written (the prompt is read in one pass)
    # greedy: each token is the forward pass's argmax after the prompt and what came before
    ids = vocab.encode("ab")
    for _ in range(6):
        with torch.no_grad():
            logits, _ = lm.model(ids[None])
        ids = torch.cat([ids, logits[0, -1].argmax().view(1)])
    assert written == vocab.decode(ids[2:].tolist())
