"""Reading with CTC: a convolutional front end turns an image or a spectrogram into columns, a
recurrent stack reads them, and a CTC loss teaches it to write the text without any alignment
between columns and characters (the CRNN of Shi, Bai & Yao 2015; Graves et al. 2006).

``fit`` trains on ``mnist-strings`` (digit strings of real handwriting), ``digits-strings``,
``spoken-digits``, ``spoken-sentences`` or a CSV listing of the user's images or WAV files,
beside the front end alone and a unidirectional RNN; ``load`` opens a directory (``predict``,
``read``); ``evaluate`` scores a model on other data or another part.

The package: ``frontend`` (image and audio front ends, exact lengths), ``model`` (the CRNN and
its config), ``decoding`` (best path, prefix beam search, character n-gram fusion), ``parts``
(the datasets and splits), ``task`` (batches, the CTC loss, scoring), ``scores`` (jiwer's CER
and WER), ``loaded``, ``training`` (``fit``, ``evaluate``).
"""

from rnnkit.tasks.ctc.decoding import CharLM, DecodeOptions, decode, greedy, prefix_beam
from rnnkit.tasks.ctc.frontend import AudioFrontEnd, ImageFrontEnd, LogMel, conv_length
from rnnkit.tasks.ctc.loaded import LoadedCTC, Reading, load
from rnnkit.tasks.ctc.model import CRNN, CTCConfig, columns_needed
from rnnkit.tasks.ctc.parts import NAMED, ReadOptions, read_parts
from rnnkit.tasks.ctc.scores import text_scores
from rnnkit.tasks.ctc.task import Example, ctc_loss, score, transcribe
from rnnkit.tasks.ctc.training import (
    BASELINES,
    PARTS,
    default_train_config,
    evaluate,
    explain_picture,
    fit,
)

__all__ = [
    "BASELINES",
    "CRNN",
    "NAMED",
    "PARTS",
    "AudioFrontEnd",
    "CTCConfig",
    "CharLM",
    "DecodeOptions",
    "Example",
    "ImageFrontEnd",
    "LoadedCTC",
    "LogMel",
    "ReadOptions",
    "Reading",
    "columns_needed",
    "conv_length",
    "ctc_loss",
    "decode",
    "default_train_config",
    "evaluate",
    "explain_picture",
    "fit",
    "greedy",
    "load",
    "prefix_beam",
    "read_parts",
    "score",
    "text_scores",
    "transcribe",
]
