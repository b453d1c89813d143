"""bf16 training (TrainConfig.precision, CPU autocast): a carried state crosses steps, the
weights stay fp32, and the loss follows fp32's closely."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from rnnkit.cells import LSTMCell
from rnnkit.errors import ConfigError
from rnnkit.tasks import lm
from rnnkit.train.loop import TrainConfig

ALICE = str(Path(__file__).parent / "fixtures" / "alice_head.txt")


def test_an_unknown_precision_is_a_config_error():
    with pytest.raises(ConfigError, match="precision"):
        TrainConfig(steps=1, precision="fp16").check()


def test_a_bf16_state_is_taken_under_autocast_only():
    cell = LSTMCell(3, 4)
    state = (torch.zeros(2, 4, dtype=torch.bfloat16), torch.zeros(2, 4, dtype=torch.bfloat16))
    with pytest.raises(ValueError, match="dtype"):
        cell.check_state(state, 2, torch.device("cpu"), torch.float32)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        h, c = cell.check_state(state, 2, torch.device("cpu"), torch.float32)
    assert h.dtype == c.dtype == torch.float32


def test_bf16_training_carries_state_and_follows_fp32(tmp_path):
    losses = {}
    for precision in ("fp32", "bf16"):
        metrics = lm.fit(ALICE, tmp_path / precision,
                         lm.LMConfig(hidden=32, embedding=16, batch=4, bptt=32),
                         lm.default_train_config(steps=40, eval_every=20, precision=precision),
                         baseline=False)
        losses[precision] = metrics["valid"]["loss"]
        loaded = lm.load(tmp_path / precision)
        assert all(p.dtype == torch.float32 for p in loaded.model.parameters())
    assert abs(losses["bf16"] - losses["fp32"]) < 0.1, losses
