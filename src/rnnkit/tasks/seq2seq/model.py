"""The encoder-decoder: an rnnkit stack reads the source, another writes the target step by step.

    source ids (B, S) --embedding--> encoder stack (bidirectional: hidden / 2 per direction,
                                     as OpenNMT does) --> outputs (B, S, hidden)
                                                                           \\-> final states
    bridge: the encoder's final states (both directions concatenated) -> the decoder's initial
            state, one linear map + tanh per state tensor and layer (the plain context-vector
            model passes nothing else)
    decoder step t: [embedding(y_{t-1}); feed_{t-1}] -> decoder stack (Stack.step) -> h_t
            attention "none":                feed_t = h_t
            attention bahdanau/dot/general:  c_t, a_t = attend(h_t, outputs);
                                             feed_t = tanh(W [h_t; c_t])   (Luong's attentional
                                             state; with input feeding it enters step t + 1)
            logits_t = output(dropout(feed_t))

The source's lengths are respected everywhere: the encoder is masked, its final states are
those of each sequence's last real step, and attention gives padding no weight.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import Tensor, nn

from rnnkit.cells import cell_names
from rnnkit.config import Config, param
from rnnkit.errors import ConfigError
from rnnkit.layers import Attention, build_stack
from rnnkit.layers.attention import KINDS, Keys

ATTENTIONS = ("none", *KINDS)


@dataclass
class Seq2SeqConfig(Config):
    cell: str = param("lstm", "the recurrent cell of both stacks", choices=cell_names)
    layers: int = param(1, "layers of the encoder and of the decoder")
    hidden: int = param(256, "hidden units of the decoder and of the encoder (split between "
                        "its two directions when bidirectional)")
    embedding: int = param(128, "embedding size of source and target tokens")
    bidirectional: bool = param(True, "read the source both ways")
    attention: str = param("bahdanau", "none (the context-vector model), bahdanau, dot or "
                           "general", choices=ATTENTIONS)
    input_feeding: bool = param(True, "feed the last attentional state into the next step")
    dropout: float = param(0.2, "dropout between layers and before the output")
    share_embeddings: bool = param(False, "one embedding for source and target (one vocabulary)")
    tie: bool = param(False, "the output layer shares the target embedding's weights")
    src_vocab: int = param(0, "filled in from the data", cli=False)
    tgt_vocab: int = param(0, "filled in from the data", cli=False)

    def check(self) -> None:
        super().check()
        self.require_positive("layers", "hidden", "embedding")
        self.require_fraction("dropout")
        if self.bidirectional and self.hidden % 2:
            raise ConfigError(f"hidden must be even for a bidirectional encoder (half per "
                              f"direction), got {self.hidden}", parameters=("hidden",))
        if self.tie and self.embedding != self.hidden:
            raise ConfigError(f"tie needs embedding == hidden (the output layer is the "
                              f"embedding's transpose), got {self.embedding} and {self.hidden}",
                              parameters=("tie", "embedding", "hidden"))


class State(NamedTuple):
    """What a decoder step carries: the stack's states, the last attentional vector (fed to
    the next step), and the prepared source (None for the context-vector model)."""

    stack: list
    feed: Tensor
    keys: Keys | None


class Seq2Seq(nn.Module):
    def __init__(self, config: Seq2SeqConfig) -> None:
        super().__init__()
        c = self.config = config
        if c.src_vocab <= 0 or c.tgt_vocab <= 0:
            raise ValueError("src_vocab and tgt_vocab must be set (from the data) first")
        directions = 2 if c.bidirectional else 1
        self.src_embedding = nn.Embedding(c.src_vocab, c.embedding)
        self.tgt_embedding = (self.src_embedding if c.share_embeddings
                              else nn.Embedding(c.tgt_vocab, c.embedding))
        self.encoder = build_stack(c.cell, c.embedding, c.hidden // directions, c.layers,
                                   bidirectional=c.bidirectional, dropout=c.dropout)
        feeding = c.input_feeding and c.attention != "none"
        self.decoder = build_stack(c.cell, c.embedding + (c.hidden if feeding else 0), c.hidden,
                                   c.layers, dropout=c.dropout)
        cell = self.decoder.layers[0].cell
        self.state_sizes = cell.state_sizes
        encoded = self.encoder.layers[0]
        encoded = encoded.forward_layer if c.bidirectional else encoded
        self.bridge = nn.ModuleList(nn.Linear(directions * given, wanted)
                                    for _ in range(c.layers)
                                    for given, wanted in zip(encoded.cell.state_sizes,
                                                             self.state_sizes))
        key_size = directions * (c.hidden // directions)
        if c.attention != "none":
            self.attention = Attention(c.attention, c.hidden, key_size)
            self.combine = nn.Linear(c.hidden + key_size, c.hidden, bias=False)
        self.drop = nn.Dropout(c.dropout)
        self.output = nn.Linear(c.hidden, c.tgt_vocab)
        if c.tie:
            self.output.weight = self.tgt_embedding.weight

    # -- encoding ---------------------------------------------------------------------------
    def encode(self, src: Tensor, lengths: Tensor) -> State:
        """``src (B, S)`` ids and their ``lengths (B,)`` -> the decoder's first state."""
        outputs, finals = self.encoder(self.src_embedding(src), lengths=lengths)
        stack, k = [], 0
        for final in finals:  # per layer: (h, c...) or ((h, c...) forward, (h, c...) backward)
            parts = (zip(*final) if self.config.bidirectional else ((s,) for s in final))
            layer_state = []
            for pieces in parts:
                layer_state.append(torch.tanh(self.bridge[k](torch.cat(pieces, -1))))
                k += 1
            stack.append(tuple(layer_state))
        keys = (self.attention.prepare(outputs, lengths) if self.config.attention != "none"
                else None)
        feed = outputs.new_zeros(src.size(0), self.config.hidden)
        return State(stack, feed, keys)

    # -- decoding ---------------------------------------------------------------------------
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

    def forward(self, src: Tensor, lengths: Tensor, tgt_in: Tensor,
                return_weights: bool = False):
        """Teacher forcing: ``tgt_in (B, T)`` (BOS then the target without its last token) ->
        ``logits (B, T, V)`` (and the attention weights ``(B, T, S)``)."""
        state = self.encode(src, lengths)
        logits, weights = [], []
        for t in range(tgt_in.size(1)):
            out, state, w = self.step(tgt_in[:, t], state)
            logits.append(out)
            weights.append(w)
        stacked = torch.stack(logits, 1)
        if not return_weights:
            return stacked
        return stacked, (torch.stack(weights, 1) if weights[0] is not None else None)

    @torch.no_grad()
    def greedy(self, src: Tensor, lengths: Tensor, bos: int, eos: int, max_length: int
               ) -> tuple[list[list[int]], list[Tensor | None]]:
        """The most likely token at every step until ``eos`` (not included) or ``max_length``:
        per row the tokens and the attention weights ``(T, S_i)`` (None without attention)."""
        state = self.encode(src, lengths)
        token = torch.full((src.size(0),), bos, dtype=torch.long, device=src.device)
        done = torch.zeros(src.size(0), dtype=torch.bool, device=src.device)
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
            maps.append(torch.stack([w[b, : int(lengths[b])] for w in weights[:n]])
                        if weights[0] is not None and n else None)
        return rows, maps
