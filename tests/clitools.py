"""Running the ``rnnkit`` entry point as a user does, for the CLI tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(sys.executable).parent / "rnnkit"
RNNKIT = [str(SCRIPT)] if SCRIPT.is_file() else [sys.executable, "-m", "rnnkit.cli.main"]
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def assert_one_line_errors(cases: dict[str, tuple[list[str], list[str]]]) -> None:
    """Run ``rnnkit ARGS`` for every case ``name: (ARGS, words)`` at once (they share the
    import time) and check each ends in exit code 2 with one line ``rnnkit: error: ...`` on
    stderr holding every one of ``words``."""
    running = {name: subprocess.Popen(RNNKIT + args, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True, env=ENV)
               for name, (args, _) in cases.items()}
    for name, process in running.items():
        _, stderr = process.communicate(timeout=120)
        lines = stderr.strip().splitlines()
        assert process.returncode == 2, (name, stderr)
        assert len(lines) == 1 and lines[0].startswith("rnnkit: error: "), (name, stderr)
        for word in cases[name][1]:
            assert word in lines[0], (name, word, lines[0])
