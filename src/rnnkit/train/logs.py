"""The metrics log: every logged record of a run as one CSV."""

from __future__ import annotations

import csv
from pathlib import Path

from rnnkit.train.checkpoint import atomic_write


def write_csv(history: list[dict], path: Path) -> Path:
    """One row per record; columns are the union of all keys in first-seen order."""
    columns: list[str] = []
    for record in history:
        columns += [k for k in record if k not in columns]

    def write(tmp: str) -> None:
        with open(tmp, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=columns)
            writer.writeheader()
            writer.writerows(history)

    atomic_write(Path(path), write)
    return Path(path)
