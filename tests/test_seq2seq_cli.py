"""``rnnkit seq2seq`` as a user runs it: translate from a pipe with --explain (alignment lines
and heatmaps), unknown tokens and cut sources reported on stderr, and the bible-en-es corpus
on a machine that cannot fetch it."""

from __future__ import annotations

import os
import subprocess

import pytest

from clitools import ENV, RNNKIT, assert_one_line_errors
from rnnkit.tasks import seq2seq
from rnnkit.train.loop import TrainConfig


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    out = tmp_path_factory.mktemp("seq2seq") / "model"
    config = seq2seq.Seq2SeqConfig(hidden=16, embedding=8, max_length=12, eval_pairs=0)
    seq2seq.fit("reverse", out, config, TrainConfig(steps=10, eval_every=10),
                read=seq2seq.ReadOptions(examples=400))
    return out


def test_translate_reads_a_pipe_and_explains_with_heatmaps(model, tmp_path):
    done = subprocess.run(RNNKIT + ["seq2seq", "translate", str(model), "--explain", "--plots",
                                    str(tmp_path), "--beam", "2"],
                          input="abc\n\ncab\n" + "a" * 20 + "\nab?\n", capture_output=True,
                          text=True, env=ENV, timeout=120)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"attention-{i}.png" for i in
                                                          range(1, 5)]
    assert done.stdout.count("heatmap: ") == 4 and " <- " in done.stdout
    half = subprocess.run(RNNKIT + ["seq2seq", "translate", str(model), "--beam", "2",
                                     "--precision", "bf16"], input="abc\ncab\n",
                          capture_output=True, text=True, env=ENV, timeout=120)
    assert half.returncode == 0, half.stderr
    assert len(half.stdout.strip().splitlines()) == 2
    errors = done.stderr.strip().splitlines()
    assert errors == ["rnnkit: 1 source token unknown to the model was read as <unk>",
                      "rnnkit: warning: 1 source was longer than the model's max_length (12 "
                      "tokens) and cut"]


def test_the_bible_without_apt_or_the_packages_is_one_line(tmp_path):
    env = {**ENV, "PATH": str(tmp_path), "RNNKIT_DATA": str(tmp_path / "cache")}
    done = subprocess.run(RNNKIT + ["seq2seq", "train", "--data", "bible-en-es", "--out",
                                    str(tmp_path / "out"), "--steps", "1"],
                          capture_output=True, text=True, env=env, timeout=120)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1, done.stderr
    assert "sword-text-kjv_14.3-1_<arch>.deb" in lines[0]
    assert os.path.join(str(tmp_path), "cache", "debs") in lines[0]
    assert not (tmp_path / "out").exists()


def test_evaluate_on_another_task_directory_and_bad_parts(model, tmp_path):
    assert_one_line_errors({
        "part of other data": (["seq2seq", "evaluate", str(model), "--data",
                                str(_pairs(tmp_path)), "--part", "test"],
                               ["only all of it", "--part"]),
        "negative alpha": (["seq2seq", "evaluate", str(model), "--data", "reverse",
                            "--beam", "3", "--alpha", "-1"], ["--alpha"]),
    })


def _pairs(folder):
    path = folder / "pairs.tsv"
    path.write_text("src\ttgt\nabc\tcba\nba\tab\n", encoding="utf-8")
    return path
