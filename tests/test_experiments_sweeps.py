"""The pieces of experiments 4 (memory), 5 (gru-vs-lstm) and 9 (stacks), and one quick run."""

from __future__ import annotations

import json
import math

import pytest
import torch

from rnnkit.data.streams import batchify
from rnnkit.experiments import run
from rnnkit.experiments.common import char_corpus, char_model, one_pass_chars, parameters
from rnnkit.experiments.gru_vs_lstm import matching_hidden, smoothed_bits
from rnnkit.experiments.memory import (
    BASELINE_MSE,
    AddingModel,
    adding_problem,
    scores,
)
from rnnkit.experiments.stacks import is_mixed, label


def test_adding_problem_marks_one_step_in_each_half_and_sums_their_values():
    x, y = adding_problem(500, 20, torch.Generator().manual_seed(3))
    assert x.shape == (500, 20, 2) and y.shape == (500,)
    values, markers = x[..., 0], x[..., 1]
    assert set(markers.unique().tolist()) == {0.0, 1.0}
    assert torch.equal(markers[:, :10].sum(1), torch.ones(500))
    assert torch.equal(markers[:, 10:].sum(1), torch.ones(500))
    first = markers[:, :10].argmax(1)
    second = 10 + markers[:, 10:].argmax(1)
    rows = torch.arange(500)
    assert torch.allclose(y, values[rows, first] + values[rows, second])
    assert bool(((values >= 0) & (values < 1)).all())


def test_adding_problem_is_seeded():
    a = adding_problem(4, 12, torch.Generator().manual_seed(7))
    b = adding_problem(4, 12, torch.Generator().manual_seed(7))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


def test_predicting_the_mean_scores_the_baseline_mse():
    _, y = adding_problem(200_000, 10, torch.Generator().manual_seed(0))
    mse, _ = scores(torch.ones_like(y), y)
    assert mse == pytest.approx(BASELINE_MSE, rel=0.02)
    assert BASELINE_MSE == pytest.approx(1 / 6)


def test_scores_counts_sums_within_the_tolerance():
    target = torch.tensor([1.0, 1.0, 1.0, 1.0])
    prediction = torch.tensor([1.0, 1.03, 0.9, 1.5])
    mse, accuracy = scores(prediction, target)
    assert mse == pytest.approx((0.03**2 + 0.1**2 + 0.5**2) / 4)
    assert accuracy == 0.5


def test_adding_model_reads_the_last_step_of_any_cell():
    x, _ = adding_problem(3, 9, torch.Generator().manual_seed(1))
    for cell in ("rnn", "lstm", "gru"):
        assert AddingModel(cell, 8)(x).shape == (3,)


def test_one_pass_chars_gives_exactly_steps_segments():
    steps, batch, bptt = 7, 4, 5
    data = batchify(torch.arange(one_pass_chars(steps, batch, bptt)), batch)
    assert (data.size(1) - 1) // bptt == steps
    assert (data.size(1) - 1) % bptt == 0


def test_matching_hidden_gives_the_gru_closest_to_the_lstms_parameters():
    corpus = char_corpus(train_chars=1000, eval_chars=100)
    target = parameters(char_model(corpus, "lstm", hidden=40, embedding=32))
    wide = matching_hidden(corpus, "gru", target, 40)
    gap = abs(parameters(char_model(corpus, "gru", hidden=wide, embedding=32)) - target)
    for other in (wide - 1, wide + 1):
        assert gap <= abs(parameters(char_model(corpus, "gru", hidden=other, embedding=32))
                          - target)
    assert wide > 40


def test_smoothed_bits_is_a_trailing_mean_in_bits():
    ln2 = math.log(2)
    curve = smoothed_bits([ln2, 3 * ln2, 5 * ln2, 7 * ln2], 2)
    assert curve.tolist() == pytest.approx([1.0, 2.0, 4.0, 6.0])


def test_stack_labels_and_mixing():
    assert label(("lstm", "gru")) == "lstm,gru"
    assert is_mixed(("lstm", "gru", "lstm"))
    assert not is_mixed(("gru", "gru"))


def test_quick_gru_vs_lstm_records_every_model_and_seed(tmp_path):
    record = run("gru-vs-lstm", tmp_path, quick=True)
    saved = json.loads((tmp_path / "gru-vs-lstm" / "metrics.json").read_text())
    assert saved["verdict"] == record["verdict"]
    results = saved["metrics"]["results"]
    assert set(results) == {"LSTM", "GRU", "GRU, LSTM's parameters"}
    lstm, gru, wide = (results[n][0] for n in ("LSTM", "GRU", "GRU, LSTM's parameters"))
    assert gru["parameters"] < lstm["parameters"]
    assert abs(wide["parameters"] - lstm["parameters"]) < 0.02 * lstm["parameters"]
    for entry in (lstm, gru, wide):
        assert 1.0 < entry["bits"] < 7.0 and entry["tokens_per_second"] > 0
    assert (tmp_path / "gru-vs-lstm" / "gru_vs_lstm.png").is_file()
