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
those of each sequence's last real step, and attention gives padding no weight. The decoder
half (bridge, decoder stack, attention, output; ``step``, teacher forcing, ``greedy``) is
:mod:`rnnkit.tasks.seq2seq.decoder`, shared with the image captioner.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from rnnkit.cells import cell_names
from rnnkit.config import Config, param
from rnnkit.errors import ConfigError
from rnnkit.layers import build_stack
from rnnkit.layers.attention import KINDS
from rnnkit.tasks.seq2seq.decoder import AttentionDecoder, State
from rnnkit.tasks.seq2seq.sampling import SCHEDULES
from rnnkit.tasks.seq2seq.tokens import LEVELS, SUBWORD_KINDS

__all__ = ["ATTENTIONS", "Seq2Seq", "Seq2SeqConfig", "State"]

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


class Seq2Seq(AttentionDecoder, nn.Module):
    """The encoder below; the decoder (``step``, teacher forcing, ``greedy``) is
    :class:`~rnnkit.tasks.seq2seq.decoder.AttentionDecoder`'s."""

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
        encoded = self.encoder.layers[0]
        encoded = encoded.forward_layer if c.bidirectional else encoded
        self.build_decoder(directions * (c.hidden // directions),
                           [directions * given for given in encoded.cell.state_sizes])

    def encode(self, src: Tensor, lengths: Tensor) -> State:
        """``src (B, S)`` ids and their ``lengths (B,)`` -> the decoder's first state."""
        outputs, finals = self.encoder(self.src_embedding(src), lengths=lengths)
        summaries = []
        for final in finals:  # per layer: (h, c...) or ((h, c...) forward, (h, c...) backward)
            parts = (zip(*final) if self.config.bidirectional else ((s,) for s in final))
            summaries += [torch.cat(pieces, -1) for pieces in parts]
        return self.start(summaries, outputs, lengths)

    def forward(self, src: Tensor, lengths: Tensor, tgt_in: Tensor,
                return_weights: bool = False, teacher: float = 1.0,
                generator: torch.Generator | None = None):
        """``tgt_in (B, T)`` (BOS, then the target without its last token) -> ``logits (B, T,
        V)`` (and the attention weights ``(B, T, S)``, None without attention); ``teacher``:
        :meth:`~rnnkit.tasks.seq2seq.decoder.AttentionDecoder.decode_forced`."""
        return self.decode_forced(self.encode(src, lengths), tgt_in, return_weights, teacher,
                                  generator)
