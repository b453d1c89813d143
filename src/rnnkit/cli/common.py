"""Argument helpers shared by the command groups."""

from __future__ import annotations

import argparse
import json
import os
import re
import stat
import sys

from rnnkit.errors import ConfigError

_UNITS = {"": 1, "s": 1, "m": 60, "min": 60, "h": 3600}


def duration(text: str) -> float:
    """``"90"``, ``"90s"``, ``"5m"``, ``"1.5h"`` -> seconds (more than zero)."""
    match = re.fullmatch(r"\s*([-+]?[0-9]*\.?[0-9]+)\s*(s|m|min|h)?\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration; write e.g. 90s, 5m or 1h")
    seconds = float(match.group(1)) * _UNITS[match.group(2) or ""]
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"must be more than zero (e.g. 90s, 5m), got {text}")
    return seconds


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {value}")
    return value


def print_json(obj) -> None:
    json.dump(obj, sys.stdout, indent=2)
    sys.stdout.write("\n")


def require(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


def stdin_is_piped() -> bool:
    """True when standard input is a pipe or a file (``echo hi | rnnkit ...``, ``< f``), not a
    terminal, /dev/null or a test harness's stand-in."""
    try:
        mode = os.fstat(sys.stdin.fileno()).st_mode
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISREG(mode)
