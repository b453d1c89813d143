"""What every task shares: the Config base, the model directory, and the fit scaffold.

A task is a package of :mod:`rnnkit.tasks` (``lm``, ``classify``, ``tag``, ``forecast``) with the
same shape: ``__init__`` (its public API: ``fit``, ``load``, ``evaluate``, ``predict``...),
``model.py`` (the ``nn.Module`` and its :class:`Config`), ``task.py`` (batches -> loss and
metrics, the :class:`~rnnkit.train.loop.TrainTask` the trainer runs) and ``data.py``. This module
holds what they would otherwise each copy:

- :class:`Config`: ``check``, ``to_dict``, ``from_dict`` written once, and :func:`param` to
  declare a field with the help text (and choices) the command line shows for it;
- the model directory: :func:`write_config` (``config.json`` with a ``format`` version and the
  ``task`` name), :func:`read_config` (open and validate), :func:`load_model`,
  :func:`write_metrics`, :func:`add_evaluation`;
- the fit scaffold: :func:`resume_settings` and :func:`resumed_train_config` (``resume=True``),
  :func:`train` (run the Trainer, keep the best weights, write ``metrics.csv``) and
  :func:`run_summary` (the numbers every task reports about its run).

A model directory holds ``config.json``, ``model.safetensors`` (the best validation weights),
``checkpoint/`` (the state to resume from), ``metrics.json`` and ``metrics.csv``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from rnnkit.config import Config, choices_of, param  # noqa: F401 (the tasks' config base)
from rnnkit.errors import CheckpointError, ConfigError, RnnkitError
from rnnkit.train import checkpoint as ckpt

FORMAT = 2  # config.json's layout; directories written before it had no "format" (= 1)
CONFIG, WEIGHTS, METRICS = ckpt.CONFIG, ckpt.WEIGHTS, "metrics.json"
Callback = Callable[[str, dict], "bool | None"]
LOCK = ".lock"  # held (flock) by the process training into the directory
_HELD: dict[str, list] = {}  # resolved directory -> [lock file descriptor, depth]


# -- the model directory --------------------------------------------------------------------
def write_config(directory: str | Path, task: str, content: dict) -> dict:
    """Write ``config.json`` (atomically): ``format`` and ``task`` first, then ``content``."""
    saved = {"format": FORMAT, "task": task}
    saved.update({k: v for k, v in content.items() if k not in ("format", "task")})
    ckpt.write_json(Path(directory) / CONFIG, saved)
    return saved


def read_config(directory: str | Path, task: str | None = None) -> dict:
    """Open a model directory's ``config.json`` and check it is one rnnkit can read (of the
    given ``task``, if any): one-line :class:`CheckpointError`\\s that say what to do."""
    directory = Path(directory)
    verb = f"rnnkit {task} train" if task else "an rnnkit train command"
    if not directory.is_dir():
        raise CheckpointError(f"no model directory at {directory}; train one with {verb}")
    saved = ckpt.read_json(directory / CONFIG)
    if not isinstance(saved, dict) or "task" not in saved:
        raise CheckpointError(f"{directory}/config.json was not written by rnnkit (it names no "
                              f"task); give a directory written by {verb}")
    version = saved.get("format", 1)
    if not isinstance(version, int) or version > FORMAT:
        raise CheckpointError(f"{directory} has model format {version!r}, newer than this rnnkit "
                              f"reads ({FORMAT}); upgrade rnnkit to load it")
    if task is not None and saved["task"] != task:
        raise CheckpointError(f"{directory}/config.json describes a {saved['task']!r} model, not "
                              f"a {task!r} one; give a directory written by {verb}")
    return saved


def load_model(directory: str | Path, task: str, build: Callable[[dict], Any]):
    """``(built, saved)``: ``build(saved config)`` (the task's loaded model), its weights read
    from ``model.safetensors``; a config that does not rebuild is a one-line error."""
    directory = Path(directory)
    saved = read_config(directory, task)
    try:
        built = build(saved)
    except ConfigError as bad:
        if bad.parameter == "cell":
            raise CheckpointError(f"{directory} uses a cell that is not registered here ({bad}); "
                                  "import the file that registers it first (rnnkit --cells "
                                  "FILE, or RNNKIT_CELLS=FILE)") from None
        raise CheckpointError(f"{directory}/config.json is damaged (ConfigError: {bad}); "
                              "retrain or restore it") from None
    except (KeyError, TypeError, AttributeError, ValueError) as bad:
        raise CheckpointError(f"{directory}/config.json is damaged ({type(bad).__name__}: "
                              f"{bad}); retrain or restore it") from None
    model = getattr(built, "model", built)
    ckpt.load_weights(model, directory / WEIGHTS)
    model.eval()
    return built, saved


def write_metrics(directory: str | Path, metrics: dict) -> dict:
    ckpt.write_json(Path(directory) / METRICS, metrics)
    return metrics


def add_evaluation(directory: str | Path, key: str, report: dict) -> Path:
    """Keep ``report`` under ``metrics.json["evaluate"][key]`` (the training metrics stay)."""
    path = Path(directory) / METRICS
    metrics = ckpt.read_json(path) if path.is_file() else {}
    metrics.setdefault("evaluate", {})[key] = report
    ckpt.write_json(path, metrics)
    return path


def record_command(directory: str | Path, argv: Sequence[str]) -> Path | None:
    """Write ``options.txt``: the command that trained the directory, one option per line,
    so that ``rnnkit @DIR/options.txt`` repeats it. A resumed run keeps the first record."""
    import shlex

    path = Path(directory) / "options.txt"
    if not Path(directory).is_dir() or path.exists():
        return None
    lines: list[str] = []
    open_option = False  # the last line is an option still without its value
    for word in argv:
        if word.startswith("-") and not _is_number(word):
            lines.append(word)
            open_option = "=" not in word
        elif open_option:
            lines[-1] += " " + shlex.quote(word)
            open_option = False
        else:
            lines.append(shlex.quote(word))
    ckpt.atomic_write(path, lambda tmp: Path(tmp).write_text("\n".join(lines) + "\n"))
    return path


def _is_number(word: str) -> bool:
    try:
        float(word)
    except ValueError:
        return False
    return True


# -- the fit scaffold -----------------------------------------------------------------------
def check_size(what: str, got: int, expected: int) -> None:
    """A part of ``config.json`` that must match the weights (a vocabulary, a tag list): a
    mismatch is a ConfigError, which :func:`load_model` reports as a damaged directory."""
    if got != expected:
        raise ConfigError(f"{what} holds {got} entries but the model was built for {expected}")


def holds_model(directory: str | Path) -> bool:
    """Whether ``directory`` holds a trained model or a run's checkpoint."""
    directory = Path(directory)
    return (directory / WEIGHTS).is_file() or ckpt.checkpoint_dir(directory) is not None


@contextlib.contextmanager
def claim(out: str | Path, resume: bool = False, force: bool = False) -> Iterator[Path]:
    """Hold the directory ``out`` for one run: made if missing, locked against a second
    process training into it (one line names the one that holds it), and, unless ``resume``
    or ``force``, refused if it already holds a trained model. ``force`` clears the old run's
    checkpoint so that nothing resumes it. Re-entrant within a process."""
    out = Path(out)
    if not resume and holds_model(out) and not force:
        raise ConfigError(f"{out} already holds a trained model; continue it with resume, "
                          "write to another directory, or replace it with force",
                          parameters=("resume", "force"))
    try:
        out.mkdir(parents=True, exist_ok=True)
        key = str(out.resolve())
        held = _HELD[key][0] if key in _HELD else _lock(out)
    except OSError as failed:
        raise RnnkitError(f"cannot write to {out} ({failed.strerror or failed}); choose a "
                          "directory you can write to") from None
    _HELD.setdefault(key, [held, 0])[1] += 1
    try:
        if force and not resume:
            shutil.rmtree(out / ckpt.RESUME_DIR, ignore_errors=True)
            (out / "options.txt").unlink(missing_ok=True)
        yield out
    except OSError as failed:  # a full disk, a folder gone read-only, a vanished mount
        where = f"{failed.filename}: " if failed.filename else ""
        raise RnnkitError(f"writing to {out} failed ({where}{failed.strerror or failed}); free "
                          "space or choose another directory (the files written before, the "
                          "last checkpoint among them, are intact)") from None
    finally:
        held = _HELD[key]
        held[1] -= 1
        if held[1] == 0:
            del _HELD[key]
            if held[0] is not None:
                os.close(held[0])  # closing releases the flock


def _lock(out: Path) -> int | None:
    """An exclusive flock on ``out/.lock`` holding this process's id; None where the system
    has no flock."""
    try:
        import fcntl
    except ImportError:  # Windows: no lock
        return None
    fd = os.open(out / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = os.read(fd, 32).decode(errors="replace").strip()
        os.close(fd)
        who = f"process {holder}" if holder.isdigit() else "another process"
        raise RnnkitError(f"{who} is training into {out} now; wait for it to end, or write to "
                          "another directory") from None
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode())
    return fd


def resume_settings(out: str | Path, task: str, data: Any = None) -> dict:
    """The saved config of the run in ``out`` that ``resume=True`` continues; ``data``, when
    given, must be what it was trained on. A run stopped before its first checkpoint resumes
    from its start (:func:`train`), with the same settings."""
    out = Path(out)
    saved = read_config(out, task)
    trained_on = saved.get("data")
    if isinstance(trained_on, dict):
        trained_on = trained_on.get("source")
    if data is not None and not isinstance(data, str | Path):
        return saved  # data given as an object: the caller knows what it resumes
    if data is not None and trained_on is not None and str(data) != str(trained_on):
        raise ConfigError(f"data: {out} was trained on {trained_on!r}, not {str(data)!r}; "
                          "resume continues with the saved data and model (drop the data, or "
                          "write to a new directory)", "data")
    return saved


def resumed_train_config(saved: dict, given=None):
    """The saved TrainConfig, with the budget (steps, time) of ``given`` when there is one."""
    from rnnkit.train.loop import TrainConfig

    stored = TrainConfig(**saved["train"])
    if given is not None:
        stored.steps, stored.time = given.steps, given.time
    return stored


def train(task, train_config, out: str | Path, callback: Callback | None = None,
          resume: bool = False, *, progress_hook: bool = False):
    """Run the trainer on ``task`` into ``out``, then load the best validation weights into
    ``task.model`` (in eval mode) and write ``metrics.csv``. Returns the TrainState.

    ``progress_hook`` gives the task the trainer's ``progress()`` (0..1 of the budget), for
    schedules of its own (scheduled sampling).
    """
    from rnnkit.train.logs import write_csv
    from rnnkit.train.loop import Trainer

    out = Path(out)
    resume = resume and ckpt.checkpoint_dir(out) is not None  # else: killed before the first
    trainer = Trainer(task, train_config, out, callback)
    if progress_hook:
        task.progress = trainer.progress
    state = trainer.run(resume=resume)
    ckpt.load_weights(task.model, out / WEIGHTS)
    task.model.eval()
    write_csv(state.history, out / "metrics.csv")
    return state


def run_summary(state, model=None) -> dict:
    """What every task says about its run: status, steps, time, speed, clipping."""
    summary = {
        "status": state.status,
        "stopped_by": state.stopped_by,
        "steps": state.step,
        "train_seconds": round(state.elapsed, 2),
        "tokens_per_second": round(state.tokens / max(state.step_seconds, 1e-9)),
        "clipped_fraction": state.clipped_steps / max(1, state.step),
        "best_step": state.best_step,
    }
    if model is not None:
        summary["parameters"] = sum(p.numel() for p in model.parameters())
    return summary
