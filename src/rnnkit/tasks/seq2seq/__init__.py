"""Sequence-to-sequence (issue 12, in progress): the encoder-decoder model with attention
(:mod:`rnnkit.tasks.seq2seq.model`). The task (data, training, decoding, metrics, CLI) is not
built yet, so the package is not in the task registry."""

from rnnkit.tasks.seq2seq.model import ATTENTIONS, Seq2Seq, Seq2SeqConfig

__all__ = ["ATTENTIONS", "Seq2Seq", "Seq2SeqConfig"]
