"""Entry point: parse ``rnnkit GROUP VERB ...``, run it, turn user errors into one line."""

from __future__ import annotations

import argparse
import importlib
import sys

from rnnkit.errors import RnnkitError

# each module defines register(subparsers) that adds its group and sets `func` on its verbs
GROUPS = (
    "rnnkit.cli.demo",
    "rnnkit.cli.data",
    "rnnkit.cli.lm",
    "rnnkit.cli.forecast",
    "rnnkit.cli.classify",
    "rnnkit.cli.tag",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rnnkit", description="Recurrent neural networks on the CPU, exact and fast."
    )
    groups = parser.add_subparsers(dest="group", metavar="GROUP", required=True)
    for name in GROUPS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as missing:
            if missing.name != name:
                raise
            continue
        module.register(groups)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result = args.func(args)
    except RnnkitError as problem:
        print(f"rnnkit: error: {problem}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("rnnkit: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (``rnnkit data list | head``): not an error
        sys.stderr.close()
        return 0
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
