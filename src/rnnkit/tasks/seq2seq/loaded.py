"""A trained seq2seq directory, opened: ``translate`` (outputs with their tokens, attention
and what was unknown or cut) and ``predict`` (the output texts)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from rnnkit.tasks import base
from rnnkit.tasks.seq2seq.decoding import DecodeOptions, attention_of, decode_ids
from rnnkit.tasks.seq2seq.model import Seq2Seq, Seq2SeqConfig
from rnnkit.tasks.seq2seq.tokens import Tokeniser, Vocab

TASK = "seq2seq"


@dataclass
class Translation:
    text: str
    tokens: list[str]  # the output's pieces
    source_tokens: list[str]  # the source's pieces as the model read them (after any cut)
    unknown: int  # source pieces the model does not know (read as <unk>)
    cut: bool  # the source was longer than the model's max_length and was cut
    attention: Tensor | None = None  # (len(tokens) + 1, len(source_tokens)): rows end with </s>

    def alignment(self) -> list[tuple[str, str, float]]:
        """Per output token (and ``</s>``): the source token it attends to most, and how much."""
        if self.attention is None:
            return []
        rows = []
        for token, weights in zip([*self.tokens, "</s>"], self.attention):
            best = int(weights.argmax())
            rows.append((token, self.source_tokens[best], float(weights[best])))
        return rows


class LoadedSeq2Seq:
    def __init__(self, model: Seq2Seq, config: Seq2SeqConfig, tokeniser: Tokeniser,
                 src_vocab: Vocab, tgt_vocab: Vocab, directory: Path | None = None) -> None:
        self.model, self.config, self.tokeniser = model, config, tokeniser
        self.src_vocab, self.tgt_vocab, self.directory = src_vocab, tgt_vocab, directory

    def encode(self, source: str) -> tuple[Tensor, list[str], int, bool]:
        pieces = self.tokeniser.split(source)
        cut = len(pieces) > self.config.max_length
        pieces = pieces[:self.config.max_length]
        ids, unknown = self.src_vocab.encode(pieces)
        return torch.tensor(ids or [self.src_vocab.unk], dtype=torch.long), pieces, unknown, cut

    def translate(self, sources: Sequence[str], options: DecodeOptions | None = None,
                  attention: bool = False) -> list[Translation]:
        """One :class:`Translation` per source (``attention=True``: with the weights)."""
        if isinstance(sources, str):
            sources = [sources]
        encoded = [self.encode(s) for s in sources]
        outputs = decode_ids(self.model, [e[0] for e in encoded], self.tgt_vocab, self.config,
                             options)
        results = []
        for (ids, pieces, unknown, cut), out in zip(encoded, outputs):
            tokens = self.tgt_vocab.decode(out)
            weights = attention_of(self.model, ids, out, self.tgt_vocab) if attention else None
            results.append(Translation(self.tokeniser.join(tokens), tokens, pieces, unknown, cut,
                                       weights))
        return results

    def predict(self, sources: Sequence[str], options: DecodeOptions | None = None
                ) -> list[str]:
        """The output text of each source (greedy unless ``options`` say otherwise)."""
        return [t.text for t in self.translate(sources, options)]


def build(saved: dict, directory: Path) -> LoadedSeq2Seq:
    config = Seq2SeqConfig.from_dict(saved["model"])
    src_vocab = Vocab.from_dict(saved["src_vocab"])
    tgt_vocab = Vocab.from_dict(saved["tgt_vocab"])
    base.check_size("the source vocabulary", len(src_vocab), config.src_vocab)
    base.check_size("the target vocabulary", len(tgt_vocab), config.tgt_vocab)
    tokeniser = Tokeniser.from_dict(saved["tokeniser"], directory)
    return LoadedSeq2Seq(Seq2Seq(config), config, tokeniser, src_vocab, tgt_vocab, directory)


def load(directory: str | Path) -> LoadedSeq2Seq:
    """Open a directory written by :func:`~rnnkit.tasks.seq2seq.fit`."""
    directory = Path(directory)
    loaded, _ = base.load_model(directory, TASK, lambda saved: build(saved, directory))
    return loaded
