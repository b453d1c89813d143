"""The training loop on tasks whose every number is known in advance.

``LineTask`` has one parameter vector ``w (2,)`` and batch ``i`` has loss ``g_i . w``, so its
gradient is exactly ``g_i``; with plain SGD at learning rate 1 every step is ``w -= clip(g_i)``
and the weights after any step are a sum we can write down. Its validation loss is read from a
table by the step count (``w[0]`` counts the steps when every ``g_i = (-1, 0)``), so evaluation,
early stopping and the best checkpoint are all predictable.
"""

from __future__ import annotations

import io
import json
import math
import os
import signal
import time
from pathlib import Path

import pytest
import torch
from torch import nn

from rnnkit.errors import CheckpointError, ConfigError
from rnnkit.train import Diverged, TrainConfig, Trainer
from rnnkit.train import checkpoint as ckpt
from rnnkit.train.logs import write_csv
from rnnkit.train.progress import ProgressBar
from rnnkit.train.schedule import lr_factor, make_optimizer

COUNT = (-1.0, 0.0)  # the gradient that adds exactly 1 to w[0] per SGD step at lr 1


class Weights(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.zeros(2))


class LineTask:
    """Batch ``i`` of an epoch has loss ``grads[i] . w``; ``special[i]`` replaces that loss."""

    def __init__(self, grads, table=None, special=None, sleep=0.0) -> None:
        self.model = Weights()
        self.grads = [torch.tensor(g) for g in grads]
        self.table = table or {}
        self.special = special or {}
        self.sleep = sleep

    def batches(self, epoch: int, start: int):
        yield from range(start, len(self.grads))

    def initial_carry(self):
        return None

    def train_loss(self, batch: int, carry):
        if self.sleep:
            time.sleep(self.sleep)
        w = self.model.w
        if batch in self.special:
            return self.special[batch](w), None, 1
        return (self.grads[batch] * w).sum(), None, 1

    def evaluate(self) -> dict[str, float]:
        return {"loss": self.table.get(round(self.model.w[0].item()), 10.0)}


def sgd(**options) -> TrainConfig:
    """Plain SGD at lr 1: no momentum, no schedule, no warm-up, no clipping, log every step."""
    base = dict(
        optimizer="sgd", momentum=0.0, lr=1.0, schedule="constant", warmup=0, clip="none",
        eval_every=10_000, checkpoint_every=10_000, log_every=1,
    )
    return TrainConfig(**{**base, **options})


def saved_w(path: Path) -> torch.Tensor:
    return ckpt.read_tensors(path)["w"]


# -- schedules ---------------------------------------------------------------------------------
def test_warmup_rises_linearly_to_the_base_rate() -> None:
    factors = [lr_factor("constant", step, 0.0, warmup=4) for step in range(6)]
    assert factors == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    assert lr_factor("constant", 0, 0.0, warmup=0) == 1.0


def test_cosine_goes_from_one_to_min_ratio() -> None:
    assert lr_factor("cosine", 100, 0.0, warmup=0, min_ratio=0.1) == pytest.approx(1.0)
    assert lr_factor("cosine", 100, 0.5, warmup=0, min_ratio=0.1) == pytest.approx(0.55)
    assert lr_factor("cosine", 100, 1.0, warmup=0, min_ratio=0.1) == pytest.approx(0.1)
    assert lr_factor("cosine", 100, 1.7, warmup=0, min_ratio=0.1) == pytest.approx(0.1)
    # warm-up multiplies the decay
    assert lr_factor("cosine", 1, 0.5, warmup=4, min_ratio=0.1) == pytest.approx(0.5 * 0.55)


def test_step_decay_multiplies_by_gamma_every_interval() -> None:
    values = [lr_factor("step", 100, p, 0, decay_every=0.25, gamma=0.5) for p in (0.1, 0.3, 0.6)]
    assert values == pytest.approx([1.0, 0.5, 0.25])
    # defaults: thirds of the budget, gamma 0.3; the last steps are in the third level, not a
    # fourth (a decay_every of 0.33 decayed again for the last 1% of the run)
    assert lr_factor("step", 100, 0.7, 0) == pytest.approx(0.3**2)
    assert lr_factor("step", 100, 0.995, 0) == pytest.approx(0.3**2)


def test_trainer_sets_the_scheduled_rate_at_every_step(tmp_path: Path) -> None:
    task = LineTask([COUNT] * 10)
    config = sgd(steps=10, lr=0.5, schedule="cosine", warmup=3, min_lr_ratio=0.2)
    state = Trainer(task, config, tmp_path).run()
    logged = [r["lr"] for r in state.history if "lr" in r]
    expected = [0.5 * lr_factor("cosine", s, s / 10, 3, 0.2) for s in range(10)]
    assert logged == pytest.approx(expected)
    # SGD at those rates: w[0] is the sum of the rates
    assert task.model.w[0].item() == pytest.approx(sum(expected), rel=1e-6)


@pytest.mark.parametrize(
    "options, word",
    [
        ({"schedule": "linear"}, "schedule"),
        ({"optimizer": "lbfgs"}, "optimizer"),
        ({"warmup": -1}, "warmup"),
        ({"patience": -2}, "patience"),
        ({"clip": "sometimes"}, "clip"),
        ({"steps": 0}, "steps"),
    ],
)
def test_bad_options_are_config_errors_before_any_step(options: dict, word: str, tmp_path) -> None:
    with pytest.raises(ConfigError, match=word):
        Trainer(LineTask([COUNT]), sgd(**{"steps": 3, **options}), tmp_path)
    assert not any(tmp_path.iterdir())


# -- clipping ----------------------------------------------------------------------------------
def test_clip_by_norm_rescales_and_reports_the_clipped_fraction(tmp_path: Path) -> None:
    grads = [(0.3, 0.4), (3.0, 4.0), (0.3, 0.4), (6.0, 8.0)]  # norms 0.5, 5, 0.5, 10
    task = LineTask(grads)
    state = Trainer(task, sgd(steps=4, clip="norm", clip_at=1.0), tmp_path).run()
    # the long gradients become unit vectors (0.6, 0.8)
    expected = -torch.tensor([0.3 + 0.6 + 0.3 + 0.6, 0.4 + 0.8 + 0.4 + 0.8])
    torch.testing.assert_close(task.model.w.detach(), expected, rtol=0, atol=1e-5)
    records = [r for r in state.history if "clipped_fraction" in r]
    assert [r["clipped_fraction"] for r in records] == pytest.approx([0, 1 / 2, 1 / 3, 1 / 2])
    assert [r["grad_norm"] for r in records] == pytest.approx([0.5, 5, 0.5, 10], rel=1e-5)
    assert state.clipped_steps == 2


def test_clip_by_value_clamps_each_entry(tmp_path: Path) -> None:
    grads = [(0.9, 0.9), (3.0, 0.4), (-2.0, -0.5), (0.1, 0.1)]  # (0.9, 0.9) has norm > 1
    task = LineTask(grads)
    state = Trainer(task, sgd(steps=4, clip="value", clip_at=1.0), tmp_path).run()
    expected = -torch.tensor([0.9 + 1.0 - 1.0 + 0.1, 0.9 + 0.4 - 0.5 + 0.1])
    torch.testing.assert_close(task.model.w.detach(), expected, rtol=0, atol=1e-6)
    records = [r for r in state.history if "clipped_fraction" in r]
    assert [r["clipped_fraction"] for r in records] == pytest.approx([0, 1 / 2, 2 / 3, 2 / 4])


# -- divergence --------------------------------------------------------------------------------
def test_nan_loss_raises_diverged_and_keeps_the_last_checkpoint(tmp_path: Path) -> None:
    task = LineTask([COUNT] * 10, special={6: lambda w: w.sum() * math.nan})
    with pytest.raises(Diverged) as caught:
        Trainer(task, sgd(steps=10, checkpoint_every=5), tmp_path).run()
    message = str(caught.value)
    assert "\n" not in message and "nan" in message and "step 7" in message
    assert "learning rate (lr)" in message and str(tmp_path) in message
    assert saved_w(tmp_path / "checkpoint" / "model.safetensors").tolist() == [5.0, 0.0]
    saved = json.loads((tmp_path / "checkpoint" / "trainer.json").read_text())
    assert saved["state"]["step"] == 5


def test_infinite_gradient_raises_diverged_before_the_weights_change(tmp_path: Path) -> None:
    # sqrt(w - w) is 0 (a finite loss) but its gradient is infinite: the step must not be taken
    infinite = {3: lambda w: torch.sqrt(w[0] - w[0].detach())}
    task = LineTask([COUNT] * 10, special=infinite)
    with pytest.raises(Diverged, match="step 4"):
        Trainer(task, sgd(steps=10, checkpoint_every=2), tmp_path).run()
    assert task.model.w.tolist() == [3.0, 0.0]
    assert saved_w(tmp_path / "checkpoint" / "model.safetensors").tolist() == [2.0, 0.0]


# -- evaluation, early stopping, budgets --------------------------------------------------------
def test_early_stopping_after_patience_evaluations_without_improvement(tmp_path: Path) -> None:
    table = {2: 3.0, 4: 2.0, 6: 2.5, 8: 2.4, 10: 2.6, 12: 1.0}
    task = LineTask([COUNT] * 20, table)
    state = Trainer(task, sgd(steps=20, eval_every=2, patience=3), tmp_path).run()
    assert (state.status, state.step, state.best_step, state.best_loss) == (
        "early-stopped", 10, 4, 2.0
    )
    assert saved_w(tmp_path / "model.safetensors").tolist() == [4.0, 0.0]  # the best weights
    valid = [(r["step"], r["valid_loss"]) for r in state.history if "valid_loss" in r]
    assert valid == [(2, 3.0), (4, 2.0), (6, 2.5), (8, 2.4), (10, 2.6)]
    # without patience the same run goes on to the budget and finds the better step 12
    task = LineTask([COUNT] * 20, table)
    state = Trainer(task, sgd(steps=20, eval_every=2), tmp_path / "all").run()
    assert (state.status, state.step, state.best_step) == ("finished", 20, 12)


def test_time_budget_stops_the_run(tmp_path: Path) -> None:
    task = LineTask([COUNT] * 1000, sleep=0.03)
    started = time.perf_counter()
    state = Trainer(task, sgd(time=0.3), tmp_path).run()
    assert state.status == "finished"
    assert 1 <= state.step <= 11  # each step takes at least 0.03 s
    assert state.elapsed >= 0.3
    # the budget is checked before each step: the last one started inside it
    before_last = [r for r in state.history if r["step"] == state.step - 1]
    assert not before_last or before_last[0]["time"] < 0.3 + 1e-3
    assert time.perf_counter() - started < 10


def test_a_time_cap_ends_a_step_budget_without_bending_its_schedule(tmp_path: Path) -> None:
    task = LineTask([COUNT] * 1000, sleep=0.03)
    config = sgd(steps=100, time=0.3, lr=0.5, schedule="cosine", warmup=3, min_lr_ratio=0.2)
    state = Trainer(task, config, tmp_path / "capped").run()
    assert state.status == "finished" and state.stopped_by == "time cap"
    assert 1 <= state.step <= 11  # each step takes at least 0.03 s
    logged = [r["lr"] for r in state.history if "lr" in r]
    # the rates of a 100-step run, wherever the cap cut it (not squeezed into 0.3 s)
    expected = [0.5 * lr_factor("cosine", s, s / 100, 3, 0.2) for s in range(len(logged))]
    assert logged == pytest.approx(expected)
    quick = Trainer(LineTask([COUNT] * 10), sgd(steps=5, time=100.0), tmp_path / "steps").run()
    assert quick.step == 5 and quick.stopped_by == "steps"
    timed = Trainer(LineTask([COUNT] * 1000, sleep=0.03), sgd(time=0.1), tmp_path / "t").run()
    assert timed.stopped_by == "time"


def test_steps_and_time_together_on_the_command_line_are_a_capped_step_budget() -> None:
    from rnnkit.cli.main import build_parser
    from rnnkit.cli.options import train_config_from_args
    from rnnkit.tasks.lm import default_train_config

    parse = build_parser("lm").parse_args
    both = parse(["lm", "train", "--data", "alice", "--out", "x", "--steps", "5", "--time", "1m"])
    config = train_config_from_args(both, default_train_config())
    assert (config.steps, config.time) == (5, 60.0)
    steps = parse(["lm", "train", "--data", "alice", "--out", "x", "--steps", "5"])
    assert train_config_from_args(steps, default_train_config()).time is None
    alone = parse(["lm", "train", "--data", "alice", "--out", "x", "--time", "2m"])
    config = train_config_from_args(alone, default_train_config())
    assert (config.steps, config.time) == (None, 120.0)


def test_an_epoch_without_batches_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no batch"):
        Trainer(LineTask([]), sgd(steps=3), tmp_path).run()


# -- stopping and resuming ---------------------------------------------------------------------
def stop_at(step: int):
    return lambda event, info: event == "step" and info["step"] == step


@pytest.mark.parametrize("stop", [2, 6])
def test_resume_after_a_stop_request_equals_an_uninterrupted_run(tmp_path: Path, stop) -> None:
    # the best evaluation (1.0) is at step 6 only if the run evaluates there: a stop request
    # must not add that evaluation to the run's record, or patience would end the resumed run
    # at step 12 instead of 24
    table = {4: 5.0, 6: 1.0, 8: 4.0, 12: 4.5, 16: 3.0, 20: 3.5, 24: 3.6, 28: 3.7}
    config = dict(steps=40, eval_every=4, patience=2)
    whole = LineTask([COUNT] * 30, table)
    full = Trainer(whole, sgd(**config), tmp_path / "whole").run()
    assert (full.status, full.step, full.best_step) == ("early-stopped", 24, 16)

    first = Trainer(LineTask([COUNT] * 30, table), sgd(**config), tmp_path / "cut", stop_at(stop))
    state = first.run()
    assert (state.status, state.step) == ("interrupted", stop)
    assert (tmp_path / "cut" / "model.safetensors").is_file()  # something to use already
    again = Trainer(LineTask([COUNT] * 30, table), sgd(**config), tmp_path / "cut")
    resumed = again.run(resume=True)
    assert (resumed.status, resumed.step, resumed.best_step) == ("early-stopped", 24, 16)
    for name in ("model.safetensors", "checkpoint/model.safetensors"):
        assert torch.equal(saved_w(tmp_path / "whole" / name), saved_w(tmp_path / "cut" / name))


def test_sigint_stops_after_the_current_step_and_a_second_aborts(tmp_path: Path) -> None:
    def interrupt(w):
        os.kill(os.getpid(), signal.SIGINT)
        return (torch.tensor(COUNT) * w).sum()

    before = signal.getsignal(signal.SIGINT)
    task = LineTask([COUNT] * 10, special={2: interrupt})
    state = Trainer(task, sgd(steps=10), tmp_path).run()
    assert (state.status, state.step) == ("interrupted", 3)  # step 3 finished, then stopped
    assert saved_w(tmp_path / "checkpoint" / "model.safetensors").tolist() == [3.0, 0.0]
    assert signal.getsignal(signal.SIGINT) is before  # the handler is put back

    def interrupt_twice(w):
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGINT)
        return (torch.tensor(COUNT) * w).sum()

    task = LineTask([COUNT] * 10, special={2: interrupt_twice})
    with pytest.raises(KeyboardInterrupt):
        Trainer(task, sgd(steps=10), tmp_path / "twice").run()


def test_resume_of_a_malformed_checkpoint_is_a_checkpoint_error(tmp_path: Path) -> None:
    Trainer(LineTask([COUNT] * 4), sgd(steps=2), tmp_path).run()
    (tmp_path / "checkpoint" / "trainer.json").write_text('{"state": {}}')
    with pytest.raises(CheckpointError, match="trainer.json"):
        Trainer(LineTask([COUNT] * 4), sgd(steps=4), tmp_path).run(resume=True)
    (tmp_path / "checkpoint" / "trainer.json").unlink()
    with pytest.raises(CheckpointError, match="missing"):
        Trainer(LineTask([COUNT] * 4), sgd(steps=4), tmp_path).run(resume=True)


# -- checkpoint files --------------------------------------------------------------------------
def test_a_run_leaves_no_temporary_files(tmp_path: Path) -> None:
    Trainer(LineTask([COUNT] * 6), sgd(steps=6, eval_every=2, checkpoint_every=2), tmp_path).run()
    names = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    assert names == [
        "checkpoint",
        "checkpoint/model.safetensors",
        "checkpoint/trainer.json",
        "checkpoint/trainer.safetensors",
        "model.safetensors",
    ]


def test_a_failed_write_keeps_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "config.json"
    ckpt.write_json(target, {"version": 1})

    def half_then_fail(tmp: str) -> None:
        Path(tmp).write_text('{"vers')
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        ckpt.atomic_write(target, half_then_fail)
    assert ckpt.read_json(target) == {"version": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["config.json"]


def test_written_files_follow_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        ckpt.write_json(tmp_path / "a.json", {})
        ckpt.write_tensors(tmp_path / "b.safetensors", {"x": torch.zeros(1)})
    finally:
        os.umask(old)
    # mkstemp alone makes 0600 files another user or a web server cannot read
    assert (tmp_path / "a.json").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "b.safetensors").stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize("content", [b"", b"garbage", b"\x10\x00\x00\x00\x00\x00\x00\x00{"])
def test_a_corrupt_weights_file_is_a_one_line_checkpoint_error(tmp_path, content) -> None:
    path = tmp_path / "model.safetensors"
    ckpt.write_tensors(path, {"w": torch.ones(2)})
    path.write_bytes(content or path.read_bytes()[:20])
    with pytest.raises(CheckpointError) as caught:
        ckpt.load_weights(Weights(), path)
    assert "\n" not in str(caught.value) and "corrupt" in str(caught.value)


def test_weights_of_another_shape_are_a_one_line_checkpoint_error(tmp_path: Path) -> None:
    ckpt.write_tensors(tmp_path / "model.safetensors", {"w": torch.ones(3)})
    with pytest.raises(CheckpointError) as caught:
        ckpt.load_weights(Weights(), tmp_path / "model.safetensors")
    assert "\n" not in str(caught.value) and "does not fit" in str(caught.value)


def test_a_corrupt_json_file_is_a_one_line_checkpoint_error(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text('{"task": "lm", "mod')
    with pytest.raises(CheckpointError) as caught:
        ckpt.read_json(tmp_path / "config.json")
    assert "\n" not in str(caught.value) and "corrupt" in str(caught.value)
    (tmp_path / "config.json").write_bytes(b"\xff\xfe{}")
    with pytest.raises(CheckpointError, match="corrupt"):
        ckpt.read_json(tmp_path / "config.json")


@pytest.mark.parametrize("name", ["adamw", "sgd", "rmsprop"])
def test_optimizer_state_round_trips_through_files(tmp_path: Path, name: str) -> None:
    torch.manual_seed(0)
    model = nn.Linear(3, 2)
    twin = nn.Linear(3, 2)
    optimizer = make_optimizer(model.parameters(), name, 0.01, weight_decay=0.1, momentum=0.9)
    x = torch.randn(5, 4, 3)

    def step(net: nn.Module, opt: torch.optim.Optimizer, batch: torch.Tensor) -> None:
        opt.zero_grad()
        net(batch).pow(2).sum().backward()
        opt.step()

    for batch in x[:3]:
        step(model, optimizer, batch)
    data, tensors = ckpt.optimizer_to_files(optimizer)
    ckpt.write_json(tmp_path / "opt.json", data)
    ckpt.write_tensors(tmp_path / "opt.safetensors", tensors)

    twin.load_state_dict(model.state_dict())
    restored = make_optimizer(twin.parameters(), name, 0.5)  # other options: all come back
    data = ckpt.read_json(tmp_path / "opt.json")
    ckpt.optimizer_from_files(restored, data, ckpt.read_tensors(tmp_path / "opt.safetensors"))
    before, after = optimizer.state_dict(), restored.state_dict()
    assert before["state"].keys() == after["state"].keys()
    for index, slots in before["state"].items():
        assert slots.keys() == after["state"][index].keys()
        for key, value in slots.items():
            assert torch.equal(torch.as_tensor(value), torch.as_tensor(after["state"][index][key]))
    assert after["param_groups"][0]["lr"] == 0.01
    step(model, optimizer, x[3])
    step(twin, restored, x[3])
    for a, b in zip(model.parameters(), twin.parameters()):
        assert torch.equal(a, b)


# -- progress and logs -------------------------------------------------------------------------
def test_progress_bar_writes_nothing_until_the_first_step() -> None:
    out = io.StringIO()
    bar = ProgressBar(steps=20, seconds=None, file=out)
    assert out.getvalue() == ""  # an error before training must stay one clean line
    bar("step", {"step": 10, "train_loss": 1.5, "tokens": 100, "time": 1.0})
    bar("eval", {"valid_loss": 1.25})
    bar("step", {"step": 20, "train_loss": 1.0, "tokens": 300, "time": 2.0})
    bar("end", {})
    text = out.getvalue()
    assert "20/20" in text and "loss 1.000" in text and "200 tok/s" in text
    assert "valid loss 1.250" in text
    silent = io.StringIO()
    ProgressBar(steps=None, seconds=60, file=silent)("end", {})
    assert silent.getvalue() == ""


def test_metrics_csv_has_the_union_of_columns(tmp_path: Path) -> None:
    history = [{"step": 1, "train_loss": 2.0}, {"step": 2, "valid_loss": 1.5, "train_loss": 1.0}]
    text = write_csv(history, tmp_path / "m.csv").read_text().splitlines()
    assert text == ["step,train_loss,valid_loss", "1,2.0,", "2,1.0,1.5"]


@pytest.mark.parametrize("killed_at", range(1, 7))
def test_a_checkpoint_killed_anywhere_leaves_the_old_or_the_new_one(tmp_path, killed_at,
                                                                   monkeypatch) -> None:
    """Kill a checkpoint write at its k-th file operation (each of the three atomic file writes,
    the two renames of the swap, the removal of the old folder): the directory then holds one
    complete checkpoint, the one before or the one being written, and resume continues from
    it to the same weights as an uninterrupted run."""
    task = LineTask([COUNT] * 10)
    Trainer(task, sgd(steps=4, checkpoint_every=2), tmp_path).run()  # checkpoints at 2 and 4
    calls = {"n": 0}
    real_replace, real_rmtree = os.replace, ckpt.shutil.rmtree

    class Killed(BaseException):
        pass

    def dying(real):
        def operation(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] == killed_at:
                raise Killed  # the process dies here: nothing after it runs
            return real(*args, **kwargs)
        return operation

    monkeypatch.setattr(ckpt.os, "replace", dying(real_replace))
    monkeypatch.setattr(ckpt.shutil, "rmtree", dying(real_rmtree))
    with pytest.raises(Killed):
        Trainer(task, sgd(steps=6, checkpoint_every=2), tmp_path).run(resume=True)
    monkeypatch.setattr(ckpt.os, "replace", real_replace)
    monkeypatch.setattr(ckpt.shutil, "rmtree", real_rmtree)
    where = ckpt.checkpoint_dir(tmp_path)
    assert where == tmp_path / "checkpoint"
    step = json.loads((where / "trainer.json").read_text())["state"]["step"]
    assert step in (4, 6) and saved_w(where / "model.safetensors").tolist() == [step, 0.0]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    resumed = LineTask([COUNT] * 10)
    Trainer(resumed, sgd(steps=8, checkpoint_every=2), tmp_path).run(resume=True)
    assert resumed.model.w.tolist() == [8.0, 0.0]


def test_a_checkpoint_folder_without_trainer_json_is_not_resumed_from(tmp_path) -> None:
    """What a killed write could leave before this format: the half folder is set aside, not
    trusted; resume then starts from the run's beginning rather than refusing."""
    from rnnkit.tasks import base

    Trainer(LineTask([COUNT] * 10), sgd(steps=2, checkpoint_every=2), tmp_path).run()
    (tmp_path / ".checkpoint-new").mkdir()
    (tmp_path / ".checkpoint-new" / "model.safetensors").write_bytes(b"half")
    assert ckpt.checkpoint_dir(tmp_path) == tmp_path / "checkpoint"
    assert not (tmp_path / ".checkpoint-new").exists()
    (tmp_path / "checkpoint" / "trainer.json").unlink()
    assert ckpt.checkpoint_dir(tmp_path) is None
    task = LineTask([COUNT] * 10)
    base.train(task, sgd(steps=3), tmp_path, resume=True)
    assert task.model.w.tolist() == [3.0, 0.0]
