"""The shared skeleton: model directories, rnnkit.load, options built from configs, hygiene."""

from __future__ import annotations

import ast
import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

import rnnkit
from rnnkit.cli.main import build_parser, main
from rnnkit.cli.options import expand_option_files, flag_message
from rnnkit.errors import CheckpointError, ConfigError, DataError
from rnnkit.tasks import base
from rnnkit.tasks import lm as lm_api
from rnnkit.tasks.lm import LMConfig, default_train_config

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "rnnkit"
ALICE = Path(__file__).parent / "fixtures" / "alice_head.txt"
TINY = LMConfig(hidden=16, embedding=8, batch=4, bptt=16)


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("lm")
    lm_api.fit(str(ALICE), out, TINY, default_train_config(steps=3, eval_every=3), baseline=False)
    return out


def _config(directory: Path) -> dict:
    return json.loads((directory / "config.json").read_text())


def _rewrite(directory: Path, change) -> None:
    saved = _config(directory)
    change(saved)
    (directory / "config.json").write_text(json.dumps(saved))


def test_config_json_names_its_format_and_task(tiny_lm: Path) -> None:
    saved = _config(tiny_lm)
    assert list(saved)[:2] == ["format", "task"]
    assert saved["format"] == base.FORMAT == 2 and saved["task"] == "lm"


def test_rnnkit_load_opens_any_directory_with_a_uniform_predict(tiny_lm: Path) -> None:
    loaded = rnnkit.load(tiny_lm)
    assert isinstance(loaded, lm_api.LoadedLM)
    rows = loaded.predict("Alice", top=3)
    assert len(rows) == 3 and abs(sum(p for _, p in rows)) <= 1.0 + 1e-6
    assert rows == lm_api.predict(lm_api.load(tiny_lm), "Alice", top=3)


def test_directory_written_before_the_format_field_loads(tiny_lm: Path, tmp_path: Path) -> None:
    old = tmp_path / "old"
    old.mkdir()
    for name in ("config.json", "model.safetensors"):
        (old / name).write_bytes((tiny_lm / name).read_bytes())
    _rewrite(old, lambda saved: saved.pop("format"))
    assert rnnkit.load(old).predict("Alice", 2) == rnnkit.load(tiny_lm).predict("Alice", 2)


@pytest.mark.parametrize(("change", "words"), [
    (lambda s: s.update(format=99), ("format 99", "upgrade rnnkit")),
    (lambda s: s.pop("task"), ("not written by rnnkit",)),
    (lambda s: s.update(task="speech"), ("'speech'", "does not know")),
    (lambda s: s["model"].update(cell="nonesuch"), ("not registered", "--cells")),
    (lambda s: s["model"].update(hidden=-1), ("damaged", "hidden")),
])
def test_unreadable_directories_are_one_line_errors(tiny_lm, tmp_path, change, words) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    for name in ("config.json", "model.safetensors"):
        (bad / name).write_bytes((tiny_lm / name).read_bytes())
    _rewrite(bad, change)
    with pytest.raises(CheckpointError) as caught:
        rnnkit.load(bad)
    message = str(caught.value)
    assert "\n" not in message and all(word in message for word in words), message


def _shorten_vocabulary(saved: dict) -> None:
    saved["vocabulary"]["tokens"] = saved["vocabulary"]["tokens"][:5]


def _truncate(path: Path, keep: int) -> None:
    path.write_bytes(path.read_bytes()[:keep])


@pytest.mark.parametrize(("damage", "words"), [
    (lambda d: _truncate(d / "model.safetensors", 100), ("model.safetensors is corrupt",)),
    (lambda d: _truncate(d / "model.safetensors", 0), ("model.safetensors is corrupt",)),
    (lambda d: (d / "model.safetensors").unlink(), ("model.safetensors is missing",)),
    (lambda d: (d / "config.json").write_text("{not json"), ("config.json is corrupt",)),
    (lambda d: (d / "config.json").write_text("[1, 2]"), ("not written by rnnkit",)),
    (lambda d: _rewrite(d, lambda s: s.update(model="lstm")), ("damaged", "from a dict")),
    (lambda d: _rewrite(d, _shorten_vocabulary),
     ("damaged", "the vocabulary holds 5 entries but the model was built for")),
    (lambda d: _rewrite(d, lambda s: s["model"].update(hidden=32)), ("does not fit",)),
])
def test_damaged_directories_are_one_line_errors_in_the_api_and_the_cli(tiny_lm, tmp_path,
                                                                         damage, words) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    for name in ("config.json", "model.safetensors"):
        (bad / name).write_bytes((tiny_lm / name).read_bytes())
    damage(bad)
    with pytest.raises(CheckpointError) as caught:
        rnnkit.load(bad)
    message = str(caught.value)
    assert "\n" not in message and all(word in message for word in words), message
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["lm", "predict", str(bad), "--prompt", "Alice"])
    assert code == 2 and err.getvalue().count("\n") == 1 and words[0] in err.getvalue()


def test_a_directory_of_another_task_is_refused_by_name(tiny_lm: Path) -> None:
    with pytest.raises(CheckpointError, match="describes a 'lm' model, not a 'tag' one"):
        base.read_config(tiny_lm, "tag")


def test_parameters_in_messages_become_flags_on_the_command_line() -> None:
    error = ConfigError.bad("clip_at", "must be positive, got 0")
    assert str(error) == "clip_at must be positive, got 0"
    assert flag_message(error) == "--clip-at must be positive, got 0"
    data = DataError("lower batch or bptt; the batches are short", parameters=("batch", "bptt"))
    assert flag_message(data) == "lower --batch or --bptt; the batches are short"


def test_library_errors_name_parameters_not_flags() -> None:
    with pytest.raises(ConfigError) as caught:
        LMConfig(hidden=0).check()
    assert str(caught.value) == "hidden must be positive, got 0"


def test_cli_options_come_from_the_config_fields() -> None:
    parser = build_parser("lm")
    train = parser._subparsers._group_actions[0].choices["lm"]._subparsers._group_actions[0]
    options = {flag for action in train.choices["train"]._actions for flag in action.option_strings}
    for name in ("--level", "--cell", "--hidden", "--no-tie", "--lower", "--max-vocab", "--lr",
                 "--clip-at", "--schedule", "--time", "--steps"):
        assert name in options
    assert "--vocab-size" not in options  # filled in from the data


def test_cell_choices_follow_the_registry(capsys) -> None:
    from rnnkit.cells import GRUCell, register_cell, unregister_cell

    register_cell("test-gru", lambda i, h, **kw: GRUCell(i, h, **kw))
    try:
        with pytest.raises(SystemExit):
            main(["lm", "train", "--help"])
        shown = capsys.readouterr().out
        assert "rnn-relu" in shown and "test-gru" in shown
    finally:
        unregister_cell("test-gru")


def test_options_files_expand_with_quotes_and_comments(tmp_path: Path) -> None:
    opts = tmp_path / "opts.txt"
    opts.write_text("--hidden 32  # small\n--prompt 'to be or'\n\n--lower\n")
    assert expand_option_files(["lm", "train", f"@{opts}", "--steps", "3"]) == [
        "lm", "train", "--hidden", "32", "--prompt", "to be or", "--lower", "--steps", "3"]


def test_a_trained_directory_records_the_command_that_repeats_it(tmp_path: Path, capsys) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    words = ["lm", "train", "--data", str(ALICE), "--out", str(first), "--steps", "3",
             "--hidden", "16", "--embedding", "8", "--batch", "4", "--bptt", "16",
             "--eval-every", "3", "--no-baseline", "--json"]
    assert main(words) == 0
    recorded = (first / "options.txt").read_text()
    assert "--hidden 16\n" in recorded and recorded.startswith("lm\ntrain\n")
    assert main([f"@{first / 'options.txt'}", "--out", str(second)]) == 0
    capsys.readouterr()
    one = json.loads((first / "metrics.json").read_text())
    two = json.loads((second / "metrics.json").read_text())
    assert one["valid"] == two["valid"] and one["steps"] == two["steps"] == 3


def test_version(capsys) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["--version"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out.strip() == f"rnnkit {rnnkit.__version__}"


def _modules() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def test_importing_any_module_leaves_the_matplotlib_backend_alone() -> None:
    code = ("import importlib, matplotlib\nmatplotlib.use('svg')\n"
            f"for name in {_modules()!r}:\n    importlib.import_module(name)\n"
            "import rnnkit.plots\nprint(matplotlib.get_backend())\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "svg"


def test_no_module_is_over_400_lines() -> None:
    long = {str(p.relative_to(PACKAGE)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text().splitlines())) > 400}
    assert long == {}


def _imports(path: Path, module: str, known: set[str]) -> set[str]:
    """The rnnkit modules ``path`` imports, anywhere in it (functions too)."""
    found = set()
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            source = node.module or ""
            if node.level:
                source = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1]
                                  + ([source] if source else []))
            found |= {f"{source}.{a.name}" if f"{source}.{a.name}" in known else source
                      for a in node.names}
    return {name for name in found if name in known and name != module}


def test_no_import_circles() -> None:
    modules = _modules()
    known = set(modules)
    paths = {m: PACKAGE.parent / (m.replace(".", "/") + ".py") for m in modules}
    paths = {m: p if p.exists() else p.with_suffix("") / "__init__.py" for m, p in paths.items()}
    graph = {m: _imports(paths[m], m, known) for m in modules}
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(trail[trail.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = 2

    for module in modules:
        if module not in state:
            visit(module, [module])
    assert cycles == [], " ; ".join(" -> ".join(c) for c in cycles)


def test_library_code_never_prints() -> None:
    printing = []
    for path in PACKAGE.rglob("*.py"):
        if "cli" in path.relative_to(PACKAGE).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print":
                printing.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert printing == []
