"""Every case of the bad-input table (tests/bad_inputs.py), 64 mistakes across every command
group, as a real subprocess: exit code 2, one line on stderr, no traceback, the words that
name the problem and the fix; and none of them writes the output directory."""

from __future__ import annotations

import concurrent.futures
import subprocess
from pathlib import Path

import pytest

from bad_inputs import cases
from clitools import ENV, RNNKIT
from rnnkit.tasks import lm


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad-inputs")
    model = folder / "model"
    lm.fit(str(Path(__file__).parent / "fixtures" / "alice_head.txt"), model,
           lm.LMConfig(hidden=16, embedding=8, batch=4, bptt=16),
           lm.default_train_config(steps=3), baseline=False)
    return folder, cases(folder, model)


def run(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(RNNKIT + args, capture_output=True, text=True, env=ENV, timeout=180)


def test_every_bad_input_is_one_line_with_exit_code_2(table):
    folder, rows = table
    assert len(rows) >= 40
    with concurrent.futures.ThreadPoolExecutor(4) as pool:  # 4 at once: they share 2 cores
        results = dict(zip(rows, pool.map(run, [args for args, _ in rows.values()])))
    wrong = []
    for name, (_, words) in rows.items():
        done = results[name]
        lines = done.stderr.strip().splitlines()
        if (done.returncode != 2 or len(lines) != 1 or not lines[0].startswith("rnnkit: error: ")
                or "Traceback" in done.stderr or not all(word in lines[0] for word in words)):
            wrong.append(f"{name}: exit {done.returncode}, {done.stderr.strip()[-200:]!r}")
    assert wrong == []
    assert not (folder / "out").exists() and not (folder / "never").exists()
