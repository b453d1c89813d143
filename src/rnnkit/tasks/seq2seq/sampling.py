"""Scheduled sampling (Bengio et al. 2015): the probability of feeding the true previous
token, decaying from 1 over training, and the loss with optional label smoothing.

    linear:           1 - progress
    exponential:      k ** progress                              (k < 1, default 0.01)
    inverse-sigmoid:  (1 + 1/k) k / (k + exp(2 k progress))      (k >= 1, default 5)

each no lower than ``floor``; all start at 1 and end near 0 (``floor``).

``progress`` runs from 0 to 1 over the training budget (the trainer's ``progress()``), so one
schedule fits any budget; ``ratio = 1`` everywhere is plain teacher forcing.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from rnnkit.errors import ConfigError

SCHEDULES = ("constant", "linear", "exponential", "inverse-sigmoid")


def teacher_ratio(schedule: str, progress: float, floor: float = 0.0, k: float = 0.0) -> float:
    """The probability of feeding the truth at ``progress`` (0..1) of training."""
    if schedule not in SCHEDULES:
        raise ConfigError.bad("schedule", f"must be one of {', '.join(SCHEDULES)}, got "
                                          f"{schedule!r}")
    p = min(max(progress, 0.0), 1.0)
    if schedule == "constant":
        ratio = 1.0
    elif schedule == "linear":
        ratio = 1.0 - p
    elif schedule == "exponential":
        ratio = (k or 0.01) ** p  # from 1 to k at the end
    else:
        k = k or 5.0
        ratio = k / (k + math.exp(p * 2 * k)) * (1 + 1 / k)  # 1 at the start, ~0 at the end
        ratio = min(ratio, 1.0)
    return max(floor, ratio)


def sequence_loss(logits: Tensor, target: Tensor, pad: int, smoothing: float = 0.0) -> Tensor:
    """Mean cross-entropy over the non-padding target tokens of ``logits (B, T, V)`` against
    ``target (B, T)``, with label smoothing ``smoothing`` (0: none)."""
    if not 0.0 <= smoothing < 1.0:
        raise ConfigError.bad("label_smoothing", f"must be in [0, 1), got {smoothing}")
    return torch.nn.functional.cross_entropy(logits.flatten(0, 1), target.flatten(),
                                             ignore_index=pad, label_smoothing=smoothing)
