"""Output distributions of the forecaster: what the network emits per future step, its training
loss, and the point forecast and interval bounds read off it.

Every head works in the *scaled* space of a window (values divided by the window's scale after
its location is removed); ``rescale`` maps its quantities back. Shapes: parameters
``(B, H, P)``, targets ``(B, H)``.

- ``quantile``: the median and four quantiles (2.5, 10, 90, 97.5%) trained by pinball loss.
  The network emits the median and the log-gaps between neighbours, so quantiles never cross.
- ``gaussian``: mean and scale (softplus), trained by negative log-likelihood.
- ``student-t``: mean, scale and degrees of freedom ``2 + softplus`` (finite variance).
- ``mae`` / ``mse``: a point forecast (the median / the mean) and no intervals.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor
from torch.nn import functional as F

from rnnkit.errors import ConfigError

HEADS = ("quantile", "gaussian", "student-t", "mae", "mse")
LEVELS = (80, 95)
# quantile levels of the quantile head, symmetric around the median (index 2)
QUANTILES = (0.025, 0.1, 0.5, 0.9, 0.975)
_NORMAL_Z = {80: 1.2815515655446004, 95: 1.959963984540054}


def check_head(name: str) -> None:
    if name not in HEADS:
        raise ConfigError.bad("head", f"must be one of {', '.join(HEADS)}, got {name!r}")


def num_params(head: str) -> int:
    return {"quantile": len(QUANTILES), "gaussian": 2, "student-t": 3, "mae": 1, "mse": 1}[head]


def _quantiles(raw: Tensor) -> Tensor:
    """(B, H, 5) raw outputs -> (B, H, 5) increasing quantiles: median +- cumulated gaps."""
    median = raw[..., 2:3]
    gaps = F.softplus(raw[..., [0, 1, 3, 4]]) + 1e-4
    below = median - torch.stack([gaps[..., 1] + gaps[..., 0], gaps[..., 1]], dim=-1)
    above = median + torch.stack([gaps[..., 2], gaps[..., 2] + gaps[..., 3]], dim=-1)
    return torch.cat([below, median, above], dim=-1)


def _scale(raw: Tensor) -> Tensor:
    return F.softplus(raw) + 1e-3


def loss(head: str, raw: Tensor, target: Tensor, weight: Tensor | None = None) -> Tensor:
    """Mean training loss over the batch and horizon, each window weighted by ``weight``
    ((B, 1) or (B, H)) if given."""
    if head == "quantile":
        q = _quantiles(raw)
        levels = q.new_tensor(QUANTILES)
        error = target.unsqueeze(-1) - q
        per = torch.maximum(levels * error, (levels - 1) * error).sum(-1)
    elif head == "gaussian":
        mu, sigma = raw[..., 0], _scale(raw[..., 1])
        per = torch.log(sigma) + 0.5 * ((target - mu) / sigma) ** 2 + 0.5 * math.log(2 * math.pi)
    elif head == "student-t":
        mu, sigma, nu = raw[..., 0], _scale(raw[..., 1]), 2.0 + F.softplus(raw[..., 2])
        per = -torch.distributions.StudentT(nu, mu, sigma).log_prob(target)
    elif head == "mae":
        per = (target - raw[..., 0]).abs()
    else:
        per = (target - raw[..., 0]) ** 2
    if weight is None:
        return per.mean()
    return (per * weight).mean() / weight.expand_as(per).mean().clamp_min(1e-12)


def shift(head: str, raw: Tensor, base: Tensor) -> Tensor:
    """Parameters of the distribution moved by ``base (B, H)`` (location only)."""
    index = 2 if head == "quantile" else 0
    moved = raw.clone()
    moved[..., index] = raw[..., index] + base
    return moved


def point(head: str, raw: Tensor) -> Tensor:
    """(B, H, P) -> (B, H): the median (quantile, mae) or the mean (the others)."""
    if head == "quantile":
        return raw[..., 2]
    return raw[..., 0]


def _student_quantile(z_level: int, nu: Tensor) -> Tensor:
    from scipy.stats import t as student  # scipy comes with statsmodels

    q = 0.5 + z_level / 200.0
    return torch.as_tensor(student.ppf(q, nu.detach().cpu().numpy()), dtype=nu.dtype)


def bounds(head: str, raw: Tensor) -> dict[int, tuple[Tensor, Tensor]]:
    """Central intervals {80: (lower, upper), 95: (lower, upper)}, each (B, H); {} for point
    heads."""
    if head == "quantile":
        q = _quantiles(raw)
        return {80: (q[..., 1], q[..., 3]), 95: (q[..., 0], q[..., 4])}
    if head == "gaussian":
        mu, sigma = raw[..., 0], _scale(raw[..., 1])
        return {lv: (mu - z * sigma, mu + z * sigma) for lv, z in _NORMAL_Z.items()}
    if head == "student-t":
        mu, sigma, nu = raw[..., 0], _scale(raw[..., 1]), 2.0 + F.softplus(raw[..., 2])
        out = {}
        for level in LEVELS:
            z = _student_quantile(level, nu).to(mu.device)
            out[level] = (mu - z * sigma, mu + z * sigma)
        return out
    return {}
