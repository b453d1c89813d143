"""Tasks, one package each on the skeleton of :mod:`rnnkit.tasks.base`, and their registry.

``TASKS`` maps a task's name (the ``task`` of a model directory's ``config.json``, and the
CLI's group) to its package. A new task is a package with ``fit`` and ``load`` (whose loaded
model has ``predict``) plus one line here.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

TASKS = {
    "lm": "rnnkit.tasks.lm",
    "classify": "rnnkit.tasks.classify",
    "tag": "rnnkit.tasks.tag",
    "forecast": "rnnkit.tasks.forecast",
    "seq2seq": "rnnkit.tasks.seq2seq",
    "ctc": "rnnkit.tasks.ctc",
    "caption": "rnnkit.tasks.caption",
}


def task_module(name: str) -> ModuleType:
    """The package of the task ``name``."""
    try:
        return importlib.import_module(TASKS[name])
    except KeyError:
        raise ValueError(f"unknown task {name!r}; rnnkit has {', '.join(TASKS)}") from None


def load(directory: str | Path):
    """Open any trained model directory: its task's loaded model, which has ``predict``."""
    from rnnkit.errors import CheckpointError
    from rnnkit.tasks.base import read_config

    saved = read_config(directory)
    if saved["task"] not in TASKS:
        raise CheckpointError(f"{directory} holds a {saved['task']!r} model, a task this rnnkit "
                              f"does not know ({', '.join(TASKS)}); upgrade rnnkit")
    return task_module(saved["task"]).load(directory)


__all__ = ["TASKS", "load", "task_module"]
