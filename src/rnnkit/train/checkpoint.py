"""Checkpoints: safetensors for tensors, JSON for everything else, every file written atomically.

A model directory holds ``config.json`` (what to rebuild: model config, vocabulary, training
options), ``model.safetensors`` (the best weights so far) and ``checkpoint/`` (the latest state
to resume from: ``model.safetensors``, ``trainer.safetensors`` with optimizer state, carried state
and RNG, and ``trainer.json``). Nothing is pickled. A file is written to a temporary name beside
its target and renamed over it; a checkpoint, several files, is written whole into a new folder
that then takes the place of the old one (:func:`save_checkpoint`), so a process killed at any
moment leaves the previous checkpoint or the new one, never a mix, and :func:`checkpoint_dir`
finds it (:func:`recover` finishes a swap cut short).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from rnnkit.errors import CheckpointError

CONFIG = "config.json"
WEIGHTS = "model.safetensors"
RESUME_DIR = "checkpoint"
COMPLETE = "trainer.json"  # written last: a checkpoint folder without it is incomplete
_NEW, _OLD = ".checkpoint-new", ".checkpoint-old"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: Path, write) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        # mkstemp makes the file 0600; give it the mode open() would have given it
        os.chmod(tmp, 0o666 & ~_umask())
        # on disk before the rename, or a power cut can leave an empty file under the real name
        with open(tmp, "rb") as written:
            os.fsync(written.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, obj: Any) -> None:
    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(obj, f, indent=2, sort_keys=False)
            f.write("\n")

    atomic_write(Path(path), write)


def write_tensors(path: Path, tensors: dict[str, torch.Tensor]) -> None:
    # tied weights share storage, which safetensors refuses: store independent copies
    flat = {k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}
    atomic_write(Path(path), lambda tmp: save_file(flat, tmp))


def read_json(path: Path) -> Any:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path} is missing: is this a model directory written by rnnkit?")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as bad:
        raise CheckpointError(f"{path} is corrupt ({bad}); retrain or restore it") from None


def read_tensors(path: Path) -> dict[str, torch.Tensor]:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path} is missing: is this a model directory written by rnnkit?")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as bad:
        raise CheckpointError(f"{path} is corrupt ({bad}); retrain or restore it") from None


def optimizer_to_files(optimizer: torch.optim.Optimizer) -> tuple[dict, dict[str, torch.Tensor]]:
    """Split an optimizer's state dict into JSON-able data and named tensors."""
    state = optimizer.state_dict()
    tensors, scalars = {}, {}
    for index, slots in state["state"].items():
        for key, value in slots.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optimizer.{index}.{key}"] = value
            else:
                scalars.setdefault(str(index), {})[key] = value
    return {"param_groups": state["param_groups"], "scalars": scalars}, tensors


def optimizer_from_files(
    optimizer: torch.optim.Optimizer, data: dict, tensors: dict[str, torch.Tensor]
) -> None:
    state: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        if name.startswith("optimizer."):
            _, index, key = name.split(".", 2)
            state.setdefault(int(index), {})[key] = value
    for index, slots in data["scalars"].items():
        state.setdefault(int(index), {}).update(slots)
    optimizer.load_state_dict({"state": state, "param_groups": data["param_groups"]})


def load_weights(model: torch.nn.Module, path: Path) -> None:
    """Load ``path`` into ``model``; a mismatch is a CheckpointError, not a traceback."""
    tensors = read_tensors(path)
    try:
        model.load_state_dict(tensors)
    except RuntimeError as bad:
        first = str(bad).strip().splitlines()[0]
        raise CheckpointError(
            f"{path} does not fit the model in its config.json: {first}"
        ) from None


def _complete(folder: Path) -> bool:
    return (folder / COMPLETE).is_file()


def recover(out: str | Path) -> None:
    """Finish or undo a checkpoint swap that a killed process left half done: afterwards
    ``out/checkpoint`` is the newest complete checkpoint (if there is one) and the temporary
    folders are gone."""
    out = Path(out)
    current, new, old = out / RESUME_DIR, out / _NEW, out / _OLD
    if not _complete(current):
        for candidate in (new, old):  # the newer first: it was complete before the swap began
            if _complete(candidate):
                if current.exists():
                    shutil.rmtree(current)
                os.replace(candidate, current)
                break
    for leftover in (new, old):
        if leftover.exists():
            shutil.rmtree(leftover)


def checkpoint_dir(out: str | Path) -> Path | None:
    """The complete checkpoint of the run in ``out`` (after :func:`recover`), or None."""
    recover(out)
    current = Path(out) / RESUME_DIR
    return current if _complete(current) else None


def save_checkpoint(out: str | Path, write) -> Path:
    """Write a checkpoint whole: ``write(folder)`` fills a new folder (``trainer.json`` last),
    which then replaces ``out/checkpoint`` by two renames. Killed anywhere, the directory holds
    the old checkpoint or the new one (:func:`recover`)."""
    out = Path(out)
    recover(out)
    new, old, current = out / _NEW, out / _OLD, out / RESUME_DIR
    new.mkdir(parents=True)
    write(new)
    if not _complete(new):
        raise RuntimeError(f"a checkpoint must end with {COMPLETE}")
    if current.exists():
        os.replace(current, old)
    os.replace(new, current)
    _fsync_dir(out)
    if old.exists():
        shutil.rmtree(old)
    return current


def _fsync_dir(folder: Path) -> None:
    """Make the renames in ``folder`` durable (where the system allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
