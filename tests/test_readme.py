"""The README's Python stays true: its code blocks compile, everything they import from rnnkit
exists, and every attribute they use of an imported rnnkit module (``lm.fit``...) is there. The
blocks train for minutes, so they are not run here; examples/ is what runs."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_readme_has_python_and_it_compiles():
    blocks = python_blocks()
    assert blocks
    for block in blocks:
        compile(block, "README.md", "exec")


def test_readme_names_only_what_rnnkit_has():
    missing = []
    for block in python_blocks():
        modules: dict[str, object] = {}  # alias -> the rnnkit module or object it names
        tree = ast.parse(block)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == "rnnkit":
                        modules[alias.asname or alias.name] = importlib.import_module(alias.name)
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("rnnkit"):
                parent = importlib.import_module(node.module)
                for alias in node.names:
                    if not hasattr(parent, alias.name):
                        try:  # a submodule not imported by its package
                            importlib.import_module(f"{node.module}.{alias.name}")
                        except ImportError:
                            missing.append(f"{node.module}.{alias.name}")
                            continue
                    modules[alias.asname or alias.name] = getattr(parent, alias.name)
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in modules
                    and not hasattr(modules[node.value.id], node.attr)):
                missing.append(f"{node.value.id}.{node.attr}")
    assert missing == []
