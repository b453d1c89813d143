"""Seq2seq pieces: scheduled-sampling schedules, the masked smoothed loss, the baselines."""

from __future__ import annotations

import pytest
import torch

from rnnkit.errors import ConfigError
from rnnkit.tasks.seq2seq.baselines import NearestNeighbour, copy_source, exact_match
from rnnkit.tasks.seq2seq.sampling import SCHEDULES, sequence_loss, teacher_ratio


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_schedules_start_at_one_and_never_rise(schedule):
    ratios = [teacher_ratio(schedule, p / 20) for p in range(21)]
    assert ratios[0] == pytest.approx(1.0)
    assert all(a >= b - 1e-12 for a, b in zip(ratios, ratios[1:]))
    if schedule == "constant":
        assert set(ratios) == {1.0}
    else:
        assert ratios[-1] < 0.05
    assert teacher_ratio(schedule, 1.0, floor=0.25) >= 0.25


def test_linear_and_exponential_values():
    assert teacher_ratio("linear", 0.3) == pytest.approx(0.7)
    assert teacher_ratio("exponential", 0.5, k=0.04) == pytest.approx(0.2)
    with pytest.raises(ConfigError, match="schedule must be one of constant, linear"):
        teacher_ratio("cosine", 0.5)


def test_the_loss_ignores_padding_and_smooths_labels():
    torch.manual_seed(0)
    logits = torch.randn(2, 3, 5, dtype=torch.float64)
    target = torch.tensor([[1, 2, 0], [3, 0, 0]])  # 0 pads
    plain = sequence_loss(logits, target, pad=0)
    want = -torch.log_softmax(logits, -1)[[0, 0, 1], [0, 1, 0], [1, 2, 3]].mean()
    torch.testing.assert_close(plain, want)
    changed = logits.clone()
    changed[0, 2] = 100.0  # a padded position: no effect
    torch.testing.assert_close(sequence_loss(changed, target, pad=0), plain)
    smooth = sequence_loss(logits, target, pad=0, smoothing=0.1)
    logp = torch.log_softmax(logits, -1)[[0, 0, 1], [0, 1, 0]]
    uniform = -logp.mean(-1).mean()
    torch.testing.assert_close(smooth, 0.9 * want + 0.1 * uniform)
    with pytest.raises(ConfigError, match="label_smoothing must be in"):
        sequence_loss(logits, target, pad=0, smoothing=1.0)


def test_baselines_copy_and_retrieve():
    train = [("in the beginning god created the heaven", "en el principio creó dios los cielos"),
             ("and the earth was without form", "y la tierra estaba desordenada"),
             ("and god said let there be light", "y dijo dios sea la luz")]
    queries = ["god said: let there be light!", "the earth was without form and void",
               "in the beginning"]
    nearest = NearestNeighbour().fit(train).predict(queries)
    assert nearest == ["y dijo dios sea la luz", "y la tierra estaba desordenada",
                       "en el principio creó dios los cielos"]
    assert copy_source(queries) == queries
    assert exact_match(nearest, [t for _, t in [train[2], train[1], train[0]]]) == 1.0
    assert exact_match(["a", "b"], ["a", "c"]) == 0.5
    with pytest.raises(ValueError, match="fit the baseline"):
        NearestNeighbour().predict(["x"])
