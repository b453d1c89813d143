"""Attention of a decoder step over an encoder's outputs, for sequence-to-sequence models.

``Attention(kind, query_size, key_size)`` scores every encoder position ``s`` against the
decoder's state ``q`` and returns the softmax-weighted sum of the encoder outputs::

    bahdanau  (additive)   score(q, k_s) = v . tanh(W_q q + W_k k_s)        (Bahdanau et al. 2015)
    dot       (Luong)      score(q, k_s) = q . k_s                           (Luong et al. 2015)
    general   (Luong)      score(q, k_s) = q . (W k_s)

    weights = softmax over the valid positions,  context = sum_s weights_s k_s

Padding never receives weight (``mask`` or ``lengths``), and a row without any valid position
gets zero weights and a zero context rather than NaNs. The key side of the score does not
depend on the decoder step: :meth:`Attention.prepare` computes it once per source batch
(``W_k k`` or ``W k``), and every step of a decoder reuses it.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

from rnnkit.layers.masks import lengths_to_mask

KINDS = ("bahdanau", "dot", "general")


class Keys(NamedTuple):
    """An encoder's outputs ready to be attended to: ``values (B, S, K)``, their projection
    for the score (``(B, S, A)``; the values themselves for ``dot``) and ``mask (B, S)``."""

    values: Tensor
    projected: Tensor
    mask: Tensor


class Attention(nn.Module):
    """``prepare(keys, lengths|mask)`` once, then ``step(query, prepared)`` per decoder step:
    ``query (B, Q) -> (context (B, K), weights (B, S))``; ``forward`` does both."""

    def __init__(self, kind: str, query_size: int, key_size: int, attention_size: int = 0):
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"attention kind must be one of {', '.join(KINDS)}, got {kind!r}")
        if kind == "dot" and query_size != key_size:
            raise ValueError(f"dot attention needs query_size == key_size, got {query_size} "
                             f"and {key_size}; use 'general' or 'bahdanau'")
        self.kind, self.query_size, self.key_size = kind, query_size, key_size
        self.attention_size = attention_size or query_size
        if kind == "bahdanau":
            self.query_layer = nn.Linear(query_size, self.attention_size, bias=False)
            self.key_layer = nn.Linear(key_size, self.attention_size, bias=True)
            self.energy = nn.Linear(self.attention_size, 1, bias=False)
        elif kind == "general":
            self.key_layer = nn.Linear(key_size, query_size, bias=False)

    def prepare(self, keys: Tensor, lengths: Tensor | None = None,
                mask: Tensor | None = None) -> Keys:
        """``keys (B, S, K)`` with their ``lengths (B,)`` or ``mask (B, S)`` (default: all
        valid) -> what :meth:`step` reads at every decoder step."""
        if keys.dim() != 3 or keys.size(-1) != self.key_size:
            raise ValueError(f"keys must have shape (batch, source, {self.key_size}), got "
                             f"{tuple(keys.shape)}")
        B, S, _ = keys.shape
        if mask is None:
            mask = (lengths_to_mask(lengths.to(keys.device), S) if lengths is not None
                    else torch.ones(B, S, dtype=torch.bool, device=keys.device))
        elif mask.shape != (B, S):
            raise ValueError(f"mask must have shape {(B, S)}, got {tuple(mask.shape)}")
        projected = keys if self.kind == "dot" else self.key_layer(keys)
        return Keys(keys, projected, mask.bool())

    def step(self, query: Tensor, keys: Keys) -> tuple[Tensor, Tensor]:
        """``query (B, Q)`` -> ``(context (B, K), weights (B, S))``: :meth:`sequence` of one."""
        if query.dim() != 2 or query.size(-1) != self.query_size:
            raise ValueError(f"a query must have shape (batch, {self.query_size}), got "
                             f"{tuple(query.shape)}")
        context, weights = self.sequence(query[:, None], keys)
        return context[:, 0], weights[:, 0]

    def sequence(self, queries: Tensor, keys: Keys, chunk: int = 1 << 23
                 ) -> tuple[Tensor, Tensor]:
        """Every query of ``queries (B, T, Q)`` at once (a decoder that does not feed its
        attention back): ``(contexts (B, T, K), weights (B, T, S))``, equal to :meth:`step` at
        each ``t``. Additive attention goes in slices of ``t`` so that its ``(B, t, S, A)``
        energies stay under ``chunk`` numbers."""
        if queries.dim() != 3 or queries.size(-1) != self.query_size:
            raise ValueError(f"queries must have shape (batch, steps, {self.query_size}), got "
                             f"{tuple(queries.shape)}")
        if self.kind == "bahdanau":
            B, S, A = keys.projected.shape
            size = max(1, chunk // max(1, B * S * A))
            parts = []
            for start in range(0, queries.size(1), size):
                q = self.query_layer(queries[:, start:start + size])  # (B, t, A)
                energy = torch.tanh(keys.projected[:, None] + q[:, :, None])  # (B, t, S, A)
                parts.append(self.energy(energy).squeeze(-1))
            scores = torch.cat(parts, 1)
        else:
            scores = torch.bmm(queries, keys.projected.transpose(1, 2))  # (B, T, S)
        weights = masked_softmax(scores, keys.mask[:, None])
        return torch.bmm(weights, keys.values), weights

    def forward(self, query: Tensor, keys: Tensor, lengths: Tensor | None = None,
                mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        return self.step(query, self.prepare(keys, lengths, mask))

    def extra_repr(self) -> str:
        return f"{self.kind}, query {self.query_size}, key {self.key_size}"


def masked_softmax(scores: Tensor, mask: Tensor) -> Tensor:
    """Softmax of ``scores (B, S)`` over the positions where ``mask`` is True; a row with none
    gets zeros (not NaN), and its gradient is zero too."""
    filled = scores.masked_fill(~mask, float("-inf"))
    empty = ~mask.any(-1, keepdim=True)
    filled = filled.masked_fill(empty, 0.0)  # a row of -inf would give NaN
    return torch.softmax(filled, dim=-1).masked_fill(~mask, 0.0)
