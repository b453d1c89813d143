"""Next-token choice from logits: greedy, temperature, top-k and nucleus (top-p) sampling.

:func:`sample_next` draws with ``torch.multinomial``; :class:`Sampler` draws the same
distribution by the Gumbel-max trick, with its noise drawn in blocks ahead of time and its
buffers reused, so that a token costs two small ops and no allocation (what generation at
batch 1 needs: there the model's step takes tens of microseconds).
"""

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


class Sampler:
    r"""Draws one token per row of ``logits (B, V)``, reusing its buffers.

    Gumbel-max: ``argmax(logits / T + g)`` with ``g = -log(-log u)``, ``u ~ U(0, 1)``, is a
    sample of ``softmax(logits / T)``; multiplying through by ``T``, the plain case adds
    pre-scaled noise ``T g`` to the logits and takes the argmax. Noise for ``block`` tokens is
    drawn at once from ``generator``, so a seed gives the same tokens whatever calls the
    sampler. ``temperature == 0`` is the argmax; top-k and top-p filter first (that path
    allocates). The returned ``(B,)`` tensor is a buffer: the next call overwrites it.
    """

    def __init__(self, temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0,
                 generator: torch.Generator | None = None, block: int = 256) -> None:
        check_sampling(temperature, top_k, top_p)
        self.temperature, self.top_k, self.top_p = float(temperature), int(top_k), float(top_p)
        self.generator, self.block = generator, block
        filtering = self.top_k or self.top_p < 1.0
        self._scale = 1.0 if filtering else self.temperature  # filtering divides the logits
        self._noise: Tensor | None = None  # (block, B, V), used row by row
        self._used = 0
        self._token: Tensor | None = None
        self._scratch: Tensor | None = None

    def __call__(self, logits: Tensor) -> Tensor:
        token = self._token
        if token is None or token.shape[0] != logits.shape[0]:
            token = self._token = torch.empty(logits.shape[0], dtype=torch.long)
        if self.temperature == 0:
            return torch.argmax(logits, -1, out=token)
        if self.top_k or self.top_p < 1.0:
            scores = filter_logits(logits / self.temperature, self.top_k, self.top_p)
            return torch.argmax(scores.add_(self._next_noise(logits)), -1, out=token)
        noise = self._next_noise(logits)
        scratch = self._scratch
        if scratch is None or scratch.shape != logits.shape or scratch.dtype != noise.dtype:
            scratch = self._scratch = torch.empty(logits.shape, dtype=noise.dtype)
        torch.add(logits, noise, out=scratch)
        return torch.argmax(scratch, -1, out=token)

    def _next_noise(self, logits: Tensor) -> Tensor:
        # float32 noise (float64 for float64 logits): a bf16 sum would make ties
        dtype = torch.float64 if logits.dtype == torch.float64 else torch.float32
        noise = self._noise
        if (noise is None or self._used == noise.shape[0] or noise.shape[1:] != logits.shape
                or noise.dtype != dtype):
            u = torch.rand(self.block, *logits.shape, generator=self.generator)
            # u = 0 gives -inf: that token is never drawn, as its probability 2^-24 allows
            noise = self._noise = u.log_().neg_().log_().neg_().mul_(self._scale).to(dtype)
            self._used = 0
        self._used += 1
        return noise[self._used - 1]
