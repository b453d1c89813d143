"""The laid-out generation step (rnnkit.decode.fast_step) equals the model's own step: logits
to float rounding over many steps, and the same text token for token, greedy or sampled."""

from __future__ import annotations

import pytest
import torch

from rnnkit.data.vocab import Vocabulary
from rnnkit.decode.fast_step import stepper_for
from rnnkit.tasks.lm.generate import LoadedLM, generate
from rnnkit.tasks.lm.model import LanguageModel, LMConfig

FIXTURE_TEXT = "the quick brown fox jumps over the lazy dog. THE END!\n"


def model(layers: int = 2, hidden: int = 24, cell: str = "lstm", **options) -> LanguageModel:
    torch.manual_seed(layers * 100 + hidden)
    m = LanguageModel(LMConfig(cell=cell, layers=layers, hidden=hidden, vocab_size=30,
                               embedding=8, **options))
    with torch.no_grad():  # biases away from zero so every term of the update matters
        for name, p in m.named_parameters():
            if "bias" in name:
                p.uniform_(-0.5, 0.5)
    return m.eval()


def loaded(layers: int, hidden: int) -> tuple[LoadedLM, LoadedLM]:
    """A small LSTM LM over FIXTURE_TEXT's characters, loaded twice: generating with the fast
    step, and with the model's own step (``fast=False``)."""
    vocab = Vocabulary.build(FIXTURE_TEXT, level="char")
    m = model(layers, hidden)
    m.decoder = torch.nn.Linear(hidden, len(vocab))
    m.embedding = torch.nn.Embedding(len(vocab), 8)
    m.eval()
    config = LMConfig(layers=layers, hidden=hidden, vocab_size=len(vocab), embedding=8)
    return (LoadedLM(m, vocab, config, directory=None),
            LoadedLM(m, vocab, config, directory=None, fast=False))


@pytest.mark.parametrize("layers", [1, 2, 3])
def test_the_fast_step_follows_the_model_step_for_many_steps(layers):
    m = model(layers).double()
    fast = stepper_for(m, batch=3)
    assert fast is not None
    ids = torch.randint(0, 30, (3, 7))
    _, state = m(ids)
    fast.load_state(state)
    token = torch.tensor([1, 2, 3])
    for _ in range(50):
        want, state = m.step(token, state)
        got = fast.step(token)
        assert torch.allclose(got, want, atol=1e-12, rtol=0)
        token = want.argmax(-1)
    for (h, c), (fh, fc) in zip(state, fast.state()):
        assert torch.allclose(h, fh, atol=1e-12) and torch.allclose(c, fc, atol=1e-12)


def test_models_it_cannot_run_get_none():
    assert stepper_for(model(cell="gru")) is None
    assert stepper_for(model().train()) is None
    mixed = model()
    from rnnkit.layers import build_stack

    mixed.rnn = build_stack(["lstm", "gru"], 8, 24)
    assert stepper_for(mixed.eval()) is None


@pytest.mark.parametrize("sampling", [{"temperature": 0.0},
                                      {"temperature": 1.0, "seed": 3},
                                      {"temperature": 0.8, "top_k": 5, "top_p": 0.9, "seed": 7}])
def test_generation_is_the_same_text_token_for_token(sampling):
    fast, slow = loaded(2, 32)
    assert fast.stepper() is not None and slow.stepper() is None
    a = "".join(generate(fast, "the ", 300, **sampling))
    b = "".join(generate(slow, "the ", 300, **sampling))
    assert a == b and len(a) == 300


def test_two_generations_at_once_keep_their_own_state():
    lm, _ = loaded(1, 16)
    alone = "".join(generate(lm, "fox", 40, temperature=0.0))
    first, second = generate(lm, "fox", 40, temperature=0.0), generate(lm, "dog", 40,
                                                                        temperature=0.0)
    mixed = []
    for a, _ in zip(first, second):
        mixed.append(a)
    assert "".join(mixed) == alone


def test_the_sampler_draws_from_the_tempered_softmax():
    from rnnkit.decode.sampling import Sampler

    logits = torch.tensor([[2.0, 1.0, 0.0, -1.0, 0.5]])
    sampler = Sampler(temperature=0.7, generator=torch.Generator().manual_seed(0))
    draws = torch.stack([sampler(logits).clone() for _ in range(20000)])
    seen = torch.bincount(draws.flatten(), minlength=5).double() / draws.numel()
    want = (logits[0] / 0.7).softmax(-1).double()
    # 20,000 draws: a frequency's standard deviation is at most 0.0036
    assert torch.allclose(seen, want, atol=0.015), (seen, want)


def test_the_sampler_reuses_its_buffers_and_follows_its_seed():
    from rnnkit.decode.sampling import Sampler

    logits = torch.randn(3, 11)
    a, b = (Sampler(1.0, generator=torch.Generator().manual_seed(5)) for _ in range(2))
    first = a(logits)
    runs = [first.clone()] + [a(logits).clone() for _ in range(300)]
    assert a(logits).data_ptr() == first.data_ptr()  # no new tensor per token
    assert all(torch.equal(r, b(logits)) for r in runs)
    assert len({tuple(r.tolist()) for r in runs}) > 10
    greedy = Sampler(0.0)
    assert torch.equal(greedy(logits), logits.argmax(-1))
    top2 = Sampler(5.0, top_k=2, generator=torch.Generator().manual_seed(1))
    allowed = logits.topk(2, -1).indices
    for _ in range(200):
        assert (top2(logits).unsqueeze(1) == allowed).any(1).all()


@pytest.mark.parametrize("sampling", [{"temperature": 0.0}, {"temperature": 0.9, "seed": 4}])
def test_samples_written_side_by_side_equal_the_reference_and_one_at_a_time(sampling):
    from rnnkit.tasks.lm.generate import generate_samples

    fast, slow = loaded(2, 16)
    texts = generate_samples(fast, "the ", 80, samples=5, **sampling)
    assert texts == generate_samples(slow, "the ", 80, samples=5, **sampling)
    assert len(texts) == 5 and all(len(t) == 80 for t in texts)
    if sampling["temperature"] == 0:
        assert len(set(texts)) == 1  # greedy rows are one text five times
    else:
        assert len(set(texts)) == 5
    one = generate_samples(fast, "the ", 80, samples=1, **sampling)
    assert one == ["".join(generate(fast, "the ", 80, **sampling))]


def test_the_bf16_step_stays_close_to_the_fp32_step():
    from rnnkit.decode.fast_step import BF16LSTMStepper, bf16_kernels

    if not bf16_kernels():
        pytest.skip("oneDNN's bf16 kernels do not run on this CPU")
    m = model(2, 64)
    exact, half = stepper_for(m), stepper_for(m, precision="bf16")
    assert isinstance(half, BF16LSTMStepper) and type(exact) is not BF16LSTMStepper
    _, state = m(torch.randint(0, 30, (1, 9)))
    exact.load_state(state)
    half.load_state(state)
    token, worst = torch.tensor([3]), 0.0
    for _ in range(100):
        want = exact.step(token).clone()
        got = half.step(token)
        worst = max(worst, float((got - want).abs().max() / want.abs().max()))
        token = want.argmax(-1)
    assert 0 < worst < 0.05  # bf16 products (8 bits of mantissa), not the fp32 numbers
    for (h, c), (hh, hc) in zip(exact.state(), half.state()):
        assert torch.allclose(h, hh, atol=0.05) and torch.allclose(c, hc, atol=0.1)


def test_generation_under_bf16_autocast_uses_the_bf16_step():
    from rnnkit.decode.fast_step import bf16_kernels

    lm, _ = loaded(1, 32)
    exact = "".join(generate(lm, "the ", 60, temperature=0.0))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        half = "".join(generate(lm, "the ", 60, temperature=0.0))
        stepper = lm.stepper()
    assert len(half) == 60
    if bf16_kernels():
        assert stepper is lm.stepper("bf16") and stepper is not lm.stepper("fp32")
    # a small untrained model's greedy text is mostly the same text in bf16
    assert sum(a == b for a, b in zip(exact, half)) >= 30
