"""What every experiment shares: its description, the context it runs in, and its result.

An experiment is a module of :mod:`rnnkit.experiments` that defines ``EXPERIMENT``, an
:class:`Experiment`: a name, the claim in a sentence, and ``run(context) -> Result``. The
runner (:mod:`rnnkit.experiments.runner`) gives it a :class:`Context` (its own output folder,
quick or full, the seeds, a progress callback) and writes what it returns: ``metrics.json``,
``report.md`` and the figures it drew.

A :class:`Result` holds the evidence and the :class:`Verdict`: ``held`` is True, False or
None (not settled on this run), and ``text`` says why, with the margin and the noise.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

Progress = Callable[[str, dict], None]


@dataclass
class Table:
    """A titled table: ``columns`` names, ``rows`` of cells (numbers are formatted by the
    report with ``digits`` significant decimals)."""

    title: str
    columns: list[str]
    rows: list[list]
    digits: int = 3
    note: str = ""

    def to_dict(self) -> dict:
        return {"title": self.title, "columns": self.columns, "rows": self.rows,
                "digits": self.digits, "note": self.note}


@dataclass
class Figure:
    """A PNG the experiment drew in its folder, with the caption that reads with it."""

    path: Path
    caption: str


@dataclass
class Verdict:
    """Did the claim hold on this run? ``held`` None: the run does not settle it."""

    held: bool | None
    text: str

    @property
    def word(self) -> str:
        return {True: "held", False: "did not hold", None: "not settled"}[self.held]


@dataclass
class Result:
    """What an experiment found: the setup in words, tables, figures, the verdict, and the raw
    numbers (``metrics``, written to ``metrics.json`` beside the rest). ``seeds``: the seeds it
    used, when not :meth:`Context.seed_list` (an experiment of one seed says so)."""

    setup: str
    verdict: Verdict
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    metrics: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seeds: list[int] | None = None


@dataclass
class Context:
    """Where and how an experiment runs.

    - ``out``: its own folder (created), for figures and anything it keeps;
    - ``quick``: the smoke-sized form (seconds, one seed), for tests and a first look;
    - ``seeds``: how many seeds where a difference is small (:meth:`seed_list`);
    - ``progress``: ``progress(event, info)`` with ``("task", {"name", "total"})`` when a
      counted piece of work starts, ``("advance", {"n", "status"})`` as it goes and
      ``("done", {})`` when it ends; the CLI draws them as bars.
    """

    out: Path
    quick: bool = False
    seeds: int = 3
    progress: Progress | None = None
    started: float = field(default_factory=time.perf_counter)

    def seed_list(self, full: int | None = None) -> list[int]:
        """The seeds to repeat a measurement with: one when quick, else ``full`` (default
        ``seeds``)."""
        return [0] if self.quick else list(range(full if full is not None else self.seeds))

    def size(self, quick, full):
        """``quick`` in the quick form, else ``full``: sizes, steps, lengths."""
        return quick if self.quick else full

    def figure(self, name: str) -> Path:
        """The path of a figure ``name`` (a PNG) in this experiment's folder."""
        return self.out / (name if name.endswith(".png") else name + ".png")

    def steps(self, iterable: Iterable | int, name: str, total: int | None = None) -> Iterator:
        """Iterate ``iterable`` (or ``range(n)``), reporting progress as ``name``."""
        if isinstance(iterable, int):
            total, iterable = iterable, range(iterable)
        elif total is None and hasattr(iterable, "__len__"):
            total = len(iterable)
        self._report("task", {"name": name, "total": total})
        try:
            for item in iterable:
                yield item
                self._report("advance", {"n": 1})
        finally:
            self._report("done", {})

    def status(self, text: str) -> None:
        """A short line on the current bar (the loss, the setting being trained)."""
        self._report("advance", {"n": 0, "status": text})

    def _report(self, event: str, info: dict) -> None:
        if self.progress is not None:
            self.progress(event, info)


@dataclass
class Experiment:
    """One claim, measured: ``name`` (the command's word), ``number`` (its place in the
    list), ``title`` (the claim in a few words), ``claim`` (the claim as the textbooks put it),
    ``run`` and the minutes it takes on 2 cores (``minutes``, ``quick_seconds``)."""

    name: str
    number: int
    title: str
    claim: str
    run: Callable[[Context], Result]
    minutes: float
    quick_seconds: float
    data: str = ""


# -- numbers for verdicts ------------------------------------------------------------------
def mean_spread(values: Sequence[float]) -> tuple[float, float]:
    """The mean and the sample standard deviation (0 for a single value)."""
    values = [float(v) for v in values]
    mean = statistics.fmean(values)
    return mean, (statistics.stdev(values) if len(values) > 1 else 0.0)


def mean_pm(values: Sequence[float], digits: int = 3) -> str:
    """``"1.234 ± 0.056 (3 seeds)"``, or the single value with "(1 seed)"."""
    mean, spread = mean_spread(values)
    n = len(values)
    seeds = f"{n} seed{'s' if n != 1 else ''}"
    if n == 1:
        return f"{mean:.{digits}f} ({seeds})"
    return f"{mean:.{digits}f} ± {spread:.{digits}f} ({seeds})"


def clearly_apart(a: Sequence[float], b: Sequence[float]) -> bool:
    """True when ``mean(a) - mean(b)`` exceeds twice the larger of the two spreads: a
    difference the seeds' noise does not explain (always True with one seed each, where the
    noise is unknown; verdicts say so)."""
    ma, sa = mean_spread(a)
    mb, sb = mean_spread(b)
    return ma - mb > 2 * max(sa, sb)


def finite(x: float) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)
