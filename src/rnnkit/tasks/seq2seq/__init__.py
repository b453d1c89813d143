"""Sequence-to-sequence (issue 12, in progress): the encoder-decoder model with attention
(:mod:`~rnnkit.tasks.seq2seq.model`), batched beam search (:mod:`~rnnkit.tasks.seq2seq.beam`),
the synthetic tasks and a reader of pairs files (:mod:`~rnnkit.tasks.seq2seq.data`),
scheduled-sampling schedules and the smoothed loss (:mod:`~rnnkit.tasks.seq2seq.sampling`) and
the copy / nearest-neighbour baselines (:mod:`~rnnkit.tasks.seq2seq.baselines`). The task itself
(fit, load, the training task, tokenisers, BLEU/chrF, the bible-en-es corpus, the CLI) is not
built yet, so the package is not in the task registry."""

from rnnkit.tasks.seq2seq.beam import beam_search
from rnnkit.tasks.seq2seq.model import ATTENTIONS, Seq2Seq, Seq2SeqConfig

__all__ = ["ATTENTIONS", "Seq2Seq", "Seq2SeqConfig", "beam_search"]
