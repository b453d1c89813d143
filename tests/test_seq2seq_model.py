"""The encoder-decoder model (issue 12's first piece): source lengths respected everywhere,
greedy decoding equal to teacher forcing on its own outputs, every attention kind and the plain
context-vector model, and a tiny model that learns to reverse sequences."""

from __future__ import annotations

import pytest
import torch

from rnnkit.errors import ConfigError
from rnnkit.tasks.seq2seq import ATTENTIONS, Seq2Seq, Seq2SeqConfig

BOS, EOS = 1, 2


def model(attention: str = "bahdanau", cell: str = "lstm", **options) -> Seq2Seq:
    torch.manual_seed(0)
    settings = dict(cell=cell, layers=2, hidden=8, embedding=6, attention=attention,
                    dropout=0.0, src_vocab=10, tgt_vocab=11)
    config = Seq2SeqConfig(**{**settings, **options})
    config.check()
    return Seq2Seq(config).double().eval()


def batch():
    g = torch.Generator().manual_seed(1)
    src = torch.randint(3, 10, (3, 6), generator=g)
    lengths = torch.tensor([6, 2, 4])
    tgt = torch.randint(3, 11, (3, 5), generator=g)
    return src, lengths, tgt


@pytest.mark.parametrize("attention", ATTENTIONS)
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_a_padded_batch_equals_each_example_alone(attention, cell):
    net = model(attention, cell)
    src, lengths, tgt = batch()
    padded = src.clone()
    for b, n in enumerate(lengths.tolist()):
        padded[b, n:] = 9  # anything in the padding
    logits, weights = net(padded, lengths, tgt, return_weights=True)
    for b, n in enumerate(lengths.tolist()):
        alone, alone_weights = net(src[b:b + 1, :n], lengths[b:b + 1], tgt[b:b + 1],
                                   return_weights=True)
        torch.testing.assert_close(alone[0], logits[b])
        if weights is not None:
            torch.testing.assert_close(alone_weights[0], weights[b, :, :n])
            assert weights[b, :, n:].abs().sum() == 0
    assert (weights is None) == (attention == "none")


@pytest.mark.parametrize("attention", ["none", "dot"])
def test_greedy_decoding_is_teacher_forcing_on_its_own_outputs(attention):
    net = model(attention, bidirectional=False, input_feeding=False)
    src, lengths, _ = batch()
    rows, maps = net.greedy(src, lengths, BOS, EOS, max_length=7)
    for b, row in enumerate(rows):
        if not row:
            continue
        tgt_in = torch.tensor([[BOS] + row[:-1]])
        logits = net(src[b:b + 1, : int(lengths[b])], lengths[b:b + 1], tgt_in)
        assert logits[0].argmax(-1).tolist() == row
        if attention != "none":
            assert maps[b].shape == (len(row), int(lengths[b]))


def test_gradients_reach_both_stacks_the_bridge_and_the_attention():
    net = model("general").train()
    src, lengths, tgt = batch()
    loss = net(src, lengths, tgt).logsumexp(-1).mean()
    loss.backward()
    for name, parameter in net.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


def test_tied_output_needs_embedding_equal_to_hidden():
    with pytest.raises(ConfigError, match="tie needs embedding == hidden"):
        Seq2SeqConfig(tie=True, embedding=6, hidden=8).check()
    net = model("dot", tie=True, embedding=8)
    assert net.output.weight is net.tgt_embedding.weight


def test_a_tiny_model_learns_to_reverse_sequences():
    """Reversal needs the whole source: attention makes it easy (a few hundred steps)."""
    torch.manual_seed(0)
    config = Seq2SeqConfig(cell="gru", hidden=32, embedding=16, attention="dot",
                           bidirectional=False, dropout=0.0, src_vocab=8, tgt_vocab=8)
    net = Seq2Seq(config)
    optimizer = torch.optim.Adam(net.parameters(), lr=0.01)
    g = torch.Generator().manual_seed(0)

    def sample(n):
        src = torch.randint(3, 8, (n, 5), generator=g)
        tgt = torch.cat([src.flip(1), torch.full((n, 1), EOS)], 1)
        tgt_in = torch.cat([torch.full((n, 1), BOS), tgt[:, :-1]], 1)
        return src, torch.full((n,), 5), tgt_in, tgt

    for _ in range(300):
        src, lengths, tgt_in, tgt = sample(32)
        loss = torch.nn.functional.cross_entropy(net(src, lengths, tgt_in).flatten(0, 1),
                                                 tgt.flatten())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    src, lengths, _, tgt = sample(200)
    rows, _ = net.eval().greedy(src, lengths, BOS, EOS, max_length=8)
    exact = sum(row == t[:-1].tolist() for row, t in zip(rows, tgt)) / len(rows)
    assert exact > 0.9, exact


# ---------------------------------------------------------------- beam search

@pytest.mark.parametrize("attention", ATTENTIONS)
def test_beam_of_one_is_greedy(attention):
    from rnnkit.tasks.seq2seq.beam import beam_search

    net = model(attention)
    src, lengths, _ = batch()
    rows, _ = net.greedy(src, lengths, BOS, EOS, max_length=6)
    beamed, _ = beam_search(net, src, lengths, BOS, EOS, beam=1, max_length=6)
    assert beamed == rows


def test_a_wide_beam_finds_the_most_likely_output_of_all():
    """Vocabulary 6, at most 3 tokens: every output is enumerated and scored by teacher
    forcing; a beam wider than their number must return the best."""
    import itertools

    from rnnkit.tasks.seq2seq.beam import beam_search

    torch.manual_seed(3)
    config = Seq2SeqConfig(cell="gru", hidden=8, embedding=6, attention="general",
                           dropout=0.0, src_vocab=7, tgt_vocab=6)
    net = Seq2Seq(config).double().eval()
    src, lengths = torch.tensor([[3, 4, 5, 6]]), torch.tensor([4])
    words = [t for t in range(6) if t != EOS]
    best, best_score = None, float("-inf")
    for n in range(4):
        for body in itertools.product(words, repeat=n):
            target = list(body) + ([EOS] if n < 3 else [])  # 3 tokens: cut at max_length
            with torch.no_grad():
                logits = net(src, lengths, torch.tensor([[BOS] + target[:-1]]))
            logp = torch.log_softmax(logits, -1)
            score = float(logp[0, torch.arange(len(target)), target].sum())
            if score > best_score:
                best, best_score = list(body), score
    found, scores = beam_search(net, src, lengths, BOS, EOS, beam=200, max_length=3)
    assert found == [best] and scores[0] == pytest.approx(best_score)


def test_ngram_blocking_forbids_repeats():
    from rnnkit.tasks.seq2seq.beam import beam_search

    net = model("dot")
    src, lengths, _ = batch()
    found, _ = beam_search(net, src, lengths, BOS, EOS, beam=3, max_length=8, block_ngrams=1)
    for row in found:
        assert len(row) == len(set(row))
    found, _ = beam_search(net, src, lengths, BOS, EOS, beam=3, max_length=8, alpha=0.6)
    assert len(found) == 3
