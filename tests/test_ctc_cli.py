"""``rnnkit ctc`` as a user runs it on their own files: a CSV listing of PNG images (digit
strings drawn from scikit-learn's real 8x8 digits, written here), predict with --explain,
evaluate, and each mistake a user makes as one line with exit code 2."""

from __future__ import annotations

import json
import subprocess
import wave

import numpy as np
import pytest
from PIL import Image

from clitools import ENV, RNNKIT, assert_one_line_errors


def _strings(folder, count: int, seed: int) -> list[tuple[str, str]]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(count):
        picks = rng.integers(0, len(digits.target), rng.integers(1, 4))
        glyphs = [np.kron(digits.images[k], np.ones((3, 3))) for k in picks]  # 24 x 24
        ink = np.concatenate([np.pad(g, ((4, 4), (2, 2))) for g in glyphs], axis=1)
        pixels = (255 - ink * 255 / 16).astype(np.uint8)  # dark on light, as scanned
        name = f"s{seed}-{i}.png"
        Image.fromarray(pixels).save(folder / name)
        rows.append((name, "".join(str(digits.target[k]) for k in picks)))
    return rows


def _listing(folder, rows, name="labels.csv") -> str:
    path = folder / name
    path.write_text("file,text\n" + "".join(f"{f},{t}\n" for f, t in rows))
    return str(path)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ctc")
    listing = _listing(folder, _strings(folder, 60, 0))
    out = folder / "model"
    done = subprocess.run(RNNKIT + ["ctc", "train", "--data", listing, "--out", str(out),
                                    "--steps", "20", "--eval-every", "10", "--hidden", "16",
                                    "--layers", "1", "--channels", "8,8,8", "--baselines",
                                    "none", "--json"],
                          capture_output=True, text=True, env=ENV, timeout=300)
    assert done.returncode == 0, done.stderr
    return folder, out, listing, json.loads(done.stdout)


def test_train_on_a_listing_writes_a_directory_with_scores_and_pictures(trained):
    folder, out, _, metrics = trained
    assert metrics["task"] == "ctc" and metrics["sizes"] == {"train": 48, "valid": 6, "test": 6}
    assert set(metrics["alphabet"]) <= set("0123456789") and metrics["steps"] == 20
    assert {"rnnkit", "rnnkit beam 8", "rnnkit beam 8 + lm 0.5"} == set(metrics["test"])
    for name in ("config.json", "model.safetensors", "metrics.json", "curves.png",
                 "example.png", "lm.txt"):
        assert (out / name).is_file(), name


def test_predict_with_explain_writes_a_picture_per_file(trained, tmp_path):
    folder, out, _, _ = trained
    files = [str(folder / "s0-0.png"), str(folder / "s0-1.png")]
    done = subprocess.run(RNNKIT + ["ctc", "predict", str(out), *files, "--explain", "--plots",
                                    str(tmp_path), "--beam", "3", "--json"],
                          capture_output=True, text=True, env=ENV, timeout=120)
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert [r["file"] for r in rows] == files
    assert all(set(r["text"]) <= set("0123456789") for r in rows)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s0-0-ctc.png", "s0-1-ctc.png"]


def test_evaluate_on_its_own_split_and_on_another_listing(trained, tmp_path):
    folder, out, listing, _ = trained
    done = subprocess.run(RNNKIT + ["ctc", "evaluate", str(out), "--data", listing, "--json"],
                          capture_output=True, text=True, env=ENV, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["part"] == "test" and result["examples"] == 6
    half = subprocess.run(RNNKIT + ["ctc", "evaluate", str(out), "--data", listing, "--json",
                                    "--precision", "bf16"],
                          capture_output=True, text=True, env=ENV, timeout=120)
    assert half.returncode == 0, half.stderr
    assert json.loads(half.stdout)["examples"] == 6
    other = _listing(tmp_path, [(f, t + "x") for f, t in _strings(tmp_path, 4, 1)],
                     "other.csv")
    done = subprocess.run(RNNKIT + ["ctc", "evaluate", str(out), "--data", other],
                          capture_output=True, text=True, env=ENV, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "4 characters of the texts are outside the model's alphabet" in done.stdout
    assert "all): 4 examples" in done.stdout


def test_user_mistakes_are_one_line(trained, tmp_path):
    folder, out, listing, _ = trained
    not_image = tmp_path / "fake.png"
    not_image.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    sound = tmp_path / "tone.wav"
    with wave.open(str(sound), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(8000)
        w.writeframes(np.zeros(800, np.int16).tobytes())
    no_text = tmp_path / "no_text.csv"
    no_text.write_text("file,label\ns0-0.png,3\n")
    empty = tmp_path / "empty.csv"
    empty.write_text("file,text\n")
    rows = _strings(tmp_path, 8, 2)
    narrow = _listing(tmp_path, rows + [(rows[0][0], "1" * 40)], "narrow.csv")
    train = ["ctc", "train", "--out", str(tmp_path / "new"), "--steps", "1"]
    assert_one_line_errors({
        "not an image": (["ctc", "predict", str(out), str(not_image)], ["fake.png"]),
        "audio to an image model": (["ctc", "predict", str(out), str(sound)],
                                    ["tone.wav", "give an image"]),
        "missing file": (["ctc", "predict", str(out), str(tmp_path / "none.png")],
                         ["none.png"]),
        "listing without text": (train + ["--data", str(no_text)], ["text", "label"]),
        "empty listing": (train + ["--data", str(empty)], ["empty.csv"]),
        "outside the alphabet": (train + ["--data", listing, "--alphabet", "0123"],
                                 ["outside the alphabet", "--alphabet"]),
        "label too long": (train + ["--data", narrow], ["needs 79 columns", "pixels wide"]),
        "unknown baseline": (train + ["--data", listing, "--baselines", "svm"], ["svm"]),
        "unknown dataset": (train + ["--data", "mnist-string"], ["mnist-strings"]),
        "bad pools": (train + ["--data", listing, "--pools", "2y2"], ["--pools"]),
        "not a model directory": (["ctc", "evaluate", str(folder), "--data", listing],
                                  ["config.json is missing"]),
    })
