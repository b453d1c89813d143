"""The classifier never lets padding reach a prediction: every pooling reads only valid steps,
a sentence alone or inside any padded, length-bucketed batch gets the same probabilities, and
the 'last' pooling takes each direction's own last step."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from rnnkit.data.labelled import read_labelled
from rnnkit.tasks.classify.data import class_weights, configure
from rnnkit.tasks.classify.encoder import InputEncoder
from rnnkit.tasks.classify.model import (
    POOLINGS,
    Attention,
    ClassifyConfig,
    SequenceClassifier,
    last_step,
    pool,
)
from rnnkit.tasks.classify.task import predict_proba

SAMPLE = Path(__file__).parent / "fixtures" / "sentiment_sample.tsv"
TEXTS = read_labelled(SAMPLE).subset(range(0, 380, 10))  # 38 real sentences, 1 to 16 words


def tiny(data, **options):
    torch.manual_seed(0)
    base = dict(hidden=6, embedding=5, char_embedding=4, char_hidden=3, min_count=1)
    config = configure(data, data, ClassifyConfig(**{**base, **options}))
    encoder = InputEncoder.build(config, data)
    model = SequenceClassifier(config, len(encoder.words or ()), encoder.speller_size)
    return model.eval(), encoder


@pytest.mark.parametrize("level, pooling, cell, speller", [
    *[("word", p, "lstm", "rnn") for p in POOLINGS],
    ("both", "attention", "gru", "rnn"), ("both", "last", "lstm", "rnn"),
    ("both", "max", "gru", "ngrams"), ("char", "mean", "gru", "rnn"),
    ("word", "max", "ln-gru", "rnn"),  # no fused kernel: the reference loop
])
def test_padding_and_bucketing_never_change_a_prediction(level, pooling, cell, speller):
    model, encoder = tiny(TEXTS, level=level, pooling=pooling, cell=cell, layers=2,
                          speller=speller, pool_inputs=pooling != "last")
    examples = encoder.encode(TEXTS)
    alone = np.concatenate([predict_proba(model, encoder, [e]) for e in examples])
    bucketed = predict_proba(model, encoder, examples, batch=7)
    with torch.no_grad():  # one batch in file order: short sentences padded to the longest
        logits, _ = model(encoder.collate(examples))
    in_order = torch.softmax(logits.double(), 1).numpy()
    assert len({len(e) for e in examples}) > 5
    np.testing.assert_allclose(bucketed, alone, rtol=0, atol=1e-6)
    np.testing.assert_allclose(in_order, alone, rtol=0, atol=1e-6)
    assert np.ptp(alone[:, 0]) > 1e-3  # the sentences do get different probabilities


@pytest.mark.parametrize("pooling", POOLINGS)
def test_each_pooling_ignores_padded_steps(pooling):
    torch.manual_seed(1)
    outputs, lengths = torch.randn(3, 5, 4), torch.tensor([5, 2, 1])
    changed = outputs.clone()
    for row, n in enumerate(lengths.tolist()):
        changed[row, n:] = torch.randn(5 - n, 4) * 100
    attention = Attention(4)
    first, w1 = pool(outputs, lengths, pooling, True, attention)
    second, w2 = pool(changed, lengths, pooling, True, attention)
    assert torch.equal(first, second)
    if pooling == "attention":
        assert torch.equal(w1, w2)
        assert torch.allclose(w1.sum(1), torch.ones(3))
        assert (w1[1, 2:] == 0).all() and (w1[2, 1:] == 0).all()
    if pooling == "mean":
        assert torch.allclose(first[1], outputs[1, :2].mean(0))
    if pooling == "max":
        assert torch.equal(first[2], outputs[2, 0])


def test_last_pooling_takes_the_forward_end_and_the_backward_start():
    outputs = torch.arange(2 * 4 * 4, dtype=torch.float32).view(2, 4, 4)
    lengths = torch.tensor([4, 2])
    pooled = last_step(outputs, lengths, bidirectional=True)
    assert pooled[1].tolist() == [*outputs[1, 1, :2].tolist(), *outputs[1, 0, 2:].tolist()]
    assert last_step(outputs, lengths, bidirectional=False)[0].tolist() == outputs[0, 3].tolist()


@pytest.mark.parametrize("level, speller", [("word", "rnn"), ("both", "rnn"), ("both", "ngrams")])
def test_padded_ids_and_spellings_never_reach_the_logits(level, speller):
    model, encoder = tiny(TEXTS, level=level, pooling="attention", speller=speller)
    batch = encoder.collate(encoder.encode(TEXTS.subset(range(6))))
    with torch.no_grad():
        before, weights = model(batch)
        padding = torch.arange(batch.inputs.size(1)) >= batch.lengths.unsqueeze(1)
        batch.inputs = batch.inputs.masked_fill(padding, 3)
        if level == "both":
            batch.spelling_index = batch.spelling_index.masked_fill(padding, 0)
        after, _ = model(batch)
    assert padding.any() and torch.equal(before, after)
    assert torch.equal(weights[padding], torch.zeros(int(padding.sum())))


def test_series_model_ignores_padded_values():
    rng = np.random.default_rng(0)
    sequences = [rng.normal(size=(n, 2)).astype(np.float32) for n in (7, 3, 5, 2)]
    from rnnkit.data.labelled import LabelledSet

    data = LabelledSet(["a", "b"], np.array([0, 1, 0, 1]), sequences=sequences)
    model, encoder = tiny(data, pooling="mean")
    batch = encoder.collate(encoder.encode(data))
    with torch.no_grad():
        before, _ = model(batch)
        padding = torch.arange(7) >= batch.lengths.unsqueeze(1)
        batch.inputs[padding] = float("nan")
        after, _ = model(batch)
    assert torch.equal(before, after)


def test_balanced_class_weights():
    assert class_weights(np.array([0, 0, 0, 1]), 3) == [4 / 9, 4 / 3, 0.0]


def test_vocabularies_come_from_the_training_rows_only():
    train, other = TEXTS.subset(range(0, 20)), TEXTS.subset(range(20, 38))
    _, encoder = tiny(train, level="both", speller="ngrams")
    seen = {w.lower() for t in train.texts for w in encoder.tokens(t)}
    unseen = sorted({w.lower() for t in other.texts for w in encoder.tokens(t)} - seen)
    assert unseen and all(w not in encoder.words for w in unseen)
    ids = encoder.encode_text(" ".join(unseen)).ids
    assert (ids == encoder.words.unk_id).all()

