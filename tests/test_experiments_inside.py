"""Experiments 2, 3 and 11 (vanishing gradients, exploding gradients and clipping, the gates at
work): their measuring pieces on known values, and one quick run."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rnnkit import experiments
from rnnkit.experiments.common import Run
from rnnkit.experiments.exploding import (
    BLOW_UP,
    SETTINGS,
    blow_up_steps,
    every_seed_better,
    stable,
)
from rnnkit.experiments.gates import correlations, text_features
from rnnkit.experiments.vanishing import (
    decay_per_step,
    gradient_by_distance,
    orders_lost,
    probe_windows,
)
from rnnkit.tasks.lm.model import LanguageModel, LMConfig


def test_orders_lost_and_decay_read_a_geometric_decay():
    g = 10.0 ** (-0.2 * np.arange(100))  # loses 0.2 orders of magnitude per step
    assert orders_lost(g, 50) == pytest.approx(10.0)
    assert decay_per_step(g) == pytest.approx(0.2)
    g[60:] = 0.0  # underflow: the fit skips exact zeros, the loss at 60 is infinite
    assert decay_per_step(g) == pytest.approx(0.2)
    assert orders_lost(g, 60) == math.inf


def test_probe_windows_end_with_the_next_character():
    ids = torch.arange(1000)
    inputs, targets = probe_windows(ids, 4, span=10)
    assert inputs.shape == (4, 10)
    assert torch.equal(targets, inputs[:, -1] + 1)
    assert inputs[0, 0] == 0 and targets[-1] == 999


def test_gradient_by_distance_is_zero_beyond_one_step_without_recurrence():
    torch.manual_seed(0)
    model = LanguageModel(LMConfig(cell="rnn", hidden=8, embedding=4, tie=False,
                                   vocab_size=12))
    with torch.no_grad():
        model.rnn.layers[0].cell.weight_hh.zero_()  # h_t no longer reaches h_{t+1}
    inputs, targets = torch.randint(0, 12, (3, 20)), torch.randint(0, 12, (3,))
    g = gradient_by_distance(model, inputs, targets)
    assert g.shape == (20,)
    assert g[0] > 0
    assert np.all(g[1:] == 0)
    assert model.rnn.layers[0].cell.weight_hh.dtype == torch.float32  # measured on a copy


def test_blow_up_steps_count_losses_worse_than_a_uniform_guess():
    V = 50
    limit = math.log(V) + BLOW_UP
    losses = [limit - 0.1, limit + 0.1, float("nan"), 1.0, 30.0]
    assert blow_up_steps(losses, V) == 3
    calm = Run(losses=[3.0] * 200 + [limit + 1])  # 1 step of 201: under 1%
    assert stable(calm, V)
    assert not stable(Run(losses=[3.0] * 50 + [limit + 1]), V)
    assert not stable(Run(losses=[3.0, float("nan")], diverged_at=1), V)


def test_every_seed_better_needs_ranges_apart():
    assert every_seed_better([1.9, 2.0], [4.5, 12.0])
    assert not every_seed_better([1.9, 5.0], [4.5, 12.0])
    assert not every_seed_better([1.9, math.inf], [4.5, 12.0])  # a clipped run diverged


def test_settings_share_the_large_rate_and_differ_by_clipping():
    unclipped, by_norm, by_value, reference = SETTINGS
    assert unclipped.lr == by_norm.lr == by_value.lr > reference.lr
    assert by_norm.clip_norm and by_value.clip_value
    assert unclipped.clip_norm is None and unclipped.clip_value is None


def test_text_features_of_a_speech():
    text = "ROMEO:\nAy me.\nSo\n"
    f = text_features(text)
    assert f["position in line"].tolist() == [1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0,
                                              1, 2, 0]
    assert f["speaker-name line"].tolist() == [1] * 7 + [0] * 10
    assert f["position in word"][:6].tolist() == [1, 2, 3, 4, 5, 0]
    assert f["position in word"][7:10].tolist() == [1, 2, 0]  # "Ay "
    assert f["lines into the speech"].tolist() == [0] * 7 + [0] * 7 + [1] * 3
    assert f["position in sentence"][12:14].tolist() == [0, 1]  # "." then "\n"


def test_correlations_per_column():
    feature = np.arange(10.0)
    values = np.stack([2 * feature + 1, -feature, np.ones(10)], 1)
    assert correlations(values, feature) == pytest.approx([1.0, -1.0, 0.0])


def test_quick_exploding_run_records_every_setting(tmp_path):
    record = experiments.run("exploding", tmp_path, quick=True)
    assert record["experiment"] == "exploding" and record["seeds"] == [0]
    assert record["verdict"]["held"] in (True, False)
    settings = record["metrics"]["settings"]
    assert list(settings) == [s.label for s in SETTINGS]
    for values in settings.values():
        assert len(values["blow_up_steps"]) == 1
        assert 0.0 <= values["clipped_fraction"][0] <= 1.0
        assert values["max_grad_norm"][0] > 0
    reference = settings[SETTINGS[-1].label]
    assert reference["clipped_fraction"] == [0.0]
    assert 1.0 < reference["test_loss"][0] < math.log(record["metrics"]["vocab_size"])
    assert (tmp_path / "exploding" / "loss_and_gradient.png").is_file()
    assert (tmp_path / "exploding" / "report.md").read_text().startswith("# 3. Exploding")
