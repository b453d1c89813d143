"""The config base every task's settings (and the trainer's) are built on.

A config is a dataclass deriving from :class:`Config`: ``check``, ``to_dict`` and ``from_dict``
are written once here, and each field is declared with :func:`param`, which also carries the
help text and choices the command line offers for it (:mod:`rnnkit.cli.options` builds the
options from the dataclasses, so help can never go stale).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from rnnkit.errors import ConfigError


def param(default: Any = dataclasses.MISSING, help: str = "", *, choices: Any = None,
          cli: bool = True, default_factory: Any = dataclasses.MISSING) -> Any:
    """A Config field with what the command line needs to offer it as an option.

    ``choices`` is a sequence, or a function returning one (read when the parser is built, so
    registries such as :func:`rnnkit.cells.cell_names` are current). ``cli=False`` marks what
    is filled in from the data (vocabulary size, class names) rather than chosen.
    """
    metadata = {"help": help, "choices": choices, "cli": cli}
    if default_factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def choices_of(field: dataclasses.Field) -> tuple | None:
    """The current choices of a field declared with :func:`param` (None: any value)."""
    found = field.metadata.get("choices")
    return tuple(found() if callable(found) else found) if found is not None else None


class Config:
    """Base of every task's model config, itself a dataclass in each task.

    Subclasses declare fields (with :func:`param`) and override :meth:`check`, built from the
    ``require_*`` helpers, whose errors name the parameter (the CLI shows it as its option).
    """

    def check(self) -> None:
        """Raise :class:`ConfigError` for a value out of range; every field is checked."""
        for f in dataclasses.fields(self):
            allowed = choices_of(f)
            if allowed is not None:
                self.require_choice(f.name, allowed)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict):
        """The config saved by :meth:`to_dict`; keys it does not know are ignored (a config
        written by a later version), keys it lacks take their defaults."""
        if not isinstance(data, dict):
            raise TypeError(f"a {cls.__name__} is read from a dict, got {type(data).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    # -- checks ----------------------------------------------------------------------------
    def require_positive(self, *names: str) -> None:
        for name in names:
            if getattr(self, name) <= 0:
                raise ConfigError.bad(name, f"must be positive, got {getattr(self, name)}")

    def require_at_least(self, name: str, low: float) -> None:
        if getattr(self, name) < low:
            raise ConfigError.bad(name, f"must be >= {low}, got {getattr(self, name)}")

    def require_fraction(self, name: str, *, closed: bool = False) -> None:
        """In [0, 1) (a dropout), or [0, 1] with ``closed``."""
        value = getattr(self, name)
        if not (0.0 <= value <= 1.0 if closed else 0.0 <= value < 1.0):
            raise ConfigError.bad(name, f"must be in [0, {'1]' if closed else '1)'}, got {value}")

    def require_choice(self, name: str, allowed: Sequence) -> None:
        value = getattr(self, name)
        if value not in allowed:
            raise ConfigError.bad(name, f"must be one of {', '.join(map(str, allowed))}, "
                                        f"got {value!r}")
