"""The captioner: a convolutional encoder reads an image into a memory of columns, an RNN decoder
writes its words one at a time while attending to them (Xu et al. 2015, "Show, Attend and
Tell", with the CTC task's front end and seq2seq's decoder).

    image (B, H, W) --ImageFrontEnd (conv blocks, exact lengths)--> columns (B, W', F)
        --bidirectional rnnkit stack (encoder_layers; 0: none)--> memory (B, W', K)
    initial state: the mean of each image's real memory columns -> one linear map + tanh per
                   decoder state tensor and layer (Show, Attend and Tell's init)
    decoder: :class:`~rnnkit.tasks.seq2seq.decoder.AttentionDecoder`, the one seq2seq uses:
             [embedding(y_{t-1}); feed] -> decoder stack -> h_t; attention over the memory;
             feed_t = tanh(W [h_t; c_t]); logits_t = output(feed_t)
             (attention "none": the context-vector model, the mean memory is all it sees)

Inputs follow rnnkit's batch-first ``(B, T, F)`` convention: an image enters as its sequence of
pixel columns ``(B, W, H)`` with its widths as the lengths, so seq2seq's padding, bucketing,
``decode_ids``, ``beam_search`` and ``attention_of`` take images unchanged. Padding columns
get no attention weight and do not enter the mean, so a padded image reads as it does alone
(in eval mode: batch norm in training pools its statistics over the batch).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from rnnkit.cells import cell_names
from rnnkit.config import Config, param
from rnnkit.errors import ConfigError
from rnnkit.layers import build_stack
from rnnkit.layers.masks import lengths_to_mask
from rnnkit.tasks.ctc.frontend import ImageFrontEnd, parse_ints, parse_pools
from rnnkit.tasks.seq2seq.decoder import AttentionDecoder, State
from rnnkit.tasks.seq2seq.model import ATTENTIONS
from rnnkit.tasks.seq2seq.sampling import SCHEDULES


@dataclass
class CaptionConfig(Config):
    channels: str = param("32,64,128", "convolution channels per block")
    pools: str = param("2x2,2x2,2x1", "max pooling per block, height x width")
    norm: bool = param(True, "batch norm after each convolution")
    height: int = param(32, "images are scaled to this height")
    encoder_layers: int = param(1, "bidirectional recurrent layers over the columns (0: the "
                                "front end's columns are the memory)")
    cell: str = param("lstm", "the recurrent cell of the encoder and the decoder",
                      choices=cell_names)
    layers: int = param(1, "layers of the decoder")
    hidden: int = param(128, "hidden units of the decoder and of the encoder (half per "
                        "direction)")
    embedding: int = param(64, "embedding size of the words")
    attention: str = param("general", "none (the context-vector model), bahdanau, dot or "
                           "general", choices=ATTENTIONS)
    input_feeding: bool = param(False, "feed the last attentional state into the next step "
                                "(training then steps one word at a time)")
    dropout: float = param(0.2, "dropout between layers and before the output")
    tie: bool = param(False, "the output layer shares the word embedding's weights")
    max_length: int = param(16, "words per caption, with </s>: longer targets are cut "
                            "(and counted), outputs stop there")
    batch: int = param(32, "images per batch (bucketed by width)")
    teacher: float = param(1.0, "teacher forcing: the probability of feeding the true previous "
                           "word (with a decaying schedule: the ratio it decays to)")
    teacher_schedule: str = param("constant", "scheduled sampling: how the ratio falls from 1 "
                                  "to teacher over training", choices=SCHEDULES)
    label_smoothing: float = param(0.0, "label smoothing of the loss")
    eval_pairs: int = param(200, "validation images captioned greedily at each evaluation "
                            "(exact match; 0: none)")
    tgt_vocab: int = param(0, "filled in from the data", cli=False)

    def check(self) -> None:
        super().check()
        self.require_positive("layers", "hidden", "embedding", "height", "batch", "max_length")
        self.require_at_least("encoder_layers", 0)
        self.require_at_least("eval_pairs", 0)
        self.require_fraction("dropout")
        self.require_fraction("teacher", closed=True)
        self.require_fraction("label_smoothing")
        if self.height < 8:
            raise ConfigError.bad("height", f"must be at least 8 pixels, got {self.height}")
        if self.encoder_layers and self.hidden % 2:
            raise ConfigError(f"hidden must be even for the bidirectional encoder (half per "
                              f"direction), got {self.hidden}", parameters=("hidden",))
        if self.teacher_schedule != "constant" and self.teacher >= 1.0:
            raise ConfigError(f"the {self.teacher_schedule} schedule decays the teacher ratio "
                              "from 1 to teacher: give teacher below 1 (e.g. 0.5)",
                              parameters=("teacher", "teacher_schedule"))
        if self.tie and self.embedding != self.hidden:
            raise ConfigError(f"tie needs embedding == hidden, got {self.embedding} and "
                              f"{self.hidden}", parameters=("tie", "embedding", "hidden"))
        channels, pools = self.blocks()
        if len(channels) != len(pools):
            raise ConfigError(f"channels has {len(channels)} blocks but pools has "
                              f"{len(pools)}; give one pool per block",
                              parameters=("channels", "pools"))

    def blocks(self) -> tuple[tuple[int, ...], tuple[tuple[int, int], ...]]:
        return parse_ints(self.channels, "channels"), parse_pools(self.pools, "pools")


class Captioner(AttentionDecoder, nn.Module):
    def __init__(self, config: CaptionConfig) -> None:
        super().__init__()
        c = self.config = config
        if c.tgt_vocab <= 0:
            raise ValueError("tgt_vocab must be set (from the data) first")
        self.front = ImageFrontEnd(c.height, *c.blocks(), norm=c.norm)
        key_size = self.front.features
        if c.encoder_layers:
            self.encoder = build_stack(c.cell, key_size, c.hidden // 2, c.encoder_layers,
                                       bidirectional=True, dropout=c.dropout)
            key_size = 2 * (c.hidden // 2)
        self.tgt_embedding = nn.Embedding(c.tgt_vocab, c.embedding)
        self.build_decoder(key_size, key_size)

    def memory(self, src: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        """Images as columns ``src (B, W, H)`` of ``lengths (B,)`` (their widths) -> the memory
        ``(B, W', K)`` and its lengths ``(B,)``."""
        if src.size(-1) != self.config.height:
            raise ValueError(f"images must be {self.config.height} pixels high, got "
                             f"{src.size(-1)}")
        columns, n = self.front(src.transpose(1, 2), lengths)
        if self.config.encoder_layers:
            columns, _ = self.encoder(columns, lengths=n)
        return columns, n

    def encode(self, src: Tensor, lengths: Tensor) -> State:
        """Images as columns ``src (B, W, H)`` and their widths -> the decoder's first state."""
        memory, n = self.memory(src, lengths)
        real = lengths_to_mask(n, memory.size(1)).unsqueeze(-1).to(memory.dtype)  # (B, W', 1)
        mean = (memory * real).sum(1) / n.clamp(min=1).unsqueeze(-1).to(memory.dtype)
        return self.start([mean] * len(self.bridge), memory, n)

    def forward(self, src: Tensor, lengths: Tensor, tgt_in: Tensor,
                return_weights: bool = False, teacher: float = 1.0,
                generator: torch.Generator | None = None):
        """``tgt_in (B, T)`` (BOS, then the words without the last) -> ``logits (B, T, V)``
        (and the attention weights over the memory ``(B, T, W')``, None without attention)."""
        return self.decode_forced(self.encode(src, lengths), tgt_in, return_weights, teacher,
                                  generator)
