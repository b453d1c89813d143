"""Next-token choice from logits: greedy, temperature, top-k and nucleus (top-p) sampling."""

from __future__ import annotations

import torch
from torch import Tensor

from rnnkit.errors import ConfigError


def filter_logits(logits: Tensor, top_k: int = 0, top_p: float = 1.0) -> Tensor:
    """Keep the ``top_k`` best tokens and the smallest set whose probability reaches ``top_p``.

    ``logits (..., V)``; removed tokens get ``-inf``. ``top_k=0`` and ``top_p=1`` keep everything.
    The best token always survives, so the result is never empty.
    """
    if top_k and top_k < logits.size(-1):
        kth = torch.topk(logits, top_k, dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p < 1.0:
        sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
        probs = sorted_logits.softmax(-1)
        # drop a token when the tokens before it already reach top_p
        before = probs.cumsum(-1) - probs
        drop_sorted = before >= top_p
        drop = drop_sorted.scatter(-1, order, drop_sorted)
        logits = logits.masked_fill(drop, float("-inf"))
    return logits


def check_sampling(temperature: float, top_k: int, top_p: float) -> None:
    """Raise a ConfigError naming the first out-of-range sampling option."""
    if temperature < 0:
        raise ConfigError.bad("temperature", f"must be >= 0 (0 = greedy), got {temperature}")
    if not 0.0 < top_p <= 1.0:
        raise ConfigError.bad("top_p", f"must be in (0, 1], got {top_p}")
    if top_k < 0:
        raise ConfigError.bad("top_k", f"must be >= 0 (0 = off), got {top_k}")


def sample_next(
    logits: Tensor,
    temperature: float = 1.0,
    top_k: int = 0,
    top_p: float = 1.0,
    generator: torch.Generator | None = None,
) -> Tensor:
    """One token per row of ``logits (B, V)``: argmax when ``temperature == 0``, else a sample."""
    check_sampling(temperature, top_k, top_p)
    if temperature == 0:
        return logits.argmax(-1)
    logits = filter_logits(logits.float() / temperature, top_k, top_p)
    return torch.multinomial(logits.softmax(-1), 1, generator=generator).squeeze(-1)
