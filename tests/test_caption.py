"""Image captioning: the captioner's teacher-forced pass is its step-by-step decoder, padding
never changes an image's caption nor gets attention, a short real run on mnist-strings writes a
directory that loads and captions, and the CLI trains, predicts and evaluates, with bad input
in one line."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
import torch

import rnnkit
from clitools import ENV, RNNKIT, assert_one_line_errors
from rnnkit.tasks import caption
from rnnkit.tasks.seq2seq.beam import beam_search
from rnnkit.train.loop import TrainConfig

TINY = dict(channels="4,8,8", hidden=16, embedding=8, dropout=0.0, tgt_vocab=14)


def _net(**changes) -> caption.Captioner:
    torch.manual_seed(0)
    return caption.Captioner(caption.CaptionConfig(**{**TINY, **changes})).eval()


def _images(widths, height=32, seed=0) -> tuple[torch.Tensor, torch.Tensor]:
    """Random images as columns, padded: ``(B, W_max, H)`` and their widths."""
    g = torch.Generator().manual_seed(seed)
    batch = torch.zeros(len(widths), max(widths), height)
    for i, w in enumerate(widths):
        batch[i, :w] = torch.rand(w, height, generator=g)
    return batch, torch.tensor(widths)


@pytest.mark.parametrize("attention", ["none", "bahdanau", "dot", "general"])
def test_teacher_forced_pass_equals_stepping(attention):
    net = _net(attention=attention, layers=2, cell="gru" if attention == "dot" else "lstm")
    src, widths = _images([40, 28, 17])
    tgt_in = torch.randint(4, 14, (3, 6))
    with torch.no_grad():
        logits, weights = net(src, widths, tgt_in, return_weights=True)
        state = net.encode(src, widths)
        for t in range(tgt_in.size(1)):
            step_logits, state, w = net.step(tgt_in[:, t], state)
            assert torch.allclose(logits[:, t], step_logits, atol=1e-5)
            if attention != "none":
                assert torch.allclose(weights[:, t], w, atol=1e-6)
    assert (weights is None) == (attention == "none")


def test_padded_images_read_as_alone_and_padding_gets_no_attention():
    net = _net(attention="bahdanau")
    widths = [44, 13, 30]
    src, lengths = _images(widths, seed=1)
    tgt_in = torch.randint(4, 14, (3, 5))
    columns = net.front.lengths(lengths)
    with torch.no_grad():
        together, weights = net(src, lengths, tgt_in, return_weights=True)
        rows, maps = net.greedy(src, lengths, 2, 3, 8)
        for i, w in enumerate(widths):
            alone, alone_weights = net(src[i:i + 1, :w], lengths[i:i + 1], tgt_in[i:i + 1],
                                       return_weights=True)
            assert torch.allclose(together[i], alone[0], atol=1e-5)
            n = int(columns[i])
            assert torch.allclose(weights[i, :, :n], alone_weights[0], atol=1e-6)
            assert float(weights[i, :, n:].abs().sum()) == 0.0  # padding: no weight
            assert net.greedy(src[i:i + 1, :w], lengths[i:i + 1], 2, 3, 8)[0][0] == rows[i]
            if maps[i] is not None:
                assert maps[i].shape[1] == n
    # beam search reads the captioner through the same interface as seq2seq's model
    beams, _ = beam_search(net, src, lengths, 2, 3, 1, 8)
    assert beams == rows


def test_words_and_word_accuracy():
    assert caption.to_words("3140") == "three one four zero"
    assert caption.to_words(" a  cat ") == "a cat"
    scores = caption.caption_scores(["one two three", "four", ""],
                                    ["one three", "four five", "six"])
    # hits: one, three | four | -, over 2 + 2 + 1 reference words
    assert scores["word_accuracy"] == pytest.approx(3 / 5)
    assert scores["exact"] == 0.0 and 0.0 <= scores["bleu"] <= 100.0
    # one insertion (two), one deletion (five), one deletion (six)
    assert scores["wer"] == pytest.approx(3 / 5)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("caption") / "model"
    config = caption.CaptionConfig(channels="8,16,16", hidden=32, embedding=16, eval_pairs=10)
    metrics = caption.fit("mnist-strings", out, config,
                          TrainConfig(steps=24, eval_every=12, checkpoint_every=12, lr=3e-3),
                          read=caption.ReadOptions(strings=160, eval_strings=24, max_digits=4))
    return out, metrics


def test_a_short_real_run_writes_a_directory_that_loads_and_captions(trained):
    out, metrics = trained
    for name in ("config.json", "model.safetensors", "metrics.json", "curves.png",
                 "attention.png", "baselines/context-vector/model.safetensors"):
        assert (out / name).is_file(), name
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["task"] == "caption" and saved["vocabulary"] == 14
    assert set(saved["valid"]) == {"rnnkit", "context-vector"}
    assert set(saved["test"]) == {"rnnkit", "rnnkit beam 4", "context-vector",
                                  "context-vector beam 4"}
    for part in ("valid", "test"):
        for scores in saved[part].values():
            assert 0.0 <= scores["word_accuracy"] <= 1.0 and 0.0 <= scores["exact"] <= 1.0
            assert 0.0 <= scores["bleu"] <= 100.0 and scores["loss"] > 0
    loaded = rnnkit.load(out)
    assert isinstance(loaded, caption.LoadedCaptioner)
    from rnnkit.data import images

    pixels, labels = images.digit_images("mnist-5k")
    strings = images.compose_strings(pixels, labels, torch.arange(4500, 5000), 3, seed=5)
    texts = loaded.predict([s.image for s in strings])
    assert len(texts) == 3
    assert all(set(t.split()) <= set(caption.DIGIT_WORDS) for t in texts)
    # the loaded weights caption as the trained ones did
    assert texts == caption.load(out).predict([s.image for s in strings])
    shown = loaded.caption([strings[0].image], attention=True)[0]
    assert shown.attention.shape == (len(shown.words) + 1,
                                     int(loaded.model.front.lengths(
                                         torch.tensor([strings[0].image.shape[1]]))[0]))
    assert torch.allclose(shown.attention.sum(-1), torch.ones(len(shown.words) + 1), atol=1e-5)


def _png(path, image: np.ndarray):
    from PIL import Image

    Image.fromarray((255 - image * 255).astype("uint8")).save(path)  # dark ink on white
    return path


def test_cli_trains_predicts_and_evaluates(tmp_path):
    out = tmp_path / "cli"
    done = subprocess.run(RNNKIT + ["caption", "train", "--data", "mnist-strings", "--out",
                                    str(out), "--steps", "4", "--strings", "64",
                                    "--eval-strings", "8", "--max-digits", "3",
                                    "--channels", "4,8,8", "--hidden", "16", "--embedding", "8",
                                    "--eval-every", "4", "--no-baseline"],
                          capture_output=True, text=True, env=ENV, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "test: rnnkit beam 4" in done.stdout and (out / "attention.png").is_file()
    from rnnkit.data import images

    pixels, labels = images.digit_images("mnist-5k")
    string = images.compose_strings(pixels, labels, torch.arange(4500, 5000), 1, seed=2)[0]
    image = _png(tmp_path / "digits.png", string.image.numpy())
    done = subprocess.run(RNNKIT + ["caption", "predict", str(out), str(image), "--explain",
                                    "--plots", str(tmp_path / "plots"), "--json"],
                          capture_output=True, text=True, env=ENV, timeout=120)
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert rows[0]["file"] == str(image) and (tmp_path / "plots" / "digits-caption.png").is_file()
    done = subprocess.run(RNNKIT + ["caption", "evaluate", str(out), "--data", "mnist-strings",
                                    "--part", "test", "--beam", "2"],
                          capture_output=True, text=True, env=ENV, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "8 images, beam 2 decoding" in done.stdout
    half = subprocess.run(RNNKIT + ["caption", "predict", str(out), str(image), "--json",
                                    "--precision", "bf16"],
                          capture_output=True, text=True, env=ENV, timeout=120)
    assert half.returncode == 0, half.stderr
    assert json.loads(half.stdout)[0]["file"] == str(image)
    evaluated = json.loads((out / "metrics.json").read_text())["evaluate"]
    assert "word_accuracy" in evaluated["mnist-strings:test"]["rnnkit"]
    text = tmp_path / "notes.png"
    text.write_text("not a picture")
    assert_one_line_errors({
        "not an image": (["caption", "predict", str(out), str(text)], ["cannot read image"]),
        "no model": (["caption", "predict", str(tmp_path / "none"), str(image)],
                     ["no model directory"]),
        "audio data": (["caption", "train", "--data", "spoken-digits", "--out",
                        str(tmp_path / "x"), "--steps", "1"], ["captioner reads images"]),
    })
