"""Errors a user can cause.

Library code raises :class:`RnnkitError` (or one of its kinds) with a message that names the
problem and the fix; the command line prints that message as one line and exits with code 2.
Shape and argument mistakes in the tensor API raise plain ``ValueError``, as torch does.
"""

from __future__ import annotations


class RnnkitError(Exception):
    """A problem the user can fix: the message says what is wrong and what to do."""


class DataError(RnnkitError):
    """Input data is missing, empty, unreadable or of the wrong kind."""


class ConfigError(RnnkitError):
    """An option or configuration value is out of range or inconsistent."""


class CheckpointError(RnnkitError):
    """A model directory is missing, incomplete or corrupt."""
