"""Print the bad-input table (tests/bad_inputs.py): every case, its command and the one line
rnnkit answers with (exit code 2). The test suite checks the same cases.

    python bench/bad_inputs.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1] / "tests"


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(TESTS))
    from bad_inputs import cases
    from clitools import ENV, RNNKIT
    from rnnkit.tasks import lm

    folder = Path(tempfile.mkdtemp(prefix="bad-inputs-"))
    model = folder / "model"
    lm.fit(str(TESTS / "fixtures" / "alice_head.txt"), model,
           lm.LMConfig(hidden=16, embedding=8, batch=4, bptt=16),
           lm.default_train_config(steps=3), baseline=False)
    failures = 0
    for number, (name, (args, words)) in enumerate(cases(folder, model).items(), 1):
        done = subprocess.run(RNNKIT + args, capture_output=True, text=True, env=ENV)
        line = done.stderr.strip().replace(str(folder) + "/", "")
        good = done.returncode == 2 and "\n" not in line and all(w in line for w in words)
        failures += not good
        print(f"{number:2}. {name} -> {line.removeprefix('rnnkit: error: ')}"
              + ("" if good else f"   [WRONG: exit {done.returncode}]"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
