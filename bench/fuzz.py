"""The readers' fuzz properties (tests/test_fuzz.py) run long: ``--examples`` random inputs
per reader (the suite runs 40, the same ones every time), fresh random ones on every run.

    python bench/fuzz.py                  # 2,000 inputs per reader
    python bench/fuzz.py --examples 20000
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=2000, help="random inputs per reader")
    args = parser.parse_args(argv)
    tests = Path(__file__).resolve().parents[1] / "tests" / "test_fuzz.py"
    started = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          str(tests)], env={**os.environ,
                                            "RNNKIT_FUZZ_EXAMPLES": str(args.examples)})
    print(f"{args.examples:,} inputs per reader, 5 readers: "
          f"{'no crash' if run.returncode == 0 else 'FAILED (see above)'} in "
          f"{time.perf_counter() - started:.0f} s")
    return run.returncode


if __name__ == "__main__":
    sys.exit(main())
