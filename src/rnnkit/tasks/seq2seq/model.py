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
from rnnkit.tasks.seq2seq.sampling import SCHEDULES
from rnnkit.tasks.seq2seq.tokens import LEVELS, SUBWORD_KINDS

ATTENTIONS = ("none", *KINDS)


@dataclass
class Seq2SeqConfig(Config):
    cell: str = param("lstm", "the recurrent cell of both stacks", choices=cell_names)
    layers: int = param(1, "layers of the encoder and of the decoder")
    hidden: int = param(256, "hidden units of the decoder and of the encoder (split between "
                        "its two directions when bidirectional)")
    embedding: int = param(128, "embedding size of source and target tokens")
    bidirectional: bool = param(True, "read the source both ways")
    # general (Luong) without input feeding by default: the decoder then reads the whole target
    # in one pass in training and attention is two matmuls, 2.3-3.7x the speed of a step-by-step
    # decoder on 2 cores (bench/seq2seq_synthetic.py, bench/seq2seq_bible.py)
    attention: str = param("general", "none (the context-vector model), bahdanau, dot or "
                           "general", choices=ATTENTIONS)
    input_feeding: bool = param(False, "feed the last attentional state into the next step "
                                "(OpenNMT's default; training then steps one token at a time)")
    dropout: float = param(0.2, "dropout between layers and before the output")
    share_embeddings: bool = param(False, "one embedding for source and target (one vocabulary)")
    tie: bool = param(False, "the output layer shares the target embedding's weights")
    level: str = param("char", "tokens: char, word or subword (SentencePiece, trained on the "
                       "training split)", choices=LEVELS)
    subword: str = param("bpe", "the subword model", choices=SUBWORD_KINDS)
    vocab_size: int = param(4000, "subword: pieces to learn; word: the most frequent words "
                            "kept (0: all)")
    min_count: int = param(1, "word: keep words seen at least this often")
    max_length: int = param(256, "tokens per side: longer sources and targets are cut (and "
                            "counted)")
    batch: int = param(64, "pairs per batch (bucketed by source length)")
    teacher: float = param(1.0, "teacher forcing: the probability of feeding the true previous "
                           "token (with a decaying schedule: the ratio it decays to)")
    teacher_schedule: str = param("constant", "scheduled sampling: how the ratio falls from 1 "
                                  "to teacher over training", choices=SCHEDULES)
    label_smoothing: float = param(0.0, "label smoothing of the loss")
    eval_pairs: int = param(256, "validation pairs decoded greedily at each evaluation (exact "
                            "match, free running; 0: none)")
    src_vocab: int = param(0, "filled in from the data", cli=False)
    tgt_vocab: int = param(0, "filled in from the data", cli=False)

    def check(self) -> None:
        super().check()
        self.require_positive("layers", "hidden", "embedding")
        self.require_fraction("dropout")
        if self.bidirectional and self.hidden % 2:
            raise ConfigError(f"hidden must be even for a bidirectional encoder (half per "
                              f"direction), got {self.hidden}", parameters=("hidden",))
        self.require_positive("max_length", "batch", "min_count")
        self.require_at_least("vocab_size", 0)
        self.require_at_least("eval_pairs", 0)
        self.require_fraction("teacher", closed=True)
        self.require_fraction("label_smoothing")
        if self.teacher_schedule != "constant" and self.teacher >= 1.0:
            raise ConfigError(f"the {self.teacher_schedule} schedule decays the teacher ratio "
                              "from 1 to teacher: give teacher below 1 (e.g. 0.5)",
                              parameters=("teacher", "teacher_schedule"))
        if self.level == "subword" and self.vocab_size < 8:
            raise ConfigError.bad("vocab_size", f"subword models need at least 8 pieces, got "
                                                f"{self.vocab_size}")
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

    @property
    def feeds_back(self) -> bool:
        """Whether a step reads the previous step's attentional vector (input feeding): then
        even teacher forcing must decode one step at a time."""
        return self.config.attention != "none" and self.config.input_feeding

    def forward(self, src: Tensor, lengths: Tensor, tgt_in: Tensor,
                return_weights: bool = False, teacher: float = 1.0,
                generator: torch.Generator | None = None):
        """``tgt_in (B, T)`` (BOS, then the target without its last token) -> ``logits (B, T,
        V)`` (and the attention weights ``(B, T, S)``, None without attention).

        ``teacher`` is the probability of feeding the true previous token at each step and
        row (scheduled sampling); otherwise the model's own best guess is fed. At 1 without
        input feeding the decoder stack reads the whole target in one pass (the same numbers
        as stepping, tested)."""
        state = self.encode(src, lengths)
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
