"""A user's own images and recordings: the CSV listing (paths from the CSV's folder or
absolute) and each of its mistakes as one line naming the fix, and images read with ink high at
the asked height, whether drawn dark on light or light on dark."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from rnnkit.data.media import MediaItem, is_audio, read_image, read_listing
from rnnkit.errors import DataError


def glyph(dark_on_light: bool) -> np.ndarray:
    """A 20x40 page with a 10x4 bar at rows 5-14, columns 10-13."""
    ink = np.zeros((20, 40), dtype=np.uint8)
    ink[5:15, 10:14] = 255
    return 255 - ink if dark_on_light else ink


def test_a_listing_reads_relative_and_absolute_paths(tmp_path):
    (tmp_path / "scans").mkdir()
    first = tmp_path / "scans" / "a.png"
    Image.fromarray(glyph(True)).save(first)
    elsewhere = tmp_path / "b.wav"
    elsewhere.write_bytes(b"RIFF")
    listing = tmp_path / "list.csv"
    listing.write_text(f"\ufefftext,file,speaker\n314 , scans/a.png,x\n27,{elsewhere},y\n\n")
    assert read_listing(listing) == [MediaItem(first, "314"), MediaItem(elsewhere, "27")]
    assert [is_audio(item.path) for item in read_listing(str(listing))] == [False, True]
    assert is_audio("X.WAV") and not is_audio("x.flac")


@pytest.mark.parametrize(("content", "words"), [
    ("", "is empty; give a header file,text and one row per file"),
    ("\n\n", "is empty"),
    ("path,label\na.png,1\n", r"has no file or text column \(its columns: 'path', 'label'\); the "
                              "first line must name the columns file and text"),
    ("file,label\na.png,1\n", r"has no text column \(its columns: 'file', 'label'\)"),
    ("file,text\n", "has a header but no rows; list one file per line"),
    ("file,text\nmissing.png,12\n", "line 2: no such file .*missing.png; fix the path"),
    ("file,text\na.png,\n", "line 2: the text of a.png is empty; give the text it shows"),
    ("file,text\n,12\n", "line 2 names no file"),
])
def test_listing_mistakes_are_one_line_naming_the_fix(tmp_path, content, words):
    Image.fromarray(glyph(True)).save(tmp_path / "a.png")
    listing = tmp_path / "list.csv"
    listing.write_text(content)
    with pytest.raises(DataError, match=words) as raised:
        read_listing(listing)
    assert "\n" not in str(raised.value) and str(listing) in str(raised.value)


def test_a_missing_listing_says_what_to_give(tmp_path):
    with pytest.raises(DataError, match="no such listing: .*nope.csv; give a CSV file with "
                                        "columns file,text"):
        read_listing(tmp_path / "nope.csv")


@pytest.mark.parametrize("dark_on_light", [True, False])
def test_an_image_is_read_with_ink_high_at_the_asked_height(tmp_path, dark_on_light):
    path = tmp_path / "digit.png"
    Image.fromarray(glyph(dark_on_light)).save(path)
    image = read_image(path, 40)  # twice the size: 40 x 80
    assert image.dtype == torch.float32 and image.shape == (40, 80)
    assert image[20, 23].item() == pytest.approx(1.0)  # inside the bar
    assert image[0, 0].item() == 0.0 and image[20, 60].item() == 0.0  # the page
    assert image.min() >= 0.0 and image.max() <= 1.0


def test_a_transparent_background_is_page_and_rgb_is_gray(tmp_path):
    rgba = np.zeros((10, 10, 4), dtype=np.uint8)
    rgba[2:8, 4:6] = (0, 0, 0, 255)  # black ink, everything else transparent
    Image.fromarray(rgba, "RGBA").save(tmp_path / "t.png")
    image = read_image(tmp_path / "t.png", 10)
    assert image[5, 4].item() == pytest.approx(1.0) and image[0, 0].item() == 0.0
    Image.fromarray(np.stack([glyph(True)] * 3, axis=-1)).save(tmp_path / "rgb.jpg", quality=95)
    assert read_image(tmp_path / "rgb.jpg", 20)[10, 11].item() > 0.8


def test_a_file_pillow_cannot_decode_is_one_line(tmp_path):
    bad = tmp_path / "scan.png"
    bad.write_bytes(b"not an image")
    with pytest.raises(DataError, match=r"cannot read image .*scan\.png: not an image Pillow "
                                        "can decode"):
        read_image(bad, 32)
    with pytest.raises(DataError, match="no such image"):
        read_image(Path(tmp_path / "gone.png"), 32)
