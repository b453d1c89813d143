"""Runs that survive: kill -9 then --resume ends bit-identical to an uninterrupted run, a
second process cannot train into a directory in use, and a trained model is never replaced
without --force."""

from __future__ import annotations

import importlib.util
import json
import subprocess
from pathlib import Path

import pytest

from clitools import ENV, RNNKIT, assert_one_line_errors
from rnnkit.errors import ConfigError
from rnnkit.tasks import base, lm

ALICE = str(Path(__file__).parent / "fixtures" / "alice_head.txt")
TINY = ["--hidden", "16", "--embedding", "8", "--batch", "4", "--bptt", "16", "--no-baseline",
        "--eval-every", "5", "--checkpoint-every", "5"]


def tiny_fit(out: Path, steps: int = 6, **options) -> dict:
    config = lm.LMConfig(hidden=16, embedding=8, batch=4, bptt=16)
    train = lm.default_train_config(steps=steps, eval_every=5, checkpoint_every=5)
    return lm.fit(ALICE, out, config, train, baseline=False, **options)


def test_kill_9_at_random_moments_then_resume_is_bit_identical(tmp_path):
    path = Path(__file__).parents[1] / "bench" / "kill_resume.py"
    spec = importlib.util.spec_from_file_location("kill_resume", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.main(["--kills", "3", "--steps", "300", "--data", ALICE, "--seed", "1"])
    assert result["kills"] == 3
    assert result["identical"] == {"model.safetensors": True,
                                   "checkpoint/model.safetensors": True}


def test_a_trained_model_is_not_replaced_without_force(tmp_path):
    out = tmp_path / "m"
    tiny_fit(out)
    before = (out / "model.safetensors").read_bytes()
    with pytest.raises(ConfigError, match="already holds a trained model; continue it with "
                       "resume, write to another directory, or replace it with force"):
        tiny_fit(out, steps=2)
    assert (out / "model.safetensors").read_bytes() == before  # nothing lost
    assert_one_line_errors({"no force": (["lm", "train", "--data", ALICE, "--out", str(out),
                                          "--steps", "2", *TINY],
                                         ["already holds a trained model", "--resume",
                                          "--force"])})
    metrics = tiny_fit(out, steps=2, force=True)
    assert metrics["steps"] == 2
    saved = json.loads((out / "checkpoint" / "trainer.json").read_text())
    assert saved["state"]["step"] == 2  # the old run's checkpoint is gone, not resumed


def test_a_second_process_cannot_train_into_a_directory_in_use(tmp_path):
    out = tmp_path / "busy"
    with base.claim(out):  # this process trains into it
        with base.claim(out):  # re-entrant here
            pass
        assert_one_line_errors({"busy": (["lm", "train", "--data", ALICE, "--out", str(out),
                                          "--steps", "2", *TINY],
                                         ["is training into", str(out), "another directory"])})
        assert not (out / "config.json").exists()  # the refused run wrote nothing
    run = subprocess.run(RNNKIT + ["lm", "train", "--data", ALICE, "--out", str(out),
                                   "--steps", "2", *TINY], env=ENV, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr  # free again once released


def test_a_full_disk_mid_run_is_one_line_and_keeps_the_last_checkpoint(tmp_path, monkeypatch):
    import errno

    from rnnkit.errors import RnnkitError
    from rnnkit.train import checkpoint as ckpt

    out = tmp_path / "full"
    real = ckpt.write_tensors
    written = {"n": 0}

    def filling(path, tensors):
        written["n"] += 1
        if written["n"] > 4:  # the disk fills after the first checkpoint and best weights
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real(path, tensors)

    monkeypatch.setattr(ckpt, "write_tensors", filling)
    with pytest.raises(RnnkitError) as caught:
        tiny_fit(out, steps=20)
    message = str(caught.value)
    assert "\n" not in message and "No space left on device" in message
    assert f"writing to {out} failed" in message and "intact" in message
    monkeypatch.setattr(ckpt, "write_tensors", real)
    step = json.loads((ckpt.checkpoint_dir(out) / "trainer.json").read_text())["state"]["step"]
    assert step == 5
    metrics = tiny_fit(out, steps=20, resume=True)  # space again: the run goes on
    assert metrics["steps"] == 20


def test_an_output_folder_that_cannot_be_made_is_one_line_before_training(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert_one_line_errors({"not a folder": (["lm", "train", "--data", ALICE, "--out",
                                              str(blocker / "out"), "--steps", "2", *TINY],
                                             [f"cannot write to {blocker / 'out'}",
                                              "choose a directory you can write to"])})
