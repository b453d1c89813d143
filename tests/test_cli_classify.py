"""``rnnkit classify``: train / evaluate / predict on real sentences, skipped rows reported,
and every user error as one line with exit code 2 (real subprocesses of the entry point,
started together to share the torch import time)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rnnkit.cli.main import main

SAMPLE = Path(__file__).parent / "fixtures" / "sentiment_sample.tsv"
SCRIPT = Path(sys.executable).parent / "rnnkit"
RNNKIT = [str(SCRIPT)] if SCRIPT.is_file() else [sys.executable, "-m", "rnnkit.cli.main"]
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}
TINY = ["--hidden", "8", "--embedding", "8", "--min-count", "1", "--steps", "3",
        "--eval-every", "3"]


def run_main(*args: str) -> tuple[int, str]:
    code, out, _ = run_main_err(*args)
    return code, out


def run_main_err(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def _one_line(name: str, code: int, stderr: str, words: list[str]) -> None:
    lines = stderr.strip().splitlines()
    assert code == 2, (name, stderr)
    assert len(lines) == 1 and lines[0].startswith("rnnkit: error: "), (name, stderr)
    for word in words:
        assert word in lines[0], (name, word, lines[0])


def _write(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def _sample_with_gaps(folder: Path) -> str:
    """Every 4th row of the real sample as CSV, plus two empty texts and a missing label."""
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()[1::4]
    rows = [line.split("\t") for line in lines]
    body = "".join(f'"{text.replace(chr(34), chr(34) * 2)}",{label}\n'
                   for _, _, _, label, text in rows)
    return _write(folder, "gaps.csv", "text,label\n" + body + '"  ",positive\n,negative\n'
                                      '"no label here",\n')


def test_train_reports_skipped_rows_then_predicts_and_evaluates(tmp_path):
    data, model = _sample_with_gaps(tmp_path), tmp_path / "model"
    code, out = run_main("classify", "train", "--data", data, "--out", str(model), *TINY,
                         "--pooling", "attention", "--json")
    assert code == 0
    metrics = json.loads(out)
    assert metrics["data"]["skipped"] == {"empty text": 2, "missing label": 1}
    assert metrics["data"]["examples"] == 95
    assert {"valid", "test"} <= set(metrics["rnnkit"]) and "test" in metrics["baseline"]
    code, out = run_main("classify", "train", "--data", data, "--out", str(tmp_path / "m2"),
                         *TINY, "--no-baseline")
    assert code == 0 and "2 skipped (empty text); 1 skipped (missing label)" in out
    assert "confusion matrix" in out

    code, out = run_main("classify", "evaluate", str(model), "--data", data, "--json")
    report = json.loads(out)
    assert code == 0 and report["count"] == 95 and report["skipped"]["empty text"] == 2
    code, out = run_main("classify", "evaluate", str(model), "--data", data, "--json",
                         "--precision", "bf16")
    assert code == 0 and json.loads(out)["accuracy"] == pytest.approx(report["accuracy"],
                                                                       abs=0.03)
    assert "evaluate" in json.loads((model / "metrics.json").read_text())
    picture = Path(report["confusion_png"])
    assert picture.parent == model and picture.read_bytes()[:4] == b"\x89PNG"

    piped = subprocess.run(RNNKIT + ["classify", "predict", str(model), "--explain"],  # stdin
                           input="i love it!\n\nwhat a junk.\n", capture_output=True,
                           text=True, env=ENV, timeout=120)
    assert piped.returncode == 0, piped.stderr
    lines = piped.stdout.splitlines()
    assert lines[0] == "label\tp(negative)\tp(positive)\ttext"
    assert lines[1].endswith("\ti love it!") and lines[3].endswith("\twhat a junk.")
    assert lines[2].startswith("  attended: ")
    assert lines[1].split("\t")[0] in ("negative", "positive")
    assert abs(sum(float(p) for p in lines[1].split("\t")[1:3]) - 1) < 1e-3
    assert piped.stderr.strip() == "rnnkit: 1 empty lines or rows skipped"


def test_user_errors_are_one_line_with_exit_code_2(tmp_path):
    model = tmp_path / "model"
    assert run_main("classify", "train", "--data", str(SAMPLE), "--out", str(model), *TINY,
                    "--pooling", "max", "--no-baseline")[0] == 0
    empty = _write(tmp_path, "empty.csv", "")
    header = _write(tmp_path, "header.csv", "text,label\n")
    single = _write(tmp_path, "single.csv", "text,label\ngood,pos\nfine,pos\n")
    blank = _write(tmp_path, "blank.csv", "text,label\n ,pos\n,neg\n")
    unseen = _write(tmp_path, "unseen.csv", "text,label\ngood,positive\nmeh,neutral\n")
    out = str(tmp_path / "out")
    train = ["classify", "train", "--out", out, "--steps", "1"]
    cases = {  # the list, as real subprocesses
        "missing column": (train + ["--data", str(SAMPLE), "--text-col", "review"],
                           ["no text column 'review'",
                            "columns present: source, id, rating, label, text"]),
        "empty file": (train + ["--data", empty], ["is empty"]),
        "single class": (train + ["--data", single], ["single class ('pos', 2 rows)"]),
        "empty texts": (train + ["--data", blank], ["every row", "2 empty text"]),
        "unseen labels": (["classify", "evaluate", str(model), "--data", unseen],
                          ["never saw: 'neutral' (1 rows)", "knows negative, positive"]),
    }
    running = {name: subprocess.Popen(RNNKIT + args, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True, env=ENV)
               for name, (args, _) in cases.items()}
    more = {  # the same path in-process (main() prints the line and returns 2)
        "missing label": (train + ["--data", str(SAMPLE), "--label-col", "stars"],
                          ["no label column 'stars'", "--label-col"]),
        "header only": (train + ["--data", header], ["header but no rows"]),
        "no data": (train, ["--data"]),
        "unknown name": (train + ["--data", "sentimental"], ["unknown dataset 'sentimental'"]),
        "classes": (train + ["--data", "sentiment", "--classes", "5"], ["--classes must be 2"]),
        "file option on a name": (train + ["--data", "sentiment", "--text-col", "review"],
                                  ["--text-col is for a file's columns", "has its own"]),
        "explain max": (["classify", "predict", str(model), "--text", "hi", "--explain"],
                        ["--pooling attention"]),
        "no model": (["classify", "predict", str(tmp_path / "none"), "--text", "hi"],
                     ["rnnkit classify train"]),
        "no input": (["classify", "predict", str(model)], ["FILE, - for stdin, or --text"]),
    }
    for name, (args, words) in more.items():
        code, _, stderr = run_main_err(*args)
        _one_line(name, code, stderr, words)
    with pytest.raises(SystemExit) as stop:  # choices come from the config: argparse refuses
        run_main_err(*train, "--data", str(SAMPLE), "--pooling", "min")
    assert stop.value.code == 2
    for name, process in running.items():
        _, stderr = process.communicate(timeout=120)
        _one_line(name, process.returncode, stderr, cases[name][1])
    assert not Path(out).exists()  # nothing written for a run that could not start
