"""Dropouts for recurrent layers.

- variational (Gal & Ghahramani 2016): one mask per sequence, the same at every step, on a
  layer's inputs or outputs;
- recurrent dropout: a variational mask on ``h`` where it enters the recurrent matmul only
  (the cell's ``h_mask``), so the memory path itself is never dropped (Semeniuta et al. 2016);
- zoneout (Krueger et al. 2017): each unit of each state keeps its previous value with
  probability p during training; at evaluation the expectation ``p·old + (1-p)·new``;
- DropConnect on the recurrent weights (Wan et al. 2013; awd-lstm's WeightDrop): one mask on
  ``weight_hh`` per forward call, which the fused kernels can still run.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.nn import functional as F


def check_probability(name: str, p: float) -> float:
    p = float(p)
    if not 0.0 <= p < 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {p}")
    return p


def variational_mask(shape: tuple[int, ...], p: float, like: Tensor) -> Tensor:
    """A scaled Bernoulli keep-mask: entries are 0 or ``1/(1-p)``."""
    return torch.empty(shape, dtype=like.dtype, device=like.device).bernoulli_(1 - p).div_(1 - p)


def variational_dropout(x: Tensor, p: float, training: bool) -> Tensor:
    """Drop the same features at every step of each sequence: ``x (B, T, F)``."""
    if not training or p == 0.0:
        return x
    return x * variational_mask((x.size(0), 1, x.size(2)), p, x)


def dropconnect(weight: Tensor, p: float, training: bool) -> Tensor | None:
    """The dropped recurrent weight for this forward call, or None when inactive."""
    if not training or p == 0.0:
        return None
    return F.dropout(weight, p, training=True)


def zoneout(old: Tensor, new: Tensor, p: float, training: bool) -> Tensor:
    """Keep each unit of ``old`` with probability p (training) or mix by expectation (eval)."""
    if training:
        keep = torch.empty_like(new).bernoulli_(p).bool()
        return torch.where(keep, old, new)
    return torch.lerp(new, old, p)
