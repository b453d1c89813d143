"""Sequence to sequence: an encoder RNN reads the source, a decoder RNN writes the target one
token at a time (with attention or from the context vector alone), the Python API that the
``rnnkit seq2seq`` commands mirror.

``fit`` trains on a synthetic task (``addition``, ``reverse``, ``sort``), the ``bible-en-es``
corpus or a file of pairs into a model directory and scores it beside the copy and
nearest-neighbour baselines; ``load`` opens a directory (its ``translate`` and ``predict``);
``evaluate`` scores a model on other data or another part.

The package: ``model`` (the network and its config), ``decoder`` (its decoder half, shared
with the image captioner), ``beam`` (batched beam search), ``decoding`` (greedy, sampling, beam,
attention), ``tokens`` (char / word / SentencePiece tokens and vocabularies), ``data`` and
``parts`` (pairs and splits), ``sampling`` (scheduled sampling and the loss), ``task`` (the
training task), ``scores`` (sacrebleu's BLEU and chrF), ``baselines``, ``loaded``, ``training``
(``fit``, ``evaluate``).
"""

from rnnkit.tasks.seq2seq.baselines import NearestNeighbour, copy_source
from rnnkit.tasks.seq2seq.beam import beam_search
from rnnkit.tasks.seq2seq.data import SYNTHETIC, read_pairs, split_pairs, synthetic
from rnnkit.tasks.seq2seq.decoding import DecodeOptions
from rnnkit.tasks.seq2seq.loaded import LoadedSeq2Seq, Translation, load
from rnnkit.tasks.seq2seq.model import ATTENTIONS, Seq2Seq, Seq2SeqConfig
from rnnkit.tasks.seq2seq.parts import BIBLE, ReadOptions, read_parts
from rnnkit.tasks.seq2seq.scores import text_scores
from rnnkit.tasks.seq2seq.tokens import Tokeniser, Vocab
from rnnkit.tasks.seq2seq.training import (
    PARTS,
    default_train_config,
    evaluate,
    explain_picture,
    fit,
)

__all__ = [
    "ATTENTIONS",
    "BIBLE",
    "PARTS",
    "SYNTHETIC",
    "DecodeOptions",
    "LoadedSeq2Seq",
    "NearestNeighbour",
    "ReadOptions",
    "Seq2Seq",
    "Seq2SeqConfig",
    "Tokeniser",
    "Translation",
    "Vocab",
    "beam_search",
    "copy_source",
    "default_train_config",
    "evaluate",
    "explain_picture",
    "fit",
    "load",
    "read_pairs",
    "read_parts",
    "split_pairs",
    "synthetic",
    "text_scores",
]
