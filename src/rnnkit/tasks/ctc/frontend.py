"""Front ends: what turns an image or a waveform into a sequence of feature columns for the RNN.

    image (B, H, W) --[conv 3x3 -> (batch norm) -> ReLU -> max pool]*k--> (B, C, H', W')
                    --height folded into features--> (B, W', C * H')      time = the width
    wave  (B, N)    --log-mel spectrogram (STFT + mel filterbank, per-utterance mean and
                      variance over the real frames)--> (B, T, mels)
                    --[conv over time -> (batch norm) -> ReLU -> max pool]*k--> (B, T', C)

Each item of a padded batch keeps its true length through every layer: the output lengths
follow the convolution and pooling formula (:func:`conv_length`), and after every block the
columns past an item's length are set to zero, so an item padded in a batch gives the same
columns as the item alone (in eval mode: batch norm in training mode pools its statistics over
the batch). That is what lets CTC see the true length of every item.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from rnnkit.errors import ConfigError


def conv_length(length: Tensor | int, kernel: int, stride: int = 1, padding: int = 0,
                dilation: int = 1):
    """``floor((L + 2p - d (k - 1) - 1) / s) + 1``: the output length of a convolution or a
    max pool (PyTorch's formula, ``ceil_mode=False``), elementwise for a tensor of lengths."""
    span = length + 2 * padding - dilation * (kernel - 1) - 1
    if isinstance(span, Tensor):
        return torch.div(span, stride, rounding_mode="floor") + 1
    return span // stride + 1


def parse_ints(text: str, what: str) -> tuple[int, ...]:
    """``"32,64,128"`` -> ``(32, 64, 128)``; anything else is a ConfigError naming ``what``."""
    try:
        values = tuple(int(v) for v in text.split(","))
    except ValueError:
        raise ConfigError.bad(what, f"must be comma-separated integers, got {text!r}") from None
    if not values or min(values) < 1:
        raise ConfigError.bad(what, f"must be positive integers, got {text!r}")
    return values


def parse_pools(text: str, what: str = "pools") -> tuple[tuple[int, int], ...]:
    """``"2x2,2x1,1"`` -> ``((2, 2), (2, 1), (1, 1))``: (height, width) pooling per block;
    a single number pools only the time axis (``"2"`` is ``(1, 2)``)."""
    pools = []
    for item in text.split(","):
        try:
            sizes = [int(v) for v in item.lower().split("x")]
        except ValueError:
            raise ConfigError.bad(what, f"must be like 2x2,2x1 (height x width per block), "
                                        f"got {text!r}") from None
        if len(sizes) == 1:
            sizes = [1, sizes[0]]
        if len(sizes) != 2 or min(sizes) < 1:
            raise ConfigError.bad(what, f"must be like 2x2,2x1 (height x width per block), "
                                        f"got {text!r}")
        pools.append((sizes[0], sizes[1]))
    return tuple(pools)


def _fit(x: Tensor, pool: int) -> Tensor:
    """``x`` zero-padded in time to at least ``pool`` steps, so that pooling a batch of inputs
    too narrow for it gives one (empty: length 0) column rather than an error."""
    if x.size(-1) >= pool:
        return x
    return nn.functional.pad(x, (0, pool - x.size(-1)))


def _mask(x: Tensor, lengths: Tensor) -> Tensor:
    """Zero the time steps (the last axis) at or past each item's length."""
    steps = torch.arange(x.size(-1), device=x.device)
    keep = steps < lengths.to(x.device).unsqueeze(1)  # (B, T)
    return x * keep.view(x.size(0), *([1] * (x.dim() - 2)), x.size(-1)).to(x.dtype)


class ImageFrontEnd(nn.Module):
    """Convolution blocks over a grey image ``(B, H, W)``; the width becomes time.

    ``channels`` per block, ``pools`` (height, width) per block. Features per column:
    ``channels[-1] * (H after pooling)``."""

    def __init__(self, height: int, channels: tuple[int, ...], pools: tuple[tuple[int, int], ...],
                 norm: bool = True) -> None:
        super().__init__()
        if len(channels) != len(pools):
            raise ConfigError(f"channels has {len(channels)} blocks but pools {len(pools)}; "
                              "give one pool per block", parameters=("channels", "pools"))
        self.height, self.pools = height, pools
        blocks, given, h = [], 1, height
        for wanted, (ph, _) in zip(channels, pools):
            layers = [nn.Conv2d(given, wanted, 3, padding=1, bias=not norm)]
            if norm:
                layers.append(nn.BatchNorm2d(wanted))
            layers.append(nn.ReLU())
            blocks.append(nn.Sequential(*layers))
            given, h = wanted, h // ph
        if h < 1:
            raise ConfigError(f"pools shrink the height {height} to nothing; pool less in "
                              "height or give a larger height", parameters=("pools", "height"))
        self.blocks = nn.ModuleList(blocks)
        self.features = given * h

    def lengths(self, widths: Tensor) -> Tensor:
        """The number of columns out of images ``widths`` wide (conv 3x3 keeps it, pools cut)."""
        for _, pw in self.pools:
            widths = conv_length(widths, pw, pw)
        return widths

    def minimum_width(self, columns: int) -> int:
        """The narrowest image that gives at least ``columns`` columns."""
        return columns * math.prod(pw for _, pw in self.pools)

    def forward(self, images: Tensor, widths: Tensor) -> tuple[Tensor, Tensor]:
        x = images.unsqueeze(1)  # (B, 1, H, W)
        lengths = widths
        for block, (ph, pw) in zip(self.blocks, self.pools):
            x = block(_mask(x, lengths))
            if ph > 1 or pw > 1:
                x = nn.functional.max_pool2d(_fit(x, pw), (ph, pw))
            lengths = conv_length(lengths, pw, pw)
            x = _mask(x, lengths)
        return x.flatten(1, 2).transpose(1, 2), lengths  # (B, W', C * H')


def mel_filterbank(n_fft: int, n_mels: int, sample_rate: int, low: float = 20.0,
                   high: float | None = None) -> Tensor:
    """Triangular filters on the HTK mel scale, ``(n_fft // 2 + 1, n_mels)``."""
    high = high or sample_rate / 2
    mel = lambda f: 2595.0 * math.log10(1.0 + f / 700.0)  # noqa: E731
    edges = torch.linspace(mel(low), mel(high), n_mels + 2, dtype=torch.float64)
    hz = 700.0 * (10 ** (edges / 2595.0) - 1.0)
    freqs = torch.linspace(0, sample_rate / 2, n_fft // 2 + 1, dtype=torch.float64)
    lower, centre, upper = hz[:-2], hz[1:-1], hz[2:]
    rising = (freqs[:, None] - lower) / (centre - lower)
    falling = (upper - freqs[:, None]) / (upper - centre)
    return torch.clamp(torch.minimum(rising, falling), min=0.0).float()


class LogMel(nn.Module):
    """Waves ``(B, N)`` -> log-mel frames ``(B, T, n_mels)`` with ``T = 1 + N // hop`` per item:
    each wave is zero-padded by ``n_fft // 2`` on both sides (zeros, not reflection: an item
    padded in a batch then gives the frames it gives alone), Hann window, power spectrum, mel
    filters, ``log(. + 1e-6)``, then each item's frames are normalised per mel channel by their
    own mean and standard deviation over its real frames."""

    def __init__(self, sample_rate: int, n_mels: int = 40, window_ms: float = 32.0,
                 hop_ms: float = 10.0) -> None:
        super().__init__()
        self.n_fft = 2 * round(sample_rate * window_ms / 2000)
        self.hop = max(1, round(sample_rate * hop_ms / 1000))
        self.register_buffer("window", torch.hann_window(self.n_fft), persistent=False)
        self.register_buffer("filters", mel_filterbank(self.n_fft, n_mels, sample_rate),
                             persistent=False)

    def lengths(self, samples: Tensor) -> Tensor:
        return conv_length(samples, self.n_fft, self.hop, self.n_fft // 2)

    def forward(self, waves: Tensor, samples: Tensor) -> tuple[Tensor, Tensor]:
        half = self.n_fft // 2
        waves = _fit(waves, 1)
        padded = nn.functional.pad(_mask(waves, samples), (half, half))
        spec = torch.stft(padded, self.n_fft, self.hop, window=self.window, center=False,
                          return_complex=True)  # (B, F, T)
        power = spec.real ** 2 + spec.imag ** 2
        logmel = torch.log(torch.einsum("bft,fm->bmt", power, self.filters) + 1e-6)
        lengths = self.lengths(samples)
        keep = (torch.arange(logmel.size(-1), device=waves.device) < lengths[:, None]).float()
        count = keep.sum(-1, keepdim=True).clamp(min=1).unsqueeze(1)  # (B, 1, 1)
        keep = keep.unsqueeze(1)
        mean = (logmel * keep).sum(-1, keepdim=True) / count
        var = (((logmel - mean) * keep) ** 2).sum(-1, keepdim=True) / count
        normal = (logmel - mean) / torch.sqrt(var + 1e-5) * keep
        return normal.transpose(1, 2), lengths  # (B, T, mels)


class AudioFrontEnd(nn.Module):
    """:class:`LogMel`, then convolution blocks over time (kernel 3): ``channels`` and time
    ``pools`` per block."""

    def __init__(self, sample_rate: int, n_mels: int, channels: tuple[int, ...],
                 pools: tuple[tuple[int, int], ...], norm: bool = True) -> None:
        super().__init__()
        if len(channels) != len(pools):
            raise ConfigError(f"channels has {len(channels)} blocks but pools {len(pools)}; "
                              "give one pool per block", parameters=("channels", "pools"))
        if any(ph != 1 for ph, _ in pools):
            raise ConfigError.bad("pools", "audio pools only the time axis: give one number "
                                           "per block (e.g. 2,1)")
        self.logmel = LogMel(sample_rate, n_mels)
        self.pools = tuple(pw for _, pw in pools)
        blocks, given = [], n_mels
        for wanted in channels:
            layers = [nn.Conv1d(given, wanted, 3, padding=1, bias=not norm)]
            if norm:
                layers.append(nn.BatchNorm1d(wanted))
            layers.append(nn.ReLU())
            blocks.append(nn.Sequential(*layers))
            given = wanted
        self.blocks = nn.ModuleList(blocks)
        self.features = given

    def lengths(self, samples: Tensor) -> Tensor:
        lengths = self.logmel.lengths(samples)
        for p in self.pools:
            lengths = conv_length(lengths, p, p)
        return lengths

    def minimum_width(self, columns: int) -> int:
        """The fewest samples that give at least ``columns`` frames out."""
        frames = columns * math.prod(self.pools)
        return max(0, (frames - 1) * self.logmel.hop)

    def forward(self, waves: Tensor, samples: Tensor) -> tuple[Tensor, Tensor]:
        frames, lengths = self.logmel(waves, samples)
        x = frames.transpose(1, 2)  # (B, mels, T)
        for block, p in zip(self.blocks, self.pools):
            x = block(_mask(x, lengths))
            if p > 1:
                x = nn.functional.max_pool1d(_fit(x, p), p)
            lengths = conv_length(lengths, p, p)
            x = _mask(x, lengths)
        return x.transpose(1, 2), lengths
