"""``rnnkit lm``: a training run, Ctrl-C and --resume, and every user error as one line.

Two commands run as real subprocesses of the installed entry point (an exit code through
``sys.exit``, and SIGINT to a training run); the rest call ``rnnkit.cli.main.main``, which is
what the entry point runs, in this process: each subprocess costs a torch import (2-7 s).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rnnkit.cli.main import main
from rnnkit.tasks import lm as api

ALICE = Path(__file__).parent / "fixtures" / "alice_head.txt"
SCRIPT = Path(sys.executable).parent / "rnnkit"
RNNKIT = [str(SCRIPT)] if SCRIPT.is_file() else [sys.executable, "-m", "rnnkit.cli.main"]
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}
TINY = ["--hidden", "32", "--embedding", "16", "--batch", "4", "--bptt", "16"]


def rnnkit(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        RNNKIT + list(args), capture_output=True, text=True, timeout=timeout, env=ENV
    )


def assert_one_line_error(code: int, err: str, *words: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rnnkit: error: "), err
    for word in words:
        assert word in lines[0]


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, int, str, str]:
    """``rnnkit lm train --steps 30 --json`` on Alice (in this process): dir, code, out, err."""
    out = tmp_path_factory.mktemp("cli") / "alice"
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main([
            "lm", "train", "--data", str(ALICE), "--out", str(out), "--steps", "30", *TINY,
            "--eval-every", "10", "--lr", "0.01", "--warmup", "5", "--json",
        ])
    return out, code, stdout.getvalue(), stderr.getvalue()


@pytest.fixture(scope="module")
def model_dir(trained) -> Path:
    assert trained[1] == 0, trained[3]
    return trained[0]


def test_train_writes_the_model_directory(trained) -> None:
    model_dir, code, stdout, stderr = trained
    assert code == 0 and "Traceback" not in stderr and "step 30 loss" in stderr
    metrics = json.loads((model_dir / "metrics.json").read_text())
    assert json.loads(stdout) == metrics
    assert (metrics["task"], metrics["status"], metrics["steps"]) == ("lm", "finished", 30)
    assert set(metrics["valid"]) == {"loss", "bpc"} and set(metrics["test"]) == {"loss", "bpc"}
    assert [row["order"] for row in metrics["baseline"]["orders"]] == [1, 2, 3, 4, 5]
    assert metrics["baseline"]["best"]["loss"] < metrics["baseline"]["orders"][0]["loss"]
    config = json.loads((model_dir / "config.json").read_text())
    assert config["task"] == "lm" and config["model"]["hidden"] == 32
    assert config["train"]["steps"] == 30
    rows = (model_dir / "metrics.csv").read_text().splitlines()
    header = rows[0].split(",")
    assert header[:2] == ["step", "epoch"] and "train_loss" in header and "valid_loss" in header
    assert [int(r.split(",")[0]) for r in rows[1:]] == [1, 10, 20, 30]
    assert (model_dir / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (model_dir / "model.safetensors").stat().st_size > 0
    assert sorted(p.name for p in (model_dir / "checkpoint").iterdir()) == [
        "model.safetensors", "trainer.json", "trainer.safetensors"
    ]


def test_generate_json_is_the_greedy_text_of_the_api(model_dir: Path, capsys) -> None:
    code = main(["lm", "generate", str(model_dir), "--prompt", "Alice", "--length", "25",
                 "--temperature", "0", "--json"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["prompt"] == "Alice" and len(result["text"]) == 25
    lm = api.load(model_dir)
    assert result["text"] == "".join(api.generate(lm, "Alice", 25, temperature=0))


def test_predict_evaluate_and_baseline_json(model_dir: Path, capsys) -> None:
    assert main(["lm", "predict", str(model_dir), "--prompt", "Alice", "--top", "3", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["next"]
    assert len(rows) == 3 and rows[0]["p"] >= rows[1]["p"] >= rows[2]["p"]
    assert main(["lm", "evaluate", str(model_dir), str(ALICE), "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert scores["tokens"] == 20_000 and scores["bpc"] > 0
    # bf16 (CPU autocast) reads the same model to about 3 significant digits
    assert main(["lm", "evaluate", str(model_dir), str(ALICE), "--json", "--precision",
                 "bf16"]) == 0
    assert json.loads(capsys.readouterr().out)["bpc"] == pytest.approx(scores["bpc"], rel=0.02)
    assert main(["lm", "predict", str(model_dir), "--prompt", "Alice", "--top", "3", "--json",
                 "--precision", "bf16"]) == 0
    half = json.loads(capsys.readouterr().out)["next"]
    assert [r["p"] for r in half] == pytest.approx([r["p"] for r in rows], abs=0.02)
    assert main(["lm", "baseline", "--data", str(ALICE), "--json"]) == 0
    baseline = json.loads(capsys.readouterr().out)
    assert [row["order"] for row in baseline["orders"]] == [1, 2, 3, 4, 5]


def test_a_missing_file_is_one_line_and_exit_2_in_a_real_process(tmp_path: Path) -> None:
    done = rnnkit("lm", "train", "--data", str(tmp_path / "nope.txt"), "--out",
                  str(tmp_path / "out"), "--steps", "2")
    assert_one_line_error(done.returncode, done.stderr, "no such file", "nope.txt")
    assert done.stdout == ""


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("bad")
    (folder / "empty.txt").write_text("")
    (folder / "binary.txt").write_bytes(b"PK\x03\x04\x00\x00binary\x00")
    (folder / "latin1.txt").write_bytes("caf\u00e9 au lait\n".encode("latin-1") * 50)
    (folder / "short.txt").write_text("hello world\n")
    return folder


TRAIN_ERRORS = {
    "empty": ("empty.txt", ["is empty"]),
    "binary": ("binary.txt", ["binary"]),
    "not utf-8": ("latin1.txt", ["not valid utf-8", "--encoding"]),
    "too short": ("short.txt", ["needs 68", "--batch"]),  # 4 x (16 + 1) tokens
    "unknown dataset": ("no-such-corpus", ["no-such-corpus", "shakespeare"]),
}


@pytest.mark.parametrize("case", list(TRAIN_ERRORS))
def test_train_on_bad_data_is_one_line(case: str, bad_files: Path, tmp_path, capsys) -> None:
    name, words = TRAIN_ERRORS[case]
    data = name if case == "unknown dataset" else str(bad_files / name)
    code = main(["lm", "train", "--data", data, "--out", str(tmp_path), "--steps", "2", *TINY])
    captured = capsys.readouterr()
    assert_one_line_error(code, captured.err, *words)
    assert captured.out == ""


@pytest.fixture(scope="module")
def places(model_dir: Path, tmp_path_factory) -> dict[str, str]:
    """The trained model, a folder that does not exist, and copies with a damaged file."""
    root = tmp_path_factory.mktemp("broken")
    weights, config = root / "weights", root / "config"
    shutil.copytree(model_dir, weights)
    head = (model_dir / "model.safetensors").read_bytes()[:100]
    (weights / "model.safetensors").write_bytes(head)
    shutil.copytree(model_dir, config)
    (config / "config.json").write_text('{"task": "lm", "mod')
    return {
        "{model}": str(model_dir),
        "{missing}": str(root / "never-trained"),
        "{corrupt-weights}": str(weights),
        "{corrupt-config}": str(config),
    }


@pytest.mark.parametrize(
    "args, words",
    [
        (["generate", "{model}", "--prompt", "snow\u2603man"], ["lacks", "'\u2603'"]),
        (["predict", "{model}", "--prompt", "\u00e9t\u00e9"], ["lacks", "'\u00e9'"]),
        (["generate", "{model}", "--length", "-3"], ["--length", "-3"]),
        (["generate", "{model}", "--temperature", "-0.5"], ["--temperature"]),
        (["generate", "{model}", "--samples", "0"], ["--samples", "0"]),
        (["generate", "{missing}"], ["no model directory"]),
        (["evaluate", "{missing}", str(ALICE)], ["no model directory"]),
        (["generate", "{corrupt-weights}"], ["model.safetensors is corrupt"]),
        (["predict", "{corrupt-config}", "--prompt", "a"], ["config.json is corrupt"]),
    ],
)
def test_using_a_model_wrongly_is_one_line(args, words, places, capsys) -> None:
    code = main(["lm"] + [places.get(a, a) for a in args])
    assert_one_line_error(code, capsys.readouterr().err, *words)


def test_a_failed_generate_prints_nothing_on_stdout(model_dir: Path, capsys) -> None:
    code = main(["lm", "generate", str(model_dir), "--prompt", "snow\u2603man"])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""


def test_ctrl_c_saves_exits_130_and_resume_continues(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    log = tmp_path / "stderr.txt"
    command = RNNKIT + [
        "lm", "train", "--data", str(ALICE), "--out", str(out), "--steps", "100000", *TINY,
        "--eval-every", "100000", "--no-baseline", "--json",
    ]
    with open(log, "w") as err:
        run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=err, text=True, env=ENV)
        deadline = time.monotonic() + 90
        while "step 1 " not in log.read_text() and time.monotonic() < deadline:
            assert run.poll() is None, log.read_text()
            time.sleep(0.05)
        run.send_signal(signal.SIGINT)  # training has started: the progress bar shows step 1
        stdout, _ = run.communicate(timeout=90)
    assert run.returncode == 130, log.read_text()
    assert "Traceback" not in log.read_text()
    metrics = json.loads(stdout)
    stopped = metrics["steps"]
    assert metrics["status"] == "interrupted" and stopped >= 1
    saved = json.loads((out / "checkpoint" / "trainer.json").read_text())
    assert (saved["state"]["step"], saved["state"]["status"]) == (stopped, "interrupted")
    assert (out / "model.safetensors").is_file()

    # the resumed run starts at step stopped + 1: its progress bar never shows step 1
    target = (stopped // 10 + 2) * 10
    code = main(["lm", "train", "--data", str(ALICE), "--out", str(out), "--resume",
                 "--steps", str(target), "--no-baseline", "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert f"step {target} loss" in captured.err and "step 1 loss" not in captured.err
    resumed = json.loads(captured.out)
    assert (resumed["status"], resumed["steps"]) == ("finished", target)
    saved = json.loads((out / "checkpoint" / "trainer.json").read_text())
    per_epoch = (20_000 * 9 // 10 // 4 - 1) // 16  # 281 batches of 4 streams x 16 steps
    assert saved["state"]["step"] == target
    assert saved["state"]["epoch"] * per_epoch + saved["state"]["batch"] == target


def test_generate_samples_writes_that_many_texts(model_dir: Path, capsys) -> None:
    code = main(["lm", "generate", str(model_dir), "--prompt", "Alice", "--length", "30",
                 "--samples", "3", "--seed", "1", "--json"])
    assert code == 0
    texts = json.loads(capsys.readouterr().out)["texts"]
    assert len(texts) == 3 and all(len(t) == 30 for t in texts)
    lm = api.load(model_dir)
    assert texts == api.generate_samples(lm, "Alice", 30, 3, 0.8, seed=1)


@pytest.mark.parametrize("budget", ["0s", "-5s", "-1m", "0"])
def test_a_budget_of_zero_or_less_is_one_line_naming_the_option(budget, tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:  # argparse's own exit, through rnnkit's Parser
        main(["lm", "train", "--data", str(ALICE), "--out", str(tmp_path / "m"), "--time",
              budget])
    err = capsys.readouterr().err.strip()
    assert stop.value.code == 2 and len(err.splitlines()) == 1
    assert "--time" in err and "more than zero" in err and budget in err
    assert not (tmp_path / "m").exists()


def test_a_misspelt_option_is_named_with_the_closest_one(capsys) -> None:
    assert main(["lm", "train", "--data", str(ALICE), "--out", "x", "--tme", "30s"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("rnnkit: error: rnnkit lm train: unknown option --tme; did you mean --time? "
                   "(see rnnkit lm train --help)")
    # an unambiguous abbreviation is still argparse's to take
    assert main(["lm", "generate", "x", "--len", "3"]) == 2
    assert "no model directory" in capsys.readouterr().err
