"""A trained captioner opened from its directory: caption images (files or tensors), with the
attention over each image's columns for every word."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from torch import Tensor

from rnnkit.errors import DataError
from rnnkit.tasks import base
from rnnkit.tasks.caption.model import CaptionConfig, Captioner
from rnnkit.tasks.caption.task import columns
from rnnkit.tasks.seq2seq.decoding import DecodeOptions, attention_of, decode_ids
from rnnkit.tasks.seq2seq.tokens import Vocab

TASK = "caption"


@dataclass
class Caption:
    """The words written for one image, and (with ``attention=True``) the weights ``(len(words)
    + 1, columns)`` over its memory columns (rows: each word, then ``</s>``)."""

    text: str
    words: list[str]
    image: Tensor  # (H, W) as the model read it
    attention: Tensor | None = None


class LoadedCaptioner:
    def __init__(self, model: Captioner, config: CaptionConfig, vocab: Vocab,
                 directory: Path | None = None) -> None:
        self.model, self.config, self.vocab, self.directory = model, config, vocab, directory

    def image(self, item: str | Path | Tensor) -> Tensor:
        """An image ``(height, W)`` (ink 1 on 0) of a file (scaled to the model's height) or a
        tensor (which must have the model's height)."""
        if isinstance(item, Tensor):
            if item.dim() != 2 or item.size(0) != self.config.height:
                raise DataError(f"an image tensor must be (height {self.config.height}, width), "
                                f"got {tuple(item.shape)}")
            return item.float()
        from rnnkit.data import media

        path = Path(item)
        if not path.is_file():
            raise DataError(f"no file {path}; give an image file")
        image = media.read_image(path, self.config.height)
        if image.size(1) < self.model.front.minimum_width(1):
            raise DataError(f"{path} is {image.size(1)} pixels wide at height "
                            f"{self.config.height}: too narrow to read; give a wider image")
        return image

    def caption(self, items: Sequence, options: DecodeOptions | None = None,
                attention: bool = False) -> list[Caption]:
        """One :class:`Caption` per item (greedy unless ``options`` say otherwise)."""
        if isinstance(items, str | Path | Tensor):
            items = [items]
        images = [self.image(item) for item in items]
        sources = [columns(image) for image in images]
        outputs = decode_ids(self.model, sources, self.vocab, self.config, options)
        results = []
        for image, source, out in zip(images, sources, outputs):
            words = self.vocab.decode(out)
            weights = attention_of(self.model, source, out, self.vocab) if attention else None
            results.append(Caption(" ".join(words), words, image, weights))
        return results

    def predict(self, items: Sequence, options: DecodeOptions | None = None) -> list[str]:
        """The caption of each item: image files or ``(height, W)`` tensors."""
        return [c.text for c in self.caption(items, options)]


def build(saved: dict, directory: Path | None = None) -> LoadedCaptioner:
    config = CaptionConfig.from_dict(saved["model"])
    config.check()
    vocab = Vocab.from_dict(saved["vocab"])
    base.check_size("the vocabulary", len(vocab), config.tgt_vocab)
    return LoadedCaptioner(Captioner(config), config, vocab, directory)


def load(directory: str | Path) -> LoadedCaptioner:
    """Open a directory written by :func:`rnnkit.tasks.caption.fit`."""
    directory = Path(directory)
    loaded, _ = base.load_model(directory, TASK, lambda saved: build(saved, directory))
    return loaded
