"""The decoder half of an encoder-decoder, shared by every model that writes tokens one at a time
while attending to a memory (:class:`~rnnkit.tasks.seq2seq.model.Seq2Seq` reads a source
sentence into it, :class:`~rnnkit.tasks.caption.model.Captioner` an image).

    initial state: the encoder's summary -> one linear map + tanh per state tensor and layer
                   (the bridge; what it reads is the encoder's business)
    decoder step t: [embedding(y_{t-1}); feed_{t-1}] -> decoder stack (Stack.step) -> h_t
            attention "none":                feed_t = h_t
            attention bahdanau/dot/general:  c_t, a_t = attend(h_t, memory);
                                             feed_t = tanh(W [h_t; c_t])   (Luong's attentional
                                             state; with input feeding it enters step t + 1)
            logits_t = output(dropout(feed_t))

:class:`AttentionDecoder` is a mixin, not a submodule, so that a model's parameters keep their
names (``decoder.*``, ``bridge.*``, ``attention.*``, ``combine.*``, ``output.*``): a model
using it builds ``tgt_embedding`` and calls :meth:`AttentionDecoder.build_decoder`, and its
``encode(src, lengths) -> State`` is all that differs. Its config has ``cell``, ``layers``,
``hidden``, ``embedding``, ``attention``, ``input_feeding``, ``dropout``, ``tie`` and
``tgt_vocab``. :func:`~rnnkit.tasks.seq2seq.beam.beam_search` and
:func:`~rnnkit.tasks.seq2seq.decoding.decode_ids` read only ``encode`` and ``step``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import Tensor, nn

from rnnkit.layers import Attention, build_stack
from rnnkit.layers.attention import Keys


class State(NamedTuple):
    """What a decoder step carries: the stack's states, the last attentional vector (fed to
    the next step), and the prepared memory (None for the context-vector model)."""

    stack: list
    feed: Tensor
    keys: Keys | None


class AttentionDecoder:
    """Mixin for an ``nn.Module`` with ``config`` and ``tgt_embedding``: the decoder's layers
    (:meth:`build_decoder`) and its behaviour (``step``, teacher forcing, ``greedy``)."""

    config: object
    tgt_embedding: nn.Embedding

    def build_decoder(self, key_size: int, bridge_from: int | Sequence[int]) -> None:
        """The decoder stack, the bridge (from ``bridge_from`` features: one size for every
        state tensor, or one per state tensor of a layer), attention over a memory of
        ``key_size`` features, the combination and the output layer."""
        c = self.config
        feeding = c.input_feeding and c.attention != "none"
        self.decoder = build_stack(c.cell, c.embedding + (c.hidden if feeding else 0), c.hidden,
                                   c.layers, dropout=c.dropout)
        self.state_sizes = self.decoder.layers[0].cell.state_sizes
        given = ([bridge_from] * len(self.state_sizes) if isinstance(bridge_from, int)
                 else list(bridge_from))
        self.bridge = nn.ModuleList(nn.Linear(g, wanted) for _ in range(c.layers)
                                    for g, wanted in zip(given, self.state_sizes))
        if c.attention != "none":
            self.attention = Attention(c.attention, c.hidden, key_size)
            self.combine = nn.Linear(c.hidden + key_size, c.hidden, bias=False)
        self.drop = nn.Dropout(c.dropout)
        self.output = nn.Linear(c.hidden, c.tgt_vocab)
        if c.tie:
            self.output.weight = self.tgt_embedding.weight

    def start(self, summaries: Sequence[Tensor], memory: Tensor, lengths: Tensor) -> State:
        """The first state: ``summaries`` (one ``(B, bridge_from)`` tensor per bridge, in
        layer-major order) through the bridge, and ``memory (B, S, key_size)`` of ``lengths``
        prepared for attention."""
        stack, k = [], 0
        for _ in range(self.config.layers):
            layer = []
            for _ in self.state_sizes:
                layer.append(torch.tanh(self.bridge[k](summaries[k])))
                k += 1
            stack.append(tuple(layer))
        keys = (self.attention.prepare(memory, lengths) if self.config.attention != "none"
                else None)
        return State(stack, memory.new_zeros(memory.size(0), self.config.hidden), keys)

    def step(self, token: Tensor, state: State) -> tuple[Tensor, State, Tensor | None]:
        """One target token per row, ``(B,)`` -> ``(logits (B, V), state, weights (B, S)``
        or None for the context-vector model)."""
        x = self.tgt_embedding(token)
        if self.config.attention != "none" and self.config.input_feeding:
            x = torch.cat([x, state.feed], -1)
        h, stack = self.decoder.step(x, state.stack)
        weights = None
        if state.keys is not None:
            context, weights = self.attention.step(h, state.keys)
            feed = torch.tanh(self.combine(torch.cat([h, context], -1)))
        else:
            feed = h
        return self.output(self.drop(feed)), State(stack, feed, state.keys), weights

    @property
    def feeds_back(self) -> bool:
        """Whether a step reads the previous step's attentional vector (input feeding): then
        even teacher forcing must decode one step at a time."""
        return self.config.attention != "none" and self.config.input_feeding

    def decode_forced(self, state: State, tgt_in: Tensor, return_weights: bool = False,
                      teacher: float = 1.0, generator: torch.Generator | None = None):
        """From the first ``state``: ``tgt_in (B, T)`` -> ``logits (B, T, V)`` (and the
        attention weights ``(B, T, S)``, None without attention). ``teacher`` is the probability
        of feeding the true previous token at each step and row (scheduled sampling); else the
        model's own best guess is fed. At 1 without input feeding the decoder stack reads the
        whole target in one pass (the same numbers as stepping, tested)."""
        if teacher >= 1.0 and not self.feeds_back:
            return self._parallel(state, tgt_in, return_weights)
        logits, weights = [], []
        token = tgt_in[:, 0]
        for t in range(tgt_in.size(1)):
            out, state, w = self.step(token, state)
            logits.append(out)
            weights.append(w)
            if t + 1 < tgt_in.size(1):
                token = tgt_in[:, t + 1]
                if teacher < 1.0:
                    coin = torch.rand(token.shape, generator=generator, device=token.device)
                    token = torch.where(coin < teacher, token, out.detach().argmax(-1))
        stacked = torch.stack(logits, 1)
        if not return_weights:
            return stacked
        return stacked, (torch.stack(weights, 1) if weights[0] is not None else None)

    def _parallel(self, state: State, tgt_in: Tensor, return_weights: bool):
        """Teacher forcing without input feeding: the decoder stack over all steps at once,
        then attention over all steps at once."""
        hidden, _ = self.decoder(self.tgt_embedding(tgt_in), state.stack)
        weights = None
        if state.keys is not None:
            context, weights = self.attention.sequence(hidden, state.keys)
            hidden = torch.tanh(self.combine(torch.cat([hidden, context], -1)))
        logits = self.output(self.drop(hidden))
        return (logits, weights) if return_weights else logits

    @torch.no_grad()
    def greedy(self, src: Tensor, lengths: Tensor, bos: int, eos: int, max_length: int
               ) -> tuple[list[list[int]], list[Tensor | None]]:
        """The most likely token at every step until ``eos`` (not included) or ``max_length``:
        per row the tokens and the attention weights ``(T, S_i)`` over the row's real memory
        positions (None without attention)."""
        state = self.encode(src, lengths)
        batch = state.feed.size(0)
        token = torch.full((batch,), bos, dtype=torch.long, device=src.device)
        done = torch.zeros(batch, dtype=torch.bool, device=src.device)
        tokens, weights = [], []
        for _ in range(max_length):
            logits, state, w = self.step(token, state)
            token = logits.argmax(-1)
            tokens.append(token)
            weights.append(w)
            done |= token == eos
            if done.all():
                break
        ids = torch.stack(tokens, 1).tolist()
        rows, maps = [], []
        for b, row in enumerate(ids):
            n = row.index(eos) if eos in row else len(row)
            rows.append(row[:n])
            real = int(state.keys.mask[b].sum()) if state.keys is not None else 0
            maps.append(torch.stack([w[b, :real] for w in weights[:n]])
                        if weights[0] is not None and n else None)
        return rows, maps
