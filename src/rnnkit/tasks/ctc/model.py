"""The CRNN: a convolutional front end, a recurrent stack over its columns, CTC on top.

    image (B, H, W) or wave (B, N) --front end--> columns (B, T, F) and their lengths
        --rnnkit stack (bidirectional by default; none: the per-column baseline)-->
        --dropout, linear--> log-probabilities (B, T, 1 + A): the blank (0) and the alphabet

Trained with ``torch.nn.CTCLoss`` on the true length of every item (Graves et al. 2006), the
network needs no alignment between its columns and the characters of the label (Shi, Bai &
Yao 2015). A label needs at least as many columns as characters, plus one for each pair of
equal neighbours (CTC must put a blank between them): :func:`columns_needed`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from rnnkit.cells import cell_names
from rnnkit.config import Config, param
from rnnkit.errors import ConfigError
from rnnkit.layers import build_stack
from rnnkit.tasks.ctc.frontend import AudioFrontEnd, ImageFrontEnd, parse_ints, parse_pools

MODALITIES = ("image", "audio")
DEFAULTS = {  # channels, pools per modality when the config leaves them empty
    "image": ("32,64,128", "2x2,2x2,2x1"),
    "audio": ("128,128", "2,2"),
}


@dataclass
class CTCConfig(Config):
    rnn: bool = param(True, "a recurrent stack over the columns (off: the per-column "
                      "classifier baseline, the front end alone)")
    cell: str = param("lstm", "the recurrent cell", choices=cell_names)
    layers: int = param(2, "recurrent layers")
    hidden: int = param(128, "hidden units per direction")
    bidirectional: bool = param(True, "read the columns both ways")
    dropout: float = param(0.2, "dropout between recurrent layers and before the output")
    channels: str = param("", "convolution channels per block (default: 32,64,128 for "
                          "images, 128,128 for audio)")
    pools: str = param("", "max pooling per block, height x width for images (default "
                       "2x2,2x2,2x1), time for audio (default 2,2)")
    norm: bool = param(True, "batch norm after each convolution")
    height: int = param(32, "images are scaled to this height")
    augment: bool = param(True, "images: random shear, height scale, shift and stroke width "
                          "in training")
    n_mels: int = param(40, "audio: mel channels of the spectrogram")
    batch: int = param(32, "examples per batch (bucketed by width)")
    lm_order: int = param(5, "order of the character n-gram model kept for beam fusion")
    modality: str = param("image", "filled in from the data", cli=False)
    alphabet: str = param("", "filled in from the data", cli=False)
    sample_rate: int = param(8000, "filled in from the data", cli=False)

    def check(self) -> None:
        super().check()
        self.require_positive("layers", "hidden", "height", "n_mels", "batch", "lm_order")
        self.require_fraction("dropout")
        self.require_choice("modality", MODALITIES)
        if self.height < 8:
            raise ConfigError.bad("height", f"must be at least 8 pixels, got {self.height}")
        channels, pools = self.blocks()
        if len(channels) != len(pools):
            raise ConfigError(f"channels has {len(channels)} blocks but pools has "
                              f"{len(pools)}; give one pool per block",
                              parameters=("channels", "pools"))
        if self.modality == "image" and self.height // math.prod(h for h, _ in pools) < 1:
            raise ConfigError(f"pools shrink the height {self.height} to nothing; pool less "
                              "in height or give a larger height", parameters=("pools", "height"))
        if self.modality == "audio" and any(h != 1 for h, _ in pools):
            raise ConfigError.bad("pools", "of audio pool only the time axis: give one number "
                                           "per block (e.g. 2,1)")

    def blocks(self) -> tuple[tuple[int, ...], tuple[tuple[int, int], ...]]:
        channels, pools = DEFAULTS[self.modality]
        return (parse_ints(self.channels or channels, "channels"),
                parse_pools(self.pools or pools, "pools"))


def columns_needed(label: list[int] | str) -> int:
    """The fewest columns CTC can spell ``label`` in: its length plus its repeated pairs."""
    return len(label) + sum(a == b for a, b in zip(label, label[1:]))


class CRNN(nn.Module):
    def __init__(self, config: CTCConfig) -> None:
        super().__init__()
        c = self.config = config
        if not c.alphabet:
            raise ValueError("the alphabet must be set (from the data) first")
        channels, pools = c.blocks()
        if c.modality == "image":
            self.front = ImageFrontEnd(c.height, channels, pools, c.norm)
        else:
            self.front = AudioFrontEnd(c.sample_rate, c.n_mels, channels, pools, c.norm)
        size = self.front.features
        if c.rnn:
            self.rnn = build_stack(c.cell, size, c.hidden, c.layers,
                                   bidirectional=c.bidirectional, dropout=c.dropout)
            size = c.hidden * (2 if c.bidirectional else 1)
        self.drop = nn.Dropout(c.dropout)
        self.output = nn.Linear(size, 1 + len(c.alphabet))

    def lengths(self, sizes: Tensor) -> Tensor:
        """Columns out of inputs of ``sizes`` (image widths or wave samples)."""
        return self.front.lengths(sizes)

    def forward(self, inputs: Tensor, sizes: Tensor) -> tuple[Tensor, Tensor]:
        """``inputs`` (images (B, H, W) or waves (B, N)), ``sizes`` (their widths or samples)
        -> ``(log_probs (B, T, 1 + A), lengths (B,))``."""
        x, lengths = self.front(inputs, sizes)
        if self.config.rnn:
            x, _ = self.rnn(x, lengths=lengths)
        return torch.log_softmax(self.output(self.drop(x)), -1), lengths
