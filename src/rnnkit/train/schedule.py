"""Optimizers and learning-rate schedules by name."""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch

from rnnkit.errors import ConfigError

OPTIMIZERS = ("adamw", "adam", "rmsprop", "sgd")
SCHEDULES = ("cosine", "step", "constant")


def make_optimizer(
    params: Iterable[torch.nn.Parameter],
    name: str,
    lr: float,
    weight_decay: float = 0.0,
    momentum: float = 0.9,
) -> torch.optim.Optimizer:
    if lr <= 0:
        raise ConfigError.bad("lr", f"must be positive, got {lr}")
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, weight_decay=weight_decay, momentum=momentum)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay, momentum=momentum)
    raise ConfigError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")


def lr_factor(
    schedule: str,
    step: int,
    progress: float,
    warmup: int,
    min_ratio: float = 0.1,
    decay_every: float = 1 / 3,
    gamma: float = 0.3,
) -> float:
    """The multiplier of the base learning rate.

    A linear warm-up over ``warmup`` steps, then by ``progress`` (the fraction of the budget
    spent, 0..1): ``cosine`` decays to ``min_ratio``; ``step`` multiplies by ``gamma`` every
    ``decay_every`` of the budget; ``constant`` stays at 1.
    """
    warm = min(1.0, (step + 1) / warmup) if warmup > 0 else 1.0
    progress = min(max(progress, 0.0), 1.0)
    if schedule == "cosine":
        decay = min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))
    elif schedule == "step":
        decay = gamma ** math.floor(progress / decay_every)
    elif schedule == "constant":
        decay = 1.0
    else:
        raise ConfigError(f"unknown schedule {schedule!r}; choose one of {', '.join(SCHEDULES)}")
    return warm * decay
