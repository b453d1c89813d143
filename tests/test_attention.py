"""Attention for encoder-decoders: each score against its formula and against torch's own
scaled_dot_product_attention, padding that cannot matter, prepared keys reused across steps,
empty rows without NaN, and float64 gradient checks."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from rnnkit.layers.attention import KINDS, Attention, masked_softmax

B, S, Q, K = 3, 5, 4, 6
LENGTHS = torch.tensor([5, 2, 3])


def attention(kind: str, seed: int = 0) -> Attention:
    torch.manual_seed(seed)
    return Attention(kind, K if kind == "dot" else Q, K, attention_size=7).double()


def inputs(kind: str, seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    query = torch.randn(B, K if kind == "dot" else Q, generator=g, dtype=torch.float64)
    keys = torch.randn(B, S, K, generator=g, dtype=torch.float64)
    return query, keys


def test_dot_attention_equals_torch_scaled_dot_product_attention():
    layer = attention("dot")
    query, keys = inputs("dot")
    mask = torch.arange(S) < LENGTHS[:, None]
    context, weights = layer(query, keys, LENGTHS)
    want = F.scaled_dot_product_attention(query[:, None], keys, keys, attn_mask=mask[:, None],
                                          scale=1.0)[:, 0]
    torch.testing.assert_close(context, want)


def test_general_attention_equals_dot_attention_on_projected_keys():
    layer = attention("general")
    query, keys = inputs("general")
    context, weights = layer(query, keys, LENGTHS)
    projected = keys @ layer.key_layer.weight.T  # (B, S, Q)
    scores = (projected @ query[:, :, None]).squeeze(-1)
    want = torch.softmax(scores.masked_fill(torch.arange(S) >= LENGTHS[:, None], -1e30), -1)
    torch.testing.assert_close(weights, want)
    torch.testing.assert_close(context, (want[:, :, None] * keys).sum(1))


def test_bahdanau_attention_follows_its_formula():
    layer = attention("bahdanau")
    query, keys = inputs("bahdanau")
    context, weights = layer(query, keys, LENGTHS)
    for b in range(B):
        n = int(LENGTHS[b])
        energy = torch.tanh(layer.query_layer(query[b]) + layer.key_layer(keys[b, :n]))
        want = torch.softmax(layer.energy(energy).squeeze(-1), 0)
        torch.testing.assert_close(weights[b, :n], want)
        assert weights[b, n:].abs().sum() == 0
        torch.testing.assert_close(context[b], want @ keys[b, :n])


@pytest.mark.parametrize("kind", KINDS)
def test_padding_cannot_change_the_result(kind):
    layer = attention(kind)
    query, keys = inputs(kind)
    context, weights = layer(query, keys, LENGTHS)
    junk = keys.clone()
    for b, n in enumerate(LENGTHS.tolist()):
        junk[b, n:] = 1e6  # anything in the padding
    context2, weights2 = layer(query, junk, LENGTHS)
    torch.testing.assert_close(context2, context)
    torch.testing.assert_close(weights2, weights)
    torch.testing.assert_close(weights.sum(-1), torch.ones(B, dtype=torch.float64))


@pytest.mark.parametrize("kind", KINDS)
def test_a_batch_equals_its_examples_alone(kind):
    layer = attention(kind)
    query, keys = inputs(kind)
    context, weights = layer(query, keys, LENGTHS)
    for b, n in enumerate(LENGTHS.tolist()):
        alone, alone_weights = layer(query[b:b + 1], keys[b:b + 1, :n])
        torch.testing.assert_close(alone[0], context[b])
        torch.testing.assert_close(alone_weights[0], weights[b, :n])


@pytest.mark.parametrize("kind", KINDS)
def test_prepared_keys_serve_every_decoder_step(kind):
    layer = attention(kind)
    query, keys = inputs(kind)
    prepared = layer.prepare(keys, LENGTHS)
    for step in range(3):
        q = query + step
        torch.testing.assert_close(layer.step(q, prepared), layer(q, keys, LENGTHS))


@pytest.mark.parametrize("kind", KINDS)
def test_gradients_match_finite_differences(kind):
    layer = attention(kind)
    query, keys = inputs(kind)
    query.requires_grad_(True)
    keys.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda q, k: layer(q, k, LENGTHS)[0], (query, keys))


def test_a_row_without_valid_positions_gets_zeros_not_nan():
    scores = torch.randn(2, 4, dtype=torch.float64, requires_grad=True)
    mask = torch.tensor([[True, True, False, False], [False] * 4])
    weights = masked_softmax(scores, mask)
    assert weights[1].abs().sum() == 0 and torch.isfinite(weights).all()
    weights.sum().backward()
    assert torch.isfinite(scores.grad).all() and scores.grad[1].abs().sum() == 0


def test_wrong_shapes_and_kinds_are_clear_errors():
    with pytest.raises(ValueError, match="attention kind must be one of bahdanau, dot, general"):
        Attention("cosine", 4, 4)
    with pytest.raises(ValueError, match="dot attention needs query_size == key_size"):
        Attention("dot", 4, 6)
    layer = attention("general")
    with pytest.raises(ValueError, match=r"keys must have shape \(batch, source, 6\)"):
        layer.prepare(torch.zeros(2, 3, 5, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"a query must have shape \(batch, 4\)"):
        layer(torch.zeros(2, 6, dtype=torch.float64), torch.zeros(2, 3, 6, dtype=torch.float64))


@pytest.mark.parametrize("kind", KINDS)
def test_all_queries_at_once_equal_one_step_at_a_time(kind):
    torch.manual_seed(0)
    attention = Attention(kind, 6, 6).double()
    keys = torch.randn(3, 5, 6, dtype=torch.float64)
    prepared = attention.prepare(keys, torch.tensor([5, 2, 4]))
    queries = torch.randn(3, 4, 6, dtype=torch.float64)
    contexts, weights = attention.sequence(queries, prepared, chunk=3 * 5 * 6)  # 1 step a slice
    for t in range(4):
        context, weight = attention.step(queries[:, t], prepared)
        assert torch.allclose(contexts[:, t], context) and torch.allclose(weights[:, t], weight)
    assert weights[1, :, 2:].abs().max() == 0
