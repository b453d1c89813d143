"""Command-line options built from the config dataclasses, in one place.

Every option of a model or training config comes from its field (:func:`rnnkit.config.param`):
the name (``clip_at`` -> ``--clip-at``), the type, the default and help (``(default: X)`` taken
from the dataclass), and the choices, read from the registries when the parser is built (cells,
optimizers, schedules...). The CLI therefore carries no defaults of its own, and its help cannot
go stale. ``config_from_args`` turns parsed options back into a config; fields the user did not
give keep the dataclass's (or the task's) default.

Options may also come from a file: ``rnnkit lm train @opts.txt`` reads one or more options per
line (shell quoting, ``#`` comments); ``options.txt`` in a model directory is such a file.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import shlex
from pathlib import Path

from rnnkit.cli.common import duration, positive_int
from rnnkit.config import choices_of
from rnnkit.errors import ConfigError

_TYPES = {"int": int, "float": float, "str": str}


def flag(name: str) -> str:
    """``clip_at`` -> ``--clip-at``."""
    return "--" + name.replace("_", "-")


def _base_type(annotation) -> tuple[type | None, bool]:
    """``(python type, optional)`` of a field annotation written as a string (``"int | None"``)."""
    text = str(annotation).replace(" ", "")
    optional = text.endswith("|None") or text.startswith("None|")
    text = text.replace("|None", "").replace("None|", "")
    if text == "bool":
        return bool, optional
    return _TYPES.get(text), optional


def cli_fields(config_class, skip=()) -> list[dataclasses.Field]:
    """The fields of ``config_class`` offered as options (declared ``cli=True``, simple types)."""
    fields = []
    for f in dataclasses.fields(config_class):
        if f.name in skip or not f.metadata.get("cli", False):
            continue
        kind, _ = _base_type(f.type)
        if kind is not None:
            fields.append(f)
    return fields


def add_config(group, config_class, defaults=None, *, skip=(), rename=None, helps=None) -> None:
    """Add an option per field of ``config_class`` to ``group``. ``defaults`` (an instance)
    supplies the defaults shown; ``rename`` maps a field to another flag; ``helps`` overrides a
    field's help for this command."""
    defaults = defaults if defaults is not None else config_class()
    rename, helps = rename or {}, helps or {}
    for f in cli_fields(config_class, skip):
        kind, _ = _base_type(f.type)
        default = getattr(defaults, f.name)
        text = helps.get(f.name, f.metadata.get("help", ""))
        name = rename.get(f.name, flag(f.name))
        if kind is bool:
            if default:
                group.add_argument("--no-" + name[2:], dest=f.name, action="store_false",
                                   default=None, help=f"turn off: {text}" if text else None)
            else:
                group.add_argument(name, dest=f.name, action="store_true", default=None,
                                   help=text)
            continue
        choices = choices_of(f)
        shown = f" (default: {default})" if default not in (None, "") else ""
        group.add_argument(name, dest=f.name, type=kind, default=None, metavar=None if choices
                           else f.name.upper(), choices=choices,
                           help=f"{text}{shown}" if text else shown.strip() or None)


def config_from_args(config_class, args: argparse.Namespace, base=None, *, skip=()):
    """A ``config_class`` with the options the user gave (the rest from ``base`` or defaults)."""
    config = dataclasses.replace(base) if base is not None else config_class()
    changes = {}
    for f in cli_fields(config_class, skip):
        value = getattr(args, f.name, None)
        if value is not None:
            changes[f.name] = value
    return dataclasses.replace(config, **changes)


def add_budget(group, default_train=None) -> None:
    """``--steps`` or ``--time``: the training budget; both: steps capped by time."""
    shown = ""
    if default_train is not None and default_train.time:
        shown = f" (default: {default_train.time:.0f}s)"
    group.add_argument("--time", type=duration, help=f"wall-time budget, e.g. 90s, 5m{shown}; "
                       "with --steps, a cap that may end the run first")
    group.add_argument("--steps", type=positive_int, help="optimizer steps budget: the same "
                       "model on any machine (the schedule follows the steps)")


def add_training(parser, default_train, *, skip=()) -> None:
    """The optimisation group: budget and every TrainConfig option, defaults of this task."""
    from rnnkit.train.loop import TrainConfig

    group = parser.add_argument_group("optimisation")
    add_budget(group, default_train)
    add_config(group, TrainConfig, default_train, skip=skip)


def train_config_from_args(args: argparse.Namespace, default_train):
    """The task's default TrainConfig with the user's options and budget."""
    from rnnkit.train.loop import TrainConfig

    config = config_from_args(TrainConfig, args, default_train)
    return config.with_budget(getattr(args, "steps", None), getattr(args, "time", None))


def expand_option_files(argv: list[str]) -> list[str]:
    """Replace each ``@FILE`` with the options written in it (recursively, shell-quoted)."""
    expanded: list[str] = []
    for word in argv:
        if not word.startswith("@") or len(word) == 1:
            expanded.append(word)
            continue
        path = Path(word[1:])
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as bad:
            raise ConfigError(f"cannot read the options file {path}: "
                              f"{getattr(bad, 'strerror', None) or bad}") from None
        try:
            words = shlex.split(text, comments=True)
        except ValueError as bad:
            raise ConfigError(f"the options file {path} is not readable as options: {bad}") \
                from None
        expanded += expand_option_files(words)
    return expanded


def flag_message(problem: Exception) -> str:
    """The error as the command line says it: the parameters it names written as options
    (``batch`` -> ``--batch``, where the word stands alone)."""
    message = str(problem)
    for name in getattr(problem, "parameters", ()):
        message = re.sub(rf"(?<![\w-]){re.escape(name)}(?![\w-])", flag(name), message)
    return message


def add_precision(parser) -> None:
    """``--precision fp32|bf16`` on a command that uses a trained model (training has its own,
    in TrainConfig): bf16 runs the whole command under the CPU's bfloat16 autocast."""
    parser.add_argument("--precision", choices=("fp32", "bf16"), default="fp32",
                        help="arithmetic of the model: fp32, or bf16 (CPU autocast: matrix "
                             "products in bfloat16, faster where the CPU has bf16 "
                             "instructions, about 3 significant digits)")
    parser.set_defaults(inference_precision=True)


def add_force(parser) -> None:
    """``--force``: train into a directory that already holds a model, replacing it."""
    parser.add_argument("--force", action="store_true",
                        help="replace the model already in --out (else refused; see --resume)")
