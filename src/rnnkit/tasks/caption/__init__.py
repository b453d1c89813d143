"""Image captioning: a convolutional encoder reads an image into a memory of columns, and an RNN
decoder with attention writes its words (the CNN encoder -> RNN decoder of Show, Attend and
Tell), on real handwriting: an image of a string of MNIST digits is captioned with the digits'
words ("three one four").

``fit`` trains on ``mnist-strings``, ``digits-strings`` or a CSV listing of ``file,text``
images, beside the same network without attention (the context-vector model) at the same
budget, and scores both with BLEU, word accuracy and exact match (greedy and beam search);
``load`` opens a directory (``caption``, ``predict``); ``evaluate`` scores a model on another
part or other data.

The package reuses the other tasks rather than copying them: the image front end of
:mod:`rnnkit.tasks.ctc` (and its datasets and splits), and the decoder half of
:mod:`rnnkit.tasks.seq2seq` (:class:`~rnnkit.tasks.seq2seq.decoder.AttentionDecoder`), its
training task, beam search, decoding and BLEU. Its own modules: ``model`` (the captioner and
its config), ``task`` (words, encoding, the training task, the scores), ``loaded``,
``training`` (``fit``, ``evaluate``).
"""

from rnnkit.tasks.caption.loaded import Caption, LoadedCaptioner, load
from rnnkit.tasks.caption.model import CaptionConfig, Captioner
from rnnkit.tasks.caption.task import DIGIT_WORDS, caption_scores, to_words
from rnnkit.tasks.caption.training import (
    BASELINE,
    BEAM,
    DATASETS,
    PARTS,
    default_train_config,
    evaluate,
    explain_picture,
    fit,
    score,
)
from rnnkit.tasks.ctc.parts import ReadOptions
from rnnkit.tasks.seq2seq.decoding import DecodeOptions

__all__ = [
    "BASELINE",
    "BEAM",
    "DATASETS",
    "DIGIT_WORDS",
    "PARTS",
    "Caption",
    "CaptionConfig",
    "Captioner",
    "DecodeOptions",
    "LoadedCaptioner",
    "ReadOptions",
    "caption_scores",
    "default_train_config",
    "evaluate",
    "explain_picture",
    "fit",
    "load",
    "score",
    "to_words",
]
