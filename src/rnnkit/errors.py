"""Errors a user can cause.

Library code raises :class:`RnnkitError` (or one of its kinds) with a message that names the
problem and the fix; the command line prints that message as one line and exits with code 2.
Shape and argument mistakes in the tensor API raise plain ``ValueError``, as torch does.
"""

from __future__ import annotations


class RnnkitError(Exception):
    """A problem the user can fix: the message says what is wrong and what to do.

    ``parameters`` lists the settings the message names, as the Python API spells them
    (``"batch"``, ``"clip_at"``); the command line writes each as its option (``--batch``).
    """

    def __init__(self, message: str = "", *, parameters: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.parameters = tuple(parameters)


class DataError(RnnkitError):
    """Input data is missing, empty, unreadable or of the wrong kind."""


class ConfigError(RnnkitError):
    """An option or configuration value is out of range or inconsistent.

    ``parameter`` names the setting at fault as the Python API spells it (``"hidden"``,
    ``"clip_at"``); the message begins with that name. The command line rewrites it to its
    option (``--hidden``, ``--clip-at``), so the library speaks of parameters, the CLI of flags.
    """

    def __init__(self, message: str, parameter: str | None = None, *,
                 parameters: tuple[str, ...] = ()) -> None:
        names = ((parameter,) if parameter else ()) + tuple(parameters)
        super().__init__(message, parameters=names)
        self.parameter = parameter

    @classmethod
    def bad(cls, parameter: str, problem: str) -> ConfigError:
        """``ConfigError.bad("hidden", "must be positive, got 0")``: 'hidden must be ...'."""
        return cls(f"{parameter} {problem}", parameter)


class CheckpointError(RnnkitError):
    """A model directory is missing, incomplete or corrupt."""
