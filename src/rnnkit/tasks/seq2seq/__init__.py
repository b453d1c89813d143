"""Sequence-to-sequence (issue 12, in progress): the encoder-decoder model with attention
(:mod:`rnnkit.tasks.seq2seq.model`) and batched beam search (:mod:`rnnkit.tasks.seq2seq.beam`).
The task (data, training, sampling, metrics, CLI) is not built yet, so the package is not in
the task registry."""

from rnnkit.tasks.seq2seq.beam import beam_search
from rnnkit.tasks.seq2seq.model import ATTENTIONS, Seq2Seq, Seq2SeqConfig

__all__ = ["ATTENTIONS", "Seq2Seq", "Seq2SeqConfig", "beam_search"]
