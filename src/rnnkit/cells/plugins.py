"""Cells of a user's own, brought in by file or module name (``rnnkit --cells my_cell.py``).

The file is ordinary Python that defines a Cell and calls :func:`rnnkit.register_cell`; it runs
with the user's rights, exactly as ``python my_cell.py`` would. rnnkit never imports one on its
own: a model directory that names an unregistered cell asks for the file instead.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from rnnkit.errors import ConfigError


def import_plugin(name: str) -> ModuleType:
    """Import ``name``: a ``.py`` file (by path) or a module on ``sys.path``."""
    path = Path(name).expanduser()
    if name.endswith(".py") or path.is_file():
        if not path.is_file():
            raise ConfigError(f"cells: no file {path}; give the .py file that registers your "
                              "cells", "cells")
        module_name = f"rnnkit_cells_{path.stem}"
        if module_name in sys.modules:
            return sys.modules[module_name]
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as bad:
            del sys.modules[module_name]
            raise ConfigError(f"cells: {path} failed to import ({type(bad).__name__}: {bad})",
                              "cells") from None
        return module
    try:
        return importlib.import_module(name)
    except ImportError as bad:
        raise ConfigError(f"cells: cannot import the module {name!r} ({bad}); give a .py file "
                          "or a module on the Python path", "cells") from None
