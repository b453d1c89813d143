"""The training loop every task shares.

A task supplies the model, its batches and its loss; the loop owns everything else: optimizer
and schedule, gradient clipping (by norm or by value, with the clipped fraction reported),
periodic evaluation, early stopping, step and time budgets, checkpoints at intervals and at the
best validation loss, exact resume, and a clean stop on Ctrl-C (the current step finishes,
the state is saved). Library code never prints: progress goes to ``callback``.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import nn
from torch.utils import _pytree as pytree

from rnnkit.config import Config, param
from rnnkit.errors import CheckpointError, ConfigError, RnnkitError
from rnnkit.train import checkpoint as ckpt
from rnnkit.train.allocator import keep_freed_memory
from rnnkit.train.schedule import OPTIMIZERS, SCHEDULES, lr_factor, make_optimizer

PRECISIONS = ("fp32", "bf16")


class TrainTask(Protocol):
    model: nn.Module

    def batches(self, epoch: int, start: int) -> Iterator[Any]:
        """The epoch's batches from index ``start`` on, the same every time for the same epoch."""

    def initial_carry(self) -> Any:
        """What is carried from batch to batch (a recurrent state), reset every epoch; or None."""

    def train_loss(self, batch: Any, carry: Any) -> tuple[torch.Tensor, Any, int]:
        """Mean loss of the batch, the carry to pass on (detached), and tokens in the batch."""

    def evaluate(self) -> dict[str, float]:
        """Validation metrics; ``"loss"`` (lower is better) decides the best checkpoint."""

    # optional: ``log_fields() -> dict``, merged into every logged training record (the
    # teacher-forcing ratio of seq2seq's scheduled sampling)


@dataclass
class TrainConfig(Config):
    """How to train: budget, optimizer and schedule, clipping, evaluation, checkpoints."""

    steps: int | None = param(None, "optimizer steps in all: the budget, over which the "
                              "schedule runs", cli=False)
    time: float | None = param(None, "seconds of wall time: the budget when steps is not "
                               "given, else a cap that may end the run first", cli=False)
    lr: float = param(3e-3, "peak learning rate")
    optimizer: str = param("adamw", "the optimizer", choices=lambda: tuple(OPTIMIZERS))
    weight_decay: float = param(0.0, "decoupled weight decay (AdamW) or L2 (others)")
    momentum: float = param(0.9, "SGD momentum / RMSprop smoothing")
    schedule: str = param("cosine", "learning-rate schedule after warm-up",
                          choices=lambda: tuple(SCHEDULES))
    warmup: int = param(50, "warm-up steps")
    min_lr_ratio: float = param(0.1, "the schedule's floor, as a share of lr")
    clip: str = param("norm", "gradient clipping", choices=("norm", "value", "none"))
    clip_at: float = param(1.0, "the largest gradient norm (or value) kept")
    eval_every: int = param(200, "validate every N steps")
    patience: int = param(0, "evaluations without improvement before stopping (0 = never)")
    checkpoint_every: int = param(500, "save the resume state every N steps")
    log_every: int = param(10, "log a record every N steps")
    seed: int = param(0, "random seed (initialisation, batches, dropout)")
    precision: str = param("fp32", "arithmetic of training and validation: fp32, or bf16 "
                           "(torch's CPU autocast; the weights and optimizer stay fp32)",
                           choices=PRECISIONS)

    def check(self) -> None:
        if self.steps is None and self.time is None:
            raise ConfigError("give a budget: steps or time", "steps")
        if self.steps is not None and self.steps <= 0:
            raise ConfigError.bad("steps", f"must be positive, got {self.steps}")
        if self.time is not None and self.time <= 0:
            raise ConfigError.bad("time", f"must be positive, got {self.time}")
        super().check()  # choices: clip, schedule, optimizer
        if self.clip != "none":
            self.require_positive("clip_at")
        # checked here, not at the first step, so that nothing is written for a typo
        self.require_positive("lr", "eval_every", "checkpoint_every", "log_every")
        for name in ("warmup", "patience", "weight_decay"):
            self.require_at_least(name, 0)
        self.require_fraction("min_lr_ratio", closed=True)

    def with_budget(self, steps: int | None = None, time: float | None = None) -> TrainConfig:
        """This config with a budget of ``steps``, of ``time``, or of ``steps`` capped by
        ``time`` (neither: unchanged). A step budget makes the same model on any machine (the
        schedule follows the steps); a time budget or cap depends on the machine's speed."""
        if steps and time:
            return replace(self, steps=steps, time=time)
        if steps:
            return replace(self, steps=steps, time=None)
        if time:
            return replace(self, steps=None, time=time)
        return self


@dataclass
class TrainState:
    step: int = 0
    epoch: int = 0
    batch: int = 0  # index of the next batch within the epoch
    elapsed: float = 0.0  # seconds spent, over all runs, evaluations included
    step_seconds: float = 0.0  # of which in training steps
    tokens: int = 0
    clipped_steps: int = 0
    best_loss: float = math.inf
    best_step: int = 0
    bad_evals: int = 0
    history: list[dict] = field(default_factory=list)  # every logged record
    status: str = "running"  # finished | early-stopped | interrupted
    stopped_by: str = ""  # when finished: "steps", "time", or "time cap" (before the steps)


class Diverged(RnnkitError):
    pass


class _StopFlag:
    """Ctrl-C asks the loop to stop after the current step; a second Ctrl-C aborts at once."""

    def __init__(self) -> None:
        self.requested = False
        self._previous = None

    def __enter__(self) -> _StopFlag:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def _flatten(carry: Any) -> dict[str, torch.Tensor]:
    leaves, _ = pytree.tree_flatten(carry)
    return {f"carry.{i}": leaf for i, leaf in enumerate(leaves) if isinstance(leaf, torch.Tensor)}


def _unflatten(template: Any, tensors: dict[str, torch.Tensor]) -> Any:
    leaves, spec = pytree.tree_flatten(template)
    leaves = [tensors.get(f"carry.{i}", leaf) for i, leaf in enumerate(leaves)]
    return pytree.tree_unflatten(leaves, spec)


class Trainer:
    """Runs ``task`` under ``config``, saving into ``out`` (a model directory)."""

    def __init__(
        self,
        task: TrainTask,
        config: TrainConfig,
        out: Path,
        callback: Callable[[str, dict], bool | None] | None = None,
    ) -> None:
        config.check()
        keep_freed_memory()
        self.task, self.config, self.out = task, config, Path(out)
        self.callback = callback or (lambda event, info: None)
        self.params = [p for p in task.model.parameters() if p.requires_grad]
        self.optimizer = make_optimizer(
            self.params, config.optimizer, config.lr, config.weight_decay, config.momentum
        )
        self.state = TrainState()
        self.carry = None

    # -- saving and resuming ---------------------------------------------------------------
    def save(self) -> None:
        opt_data, opt_tensors = ckpt.optimizer_to_files(self.optimizer)
        tensors = {**opt_tensors, **_flatten(self.carry), "rng.torch": torch.get_rng_state()}

        def write(where: Path) -> None:  # a new folder; trainer.json last marks it complete
            ckpt.write_tensors(where / "trainer.safetensors", tensors)
            ckpt.write_tensors(where / ckpt.WEIGHTS, self.task.model.state_dict())
            ckpt.write_json(
                where / ckpt.COMPLETE,
                {"state": asdict(self.state), "optimizer": opt_data, "config": asdict(self.config)},
            )

        ckpt.save_checkpoint(self.out, write)

    def resume(self) -> None:
        where = ckpt.checkpoint_dir(self.out) or self.out / ckpt.RESUME_DIR
        saved = ckpt.read_json(where / ckpt.COMPLETE)
        tensors = ckpt.read_tensors(where / "trainer.safetensors")
        ckpt.load_weights(self.task.model, where / ckpt.WEIGHTS)
        try:
            ckpt.optimizer_from_files(self.optimizer, saved["optimizer"], tensors)
            self.state = TrainState(**saved["state"])
            self.carry = _unflatten(self.task.initial_carry(), tensors)
            torch.set_rng_state(tensors["rng.torch"])
        except (KeyError, TypeError, ValueError, AttributeError, RuntimeError) as bad:
            raise CheckpointError(
                f"the resume state in {where} (trainer.json, trainer.safetensors) is malformed "
                f"({type(bad).__name__}: {str(bad).splitlines()[0] if str(bad) else ''}); "
                "restore it, or train afresh without resume",
                parameters=("resume",),
            ) from None
        self.state.status = "running"

    # -- the loop ----------------------------------------------------------------------------
    def progress(self) -> float:
        """The share of the budget spent: the run ends at 1 (steps, or the time or its cap)."""
        c, s = self.config, self.state
        done = 0.0
        if c.steps:
            done = max(done, s.step / c.steps)
        if c.time:
            done = max(done, s.elapsed / c.time)
        return done

    def schedule_progress(self) -> float:
        """Where the learning-rate schedule is: over the steps when there are any (a time cap
        does not stretch or squeeze it), else over the time."""
        c, s = self.config, self.state
        return s.step / c.steps if c.steps else s.elapsed / c.time

    def _stopped_by(self) -> str:
        c, s = self.config, self.state
        if c.steps and s.step >= c.steps:
            return "steps"
        return "time cap" if c.steps else "time"

    def run(self, resume: bool = False) -> TrainState:
        c, s = self.config, self.state
        if resume:
            self.resume()
            s = self.state
        else:
            torch.manual_seed(c.seed)
            self.carry = self.task.initial_carry()
        with _StopFlag() as stop:
            while s.status == "running":
                exhausted = True
                for batch in self.task.batches(s.epoch, s.batch):
                    if self.progress() >= 1.0:
                        s.status = "finished"
                        s.stopped_by = self._stopped_by()
                        break
                    exhausted = False
                    self._train_step(batch)
                    if stop.requested:
                        s.status = "interrupted"
                        break
                    if s.status != "running":
                        break
                if s.status == "running":
                    if exhausted and s.batch == 0:
                        raise ConfigError(
                            "the training data gives no batch: use more data or a smaller batch"
                        )
                    s.epoch, s.batch = s.epoch + 1, 0
                    self.carry = self.task.initial_carry()
            # still inside the guard: a Ctrl-C during the closing evaluation must not lose the run
            evaluated = bool(s.history) and s.history[-1].get("step") == s.step
            evaluated = evaluated and "valid_loss" in s.history[-1]
            if s.status == "interrupted":
                # saved before the closing evaluation, which only reports: a run that went on
                # would not evaluate here, and letting this one count (best loss, patience)
                # would make the resumed run differ from it
                self.save()
                if not evaluated:
                    self._evaluate(report_only=True)
            else:
                if not evaluated:
                    self._evaluate()
                self.save()
        self.callback("end", {"state": s})
        return s

    def autocast(self):
        """The context the forward passes run in: bf16 autocast on the CPU when asked."""
        return torch.autocast("cpu", dtype=torch.bfloat16,
                              enabled=self.config.precision == "bf16")

    def _train_step(self, batch: Any) -> None:
        c, s, model = self.config, self.state, self.task.model
        started = time.perf_counter()
        factor = lr_factor(c.schedule, s.step, self.schedule_progress(), c.warmup,
                           c.min_lr_ratio)
        for group in self.optimizer.param_groups:
            group["lr"] = c.lr * factor
        model.train()
        with self.autocast():
            loss, self.carry, tokens = self.task.train_loss(batch, self.carry)
        if not torch.isfinite(loss):
            raise Diverged(
                f"the training loss became {loss.item()} at step {s.step + 1}; lower the learning "
                f"rate (lr) or clip harder (clip_at); the last checkpoint in {self.out} is intact"
            )
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(
            self.params, c.clip_at if c.clip == "norm" else math.inf
        ).item()
        if not math.isfinite(grad_norm):
            # clipping would turn an infinite gradient into NaN weights, and the next
            # checkpoint would save them: stop with the weights of the last good step
            raise Diverged(
                f"the gradient norm became {grad_norm} at step {s.step + 1}; lower the learning "
                f"rate (lr); the last checkpoint in {self.out} is intact"
            )
        clipped = False
        if c.clip == "norm":
            clipped = grad_norm > c.clip_at
        elif c.clip == "value":
            clipped = any(
                bool((p.grad.abs() > c.clip_at).any()) for p in self.params if p.grad is not None
            )
            torch.nn.utils.clip_grad_value_(self.params, c.clip_at)
        self.optimizer.step()
        s.step += 1
        s.batch += 1
        s.tokens += tokens
        s.clipped_steps += int(clipped)
        spent = time.perf_counter() - started
        s.elapsed += spent
        s.step_seconds += spent
        if s.step % c.log_every == 0 or s.step == 1:
            record = {
                "step": s.step,
                "epoch": s.epoch,
                "time": round(s.elapsed, 3),
                "train_loss": loss.item(),
                "lr": c.lr * factor,
                "grad_norm": grad_norm,
                "clipped_fraction": s.clipped_steps / s.step,
                "tokens": s.tokens,
            }
            fields = getattr(self.task, "log_fields", None)  # a task's own (teacher ratio)
            if fields is not None:
                record.update(fields())
            s.history.append(record)
            if self.callback("step", record):
                s.status = "interrupted"
        if s.step % c.eval_every == 0:
            self._evaluate()
        if s.step % c.checkpoint_every == 0:
            self.save()

    def _evaluate(self, report_only: bool = False) -> None:
        """Validate and log; unless ``report_only``, keep the best weights and count patience.

        A report-only evaluation still writes ``model.safetensors`` when no evaluation of this
        run has (so that an interrupted run always leaves weights to use).
        """
        s = self.state
        started = time.perf_counter()
        self.task.model.eval()
        with torch.no_grad():
            with self.autocast():
                metrics = self.task.evaluate()
        s.elapsed += time.perf_counter() - started
        record = {"step": s.step, "epoch": s.epoch, "time": round(s.elapsed, 3)}
        record.update({f"valid_{k}": v for k, v in metrics.items()})
        if s.history and s.history[-1]["step"] == s.step:
            s.history[-1].update(record)
        else:
            s.history.append(record)
        if report_only:
            if math.isinf(s.best_loss):
                ckpt.write_tensors(self.out / ckpt.WEIGHTS, self.task.model.state_dict())
        elif metrics["loss"] < s.best_loss:
            s.best_loss, s.best_step, s.bad_evals = metrics["loss"], s.step, 0
            ckpt.write_tensors(self.out / ckpt.WEIGHTS, self.task.model.state_dict())
        else:
            s.bad_evals += 1
            if self.config.patience and s.bad_evals >= self.config.patience:
                s.status = "early-stopped"
        self.callback("eval", {**record, "best_loss": s.best_loss})
