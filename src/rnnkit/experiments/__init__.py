"""Experiments that measure the textbook claims about recurrent networks, on real data.

``rnnkit experiment run NAME`` (or :func:`run`) trains what the claim is about, prints the
numbers, draws the figures and says whether the claim held on this run, with its margin and
its noise. Each experiment is a module here defining ``EXPERIMENT``
(:class:`~rnnkit.experiments.base.Experiment`); :data:`NAMES` lists them in order.
"""

from __future__ import annotations

import importlib

from rnnkit.errors import ConfigError
from rnnkit.experiments.base import Context, Experiment, Result, Table, Verdict  # noqa: F401

# command name -> module of rnnkit.experiments, in the order of the list
MODULES = {
    "context": "context",
    "vanishing": "vanishing",
    "exploding": "exploding",
    "memory": "memory",
    "gru-vs-lstm": "gru_vs_lstm",
    "bidirectional": "bidirectional",
    "encoder-decoder": "encoder_decoder",
    "crnn": "crnn",
    "stacks": "stacks",
    "exposure-bias": "exposure_bias",
    "gates": "gates",
}
NAMES = tuple(MODULES)


def get(name: str) -> Experiment:
    """The experiment called ``name``; an unknown name is a one-line error listing them."""
    if name not in MODULES:
        raise ConfigError(f"no experiment called {name!r}; choose one of {', '.join(NAMES)} "
                          "(rnnkit experiment list), or all")
    module = importlib.import_module(f"rnnkit.experiments.{MODULES[name]}")
    return module.EXPERIMENT


def available() -> list[Experiment]:
    """Every experiment, in the order of the list."""
    return [get(name) for name in NAMES]


def run(name: str, out="runs/experiments", *, quick: bool = False, seeds: int = 3,
        progress=None):
    """Run the experiment ``name`` into ``out/name/`` and return its record (also written
    there as ``metrics.json``, with ``report.md``); ``out/index.html`` is rewritten to show
    every experiment that folder holds."""
    from rnnkit.experiments.runner import run_one

    return run_one(get(name), out, quick=quick, seeds=seeds, progress=progress)
