"""A trained CTC model opened from its directory: read images or WAV files, explain a reading."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from rnnkit.errors import DataError
from rnnkit.tasks import base
from rnnkit.tasks.ctc.decoding import CharLM, DecodeOptions
from rnnkit.tasks.ctc.model import CRNN, CTCConfig
from rnnkit.tasks.ctc.task import Example, collate, transcribe

TASK = "ctc"
LM_TEXTS = "lm.txt"  # the training texts the fusion language model is counted from


@dataclass
class Reading:
    """What the model read in one input, with its per-column probabilities ``(T, 1 + A)``."""

    text: str
    probabilities: Tensor
    example: Example


class LoadedCTC:
    def __init__(self, model: CRNN, config: CTCConfig, lm: CharLM | None = None,
                 directory: Path | None = None) -> None:
        self.model, self.config, self.lm, self.directory = model, config, lm, directory

    def example(self, item: str | Path | Tensor | Example) -> Example:
        """An :class:`Example` of a file (an image, or a WAV at the model's sample rate) or
        of a tensor (an image ``(H, W)`` or a wave ``(N,)``)."""
        if isinstance(item, Example):
            return item
        if isinstance(item, Tensor):
            return Example(item.float(), "")
        from rnnkit.data import audio, media

        path = Path(item)
        if not path.is_file():
            raise DataError(f"no file {path}; give an image or a WAV file")
        if self.config.modality == "audio":
            if not media.is_audio(path):
                raise DataError(f"{path} is not a WAV file, and this model reads speech; "
                                "give a .wav file")
            wave, rate = audio.read_wav(path)
            if rate != self.config.sample_rate:
                raise DataError(f"{path} is sampled at {rate} Hz, the model at "
                                f"{self.config.sample_rate} Hz; resample it (e.g. ffmpeg -i IN "
                                f"-ar {self.config.sample_rate} -ac 1 OUT.wav)")
            return Example(wave, "", str(path))
        if media.is_audio(path):
            raise DataError(f"{path} is audio, and this model reads images; give an image")
        return Example(media.read_image(path, self.config.height), "", str(path))

    def predict(self, items: Sequence, options: DecodeOptions | None = None) -> list[str]:
        """The text read in each item (files, tensors or examples)."""
        examples = [self.example(item) for item in items]
        if options is not None:
            options.check()
        return transcribe(self.model, examples, options, self.lm)

    @torch.no_grad()
    def read(self, item, options: DecodeOptions | None = None) -> Reading:
        """One item's text and its per-column probabilities (for a picture)."""
        example = self.example(item)
        inputs, sizes = collate([example])
        log_probs, lengths = self.model(inputs, sizes)
        text = transcribe(self.model, [example], options, self.lm)[0]
        return Reading(text, log_probs[0, : int(lengths[0])].exp(), example)


def load(directory: str | Path) -> LoadedCTC:
    """Open a directory written by :func:`rnnkit.tasks.ctc.fit`."""
    directory = Path(directory)

    def build(saved: dict) -> LoadedCTC:
        config = CTCConfig.from_dict(saved["model"])
        config.check()
        return LoadedCTC(CRNN(config), config, _language_model(directory, config), directory)

    loaded, _ = base.load_model(directory, TASK, build)
    return loaded


def _language_model(directory: Path, config: CTCConfig) -> CharLM | None:
    path = directory / LM_TEXTS
    if not path.is_file():
        return None
    from rnnkit.tasks.ctc.task import encode_text

    texts = path.read_text(encoding="utf-8").split("\n")
    return CharLM(config.lm_order).fit([encode_text(t, config.alphabet) for t in texts],
                                       len(config.alphabet))
