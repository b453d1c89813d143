"""Decoding many sources at once: greedy, sampling (temperature, top-k, top-p) or beam search,
in batches of similar source length, each output capped at ``max_ratio * source length +
max_extra`` tokens; and the attention weights of any output (one teacher-forced pass over it,
so every decoder gets them the same way)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from rnnkit.data.batching import bucket_batches, pad
from rnnkit.decode.sampling import check_sampling, sample_next
from rnnkit.errors import ConfigError
from rnnkit.tasks.seq2seq.beam import beam_search
from rnnkit.tasks.seq2seq.model import Seq2Seq
from rnnkit.tasks.seq2seq.tokens import Vocab

METHODS = ("greedy", "sample", "beam")


@dataclass
class DecodeOptions:
    """How to decode. ``beam > 1`` means beam search; ``temperature > 0`` with ``sample``."""

    beam: int = 1
    alpha: float = 0.0  # length penalty ((5 + n) / 6) ** alpha (0: none)
    block_ngrams: int = 0  # forbid repeating any n-gram (0: off)
    sample: bool = False
    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0
    max_ratio: float = 2.0
    max_extra: int = 10
    batch: int = 64
    seed: int = 0

    def check(self) -> None:
        if self.beam < 1:
            raise ConfigError.bad("beam", f"must be at least 1 (1: greedy), got {self.beam}")
        if self.sample and self.beam > 1:
            raise ConfigError("sample and beam > 1 exclude each other; choose one",
                              parameters=("sample", "beam"))
        if self.sample:
            check_sampling(self.temperature, self.top_k, self.top_p)
        if self.max_ratio <= 0 or self.max_extra < 0 or self.batch < 1:
            raise ConfigError("max_ratio must be positive, max_extra >= 0 and batch >= 1",
                              parameters=("max_ratio", "max_extra", "batch"))
        if self.alpha < 0 or self.block_ngrams < 0:
            raise ConfigError("alpha and block_ngrams must be >= 0",
                              parameters=("alpha", "block_ngrams"))

    @property
    def method(self) -> str:
        return "beam" if self.beam > 1 else "sample" if self.sample else "greedy"


def cap(length: int, options: DecodeOptions, limit: int) -> int:
    """The most tokens an output of a source of ``length`` tokens may have."""
    return max(1, min(limit, math.ceil(options.max_ratio * length) + options.max_extra))


@torch.no_grad()
def _sample(model: Seq2Seq, src: Tensor, lengths: Tensor, vocab: Vocab, steps: int,
            options: DecodeOptions, generator: torch.Generator) -> list[list[int]]:
    state = model.encode(src, lengths)
    token = torch.full((src.size(0),), vocab.bos, dtype=torch.long)
    rows: list[list[int]] = [[] for _ in range(src.size(0))]
    done = torch.zeros(src.size(0), dtype=torch.bool)
    for _ in range(steps):
        logits, state, _ = model.step(token, state)
        token = sample_next(logits, options.temperature, options.top_k, options.top_p, generator)
        for b in torch.nonzero(~done).flatten().tolist():
            if int(token[b]) == vocab.eos:
                done[b] = True
            else:
                rows[b].append(int(token[b]))
        if done.all():
            break
    return rows


@torch.no_grad()
def decode_ids(model: Seq2Seq, sources: Sequence[Tensor], vocab: Vocab, config,
               options: DecodeOptions | None = None) -> list[list[int]]:
    """The output ids (without ``</s>``) for each source ``(S_i,)`` id tensor, in order."""
    options = options or DecodeOptions()
    options.check()
    model.eval()
    generator = torch.Generator().manual_seed(options.seed)
    outputs: list[list[int]] = [[] for _ in sources]
    lengths_all = [len(s) for s in sources]
    for pick in bucket_batches(lengths_all, options.batch, shuffle=False):
        src, lengths = pad([sources[i] for i in pick])
        caps = [cap(lengths_all[i], options, config.max_length) for i in pick]
        steps = max(caps)
        if options.beam > 1:
            rows, _ = beam_search(model, src, lengths, vocab.bos, vocab.eos, options.beam, steps,
                                  options.alpha, options.block_ngrams)
        elif options.sample:
            rows = _sample(model, src, lengths, vocab, steps, options, generator)
        else:
            rows, _ = model.greedy(src, lengths, vocab.bos, vocab.eos, steps)
        for i, row, most in zip(pick, rows, caps):
            outputs[i] = row[:most]
    return outputs


@torch.no_grad()
def attention_of(model: Seq2Seq, source: Tensor, output: Sequence[int], vocab: Vocab
                 ) -> Tensor | None:
    """The attention weights ``(len(output) + 1, S)`` of one output (its rows: each output
    token, then ``</s>``), None for the context-vector model."""
    if model.config.attention == "none":
        return None
    model.eval()
    tgt_in = torch.tensor([[vocab.bos, *output]], dtype=torch.long)
    _, weights = model(source[None], torch.tensor([len(source)]), tgt_in, return_weights=True)
    return weights[0]
