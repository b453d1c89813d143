"""``rnnkit tag``: train / evaluate / predict on tagged files and on a built task, and every user
error as one line with exit code 2 (real subprocesses of the entry point, started together to
share the torch import time)."""

from __future__ import annotations

import contextlib
import io
import json
import re
import sys
from pathlib import Path

import pytest

from rnnkit.cli.main import main
from rnnkit.data.tagging import build_punct, write_conll, write_jsonl

ALICE = str(Path(__file__).parent / "fixtures" / "alice_head.txt")
TINY = ["--hidden", "16", "--embedding", "8", "--steps", "20", "--eval-every", "10"]


def run_main(*args: str, stdin: str | None = None) -> tuple[int, str]:
    out = io.StringIO()
    old_stdin = sys.stdin
    try:
        if stdin is not None:
            sys.stdin = io.StringIO(stdin)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            code = main(list(args))
    finally:
        sys.stdin = old_stdin
    return code, out.getvalue()


def test_train_evaluate_predict_on_a_conll_file(tmp_path):
    data = build_punct(Path(ALICE).read_text())  # real tags, saved as a tagged file
    conll = write_conll(data, tmp_path / "alice.conll")
    model = tmp_path / "model"
    code, out = run_main("tag", "train", "--data", str(conll), "--out", str(model), *TINY,
                         "--json")
    assert code == 0
    metrics = json.loads(out)
    assert metrics["tagging"] == "conll" and metrics["bidirectional"] is True
    assert set(metrics["rnnkit"]) == set(metrics["baseline"]) == {"valid", "test"}
    assert "punctuation" not in metrics["rnnkit"]["valid"]  # a plain CoNLL task
    assert json.loads((model / "metrics.json").read_text())["rnnkit"] == metrics["rnnkit"]
    assert (model / "tags.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    jsonl = write_jsonl(data, tmp_path / "alice.jsonl")
    code, out = run_main("tag", "evaluate", str(model), "--data", str(jsonl), "--json")
    assert code == 0
    result = json.loads(out)
    assert result["tokens"] == data.num_tokens and set(result) >= {"rnnkit", "baseline"}
    kept = json.loads((model / "metrics.json").read_text())  # the library records it
    assert kept["evaluate"][str(jsonl)] == result and kept["rnnkit"] == metrics["rnnkit"]
    assert json.loads((model / "evaluation.json").read_text()) == result
    code, out = run_main("tag", "evaluate", str(model), "--data", str(jsonl), "--json",
                         "--precision", "bf16")
    half = json.loads(out)["rnnkit"]
    assert code == 0 and half["accuracy"] == pytest.approx(result["rnnkit"]["accuracy"],
                                                           abs=0.02)

    code, out = run_main("tag", "predict", str(model), "-", "--json",
                         stdin="alice was beginning\nto get very tired\n")
    assert code == 0
    rows = json.loads(out)["sequences"]
    assert [r["tokens"] for r in rows] == [["alice", "was", "beginning"],
                                          ["to", "get", "very", "tired"]]
    assert all(tag in metrics["tags"] for r in rows for tag in r["tags"])


def test_punct_unidirectional_and_restored_text(tmp_path):
    model = tmp_path / "punct"
    code, out = run_main("tag", "train", "--data", ALICE, "--task", "punct", "--out",
                         str(model), "--no-bidirectional", *TINY)
    assert code == 0
    assert "forward-only" in out and "majority tag" in out and "punct_f1" in out
    code, out = run_main("tag", "predict", str(model), "--text", "Alice was, beginning!")
    assert code == 0
    assert out.splitlines()[0].startswith("alice/")  # tokens lower-cased, marks removed
    restored = out.split("restored:\n")[1].strip()
    assert re.sub(r"[^a-z ]", "", restored.lower()).split() == ["alice", "was", "beginning"]


def _write(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.write_text(text)
    return str(path)


def run_error(*args: str) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, err.getvalue()


def test_other_user_errors_are_one_line_with_exit_code_2(tmp_path):
    """The same path as the subprocesses above (main prints the error), in-process to save
    the interpreter start-ups."""
    short = _write(tmp_path, "short.conll", "Alice\tB\nwas\tI\n\nthe\tB\n")
    single = _write(tmp_path, "single.conll", "a\tO\nb\tO\n\nc\tO\n\n" * 10)
    out = str(tmp_path / "out")
    cases = {
        "single tag": (["train", "--data", single], ["single tag ('O')"]),
        "missing file": (["train", "--data", str(tmp_path / "none.conll")], ["no such file"]),
        "unknown corpus": (["train", "--data", "alicia", "--task", "segment"], ["alicia"]),
        "built task on tagged data": (["train", "--data", short, "--task", "punct"],
                                      ["--task punct", "conll"]),
        "bad dropout": (["train", "--data", ALICE, "--dropout", "1.5"], ["--dropout must be"]),
        "test without valid": (["train", "--data", short, "--test", short],
                               ["--test needs valid"]),
        "no data": (["train"], ["--data is missing", "resume"]),
        "resume nothing": (["train", "--resume"], ["no model directory"]),
    }
    for name, (args, words) in cases.items():
        code, err = run_error("tag", *args, "--out", out, "--steps", "1")
        lines = err.strip().splitlines()
        assert code == 2, (name, err)
        assert len(lines) == 1 and lines[0].startswith("rnnkit: error: "), (name, err)
        for word in words:
            assert word in lines[0], (name, word, lines[0])
    assert not Path(out).exists()
    code, err = run_error("tag", "predict", str(tmp_path / "nomodel"), "--text", "a b")
    assert code == 2 and "rnnkit tag train" in err
    code, err = run_error("tag", "predict", str(tmp_path))
    assert code == 2 and err.count("\n") == 1


def test_a_cell_not_registered_is_refused_by_the_parser_and_by_the_config(tmp_path):
    from rnnkit.errors import ConfigError
    from rnnkit.tasks.tag import TagConfig

    err = io.StringIO()
    with contextlib.redirect_stderr(err), pytest.raises(SystemExit) as stop:
        main(["tag", "train", "--data", ALICE, "--out", str(tmp_path / "out"), "--cell",
              "transformer"])
    assert stop.value.code == 2
    line = err.getvalue().strip()  # argparse's refusal is one line too, not the usage block
    assert "\n" not in line and line.startswith("rnnkit: error: rnnkit tag train: argument --cell")
    assert "invalid choice: 'transformer'" in line and line.endswith("see rnnkit tag train --help")
    with pytest.raises(ConfigError, match=r"^cell must be one of .*got 'transformer'") as bad:
        TagConfig(task="punct", cell="transformer").check()
    assert bad.value.parameter == "cell"
    assert not (tmp_path / "out").exists()
