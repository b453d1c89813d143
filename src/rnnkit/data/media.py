"""A user's own images or recordings with their texts: a CSV listing, and reading one image.

The listing is a CSV with a header and (at least) the columns ``file`` and ``text``::

    file,text
    scans/0001.png,3141
    /data/spoken/0002.wav,27

a ``file`` relative to the CSV's folder or absolute; every file must exist and every text be
non-empty. Images are read with Pillow (:func:`read_image`), recordings with
:func:`rnnkit.data.audio.read_wav` (:func:`is_audio` tells them apart by extension).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rnnkit.errors import DataError

if TYPE_CHECKING:
    import torch

COLUMNS = ("file", "text")
AUDIO_EXTENSIONS = (".wav",)


@dataclass(frozen=True)
class MediaItem:
    """One listed file and the text it shows or says."""

    path: Path
    text: str


def read_listing(csv_path: str | Path) -> list[MediaItem]:
    """A CSV (header required) with columns `file` and `text` (file relative to the CSV's
    folder, or absolute)."""
    csv_path = Path(csv_path).expanduser()
    if not csv_path.is_file():
        raise DataError(f"no such listing: {csv_path}; give a CSV file with columns file,text")
    try:
        with open(csv_path, encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.reader(handle))
    except UnicodeDecodeError:
        raise DataError(f"{csv_path} is not UTF-8 text; save the listing as UTF-8 CSV") from None
    except csv.Error as bad:
        raise DataError(f"{csv_path} is not a readable CSV ({bad}); fix the listing") from None
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise DataError(f"{csv_path} is empty; give a header file,text and one row per file")
    header = [cell.strip() for cell in rows[0]]
    missing = [column for column in COLUMNS if column not in header]
    if missing:
        has = ", ".join(repr(cell) for cell in header) or "none"
        raise DataError(f"{csv_path} has no {' or '.join(missing)} column (its columns: {has}); "
                        "the first line must name the columns file and text")
    if len(rows) == 1:
        raise DataError(f"{csv_path} has a header but no rows; list one file per line")
    where = {column: header.index(column) for column in COLUMNS}
    items = []
    for number, row in enumerate(rows[1:], 2):
        cells = {column: row[k].strip() if k < len(row) else "" for column, k in where.items()}
        if not cells["file"]:
            raise DataError(f"{csv_path} line {number} names no file; fill its file column")
        path = Path(cells["file"]).expanduser()
        path = path if path.is_absolute() else csv_path.parent / path
        if not path.is_file():
            raise DataError(f"{csv_path} line {number}: no such file {path}; fix the path "
                            "(relative paths are from the CSV's folder)")
        if not cells["text"]:
            raise DataError(f"{csv_path} line {number}: the text of {cells['file']} is empty; "
                            "give the text it shows or says")
        items.append(MediaItem(path, cells["text"]))
    return items


def is_audio(path) -> bool:
    """Whether ``path`` is a recording (by its extension: ``.wav``) rather than an image."""
    return Path(path).suffix.lower() in AUDIO_EXTENSIONS


def read_image(path, height: int) -> torch.Tensor:
    """A grayscale float32 [height, w'] image, ink 1 on background 0, scaled to ``height``
    keeping its aspect (bilinear). Transparent pixels are background. Dark ink on a light
    page is inverted: the image is taken as dark-on-light when the mean of its border (the
    outermost rows and columns) is above one half."""
    import numpy as np
    import torch
    from PIL import Image, UnidentifiedImageError

    if height < 1:
        raise ValueError(f"height must be at least 1, got {height}")
    path = Path(path)
    if not path.is_file():
        raise DataError(f"no such image: {path}")
    try:
        with Image.open(path) as opened:
            opened.load()
            image = opened
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise DataError(f"cannot read image {path}: not an image Pillow can decode; convert "
                        "it to PNG") from None
    if "A" in image.getbands() or "transparency" in image.info:  # transparent -> white page
        rgba = image.convert("RGBA")
        page = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(page, rgba)
    gray = np.asarray(image.convert("L"), dtype=np.float32) / 255.0  # (h, w), 1 = white
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    ink = 1.0 - gray if border.mean() > 0.5 else gray
    tall, wide = ink.shape
    width = max(1, round(wide * height / tall))
    scaled = Image.fromarray(ink).resize((width, height), Image.Resampling.BILINEAR)
    return torch.from_numpy(np.asarray(scaled, dtype=np.float32).clip(0.0, 1.0).copy())
