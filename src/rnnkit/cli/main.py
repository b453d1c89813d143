"""Entry point: parse ``rnnkit GROUP VERB ...``, run it, turn user errors into one line."""

from __future__ import annotations

import argparse
import difflib
import importlib
import os
import re
import sys

from rnnkit.errors import ConfigError, RnnkitError

# each module defines register(subparsers) that adds its group and sets `func` on its verbs
GROUPS = (
    "rnnkit.cli.demo",
    "rnnkit.cli.data",
    "rnnkit.cli.lm",
    "rnnkit.cli.forecast",
    "rnnkit.cli.classify",
    "rnnkit.cli.tag",
    "rnnkit.cli.seq2seq",
    "rnnkit.cli.ctc",
    "rnnkit.cli.caption",
    "rnnkit.cli.experiment",
)


class Parser(argparse.ArgumentParser):
    """argparse with its usage errors as one line (``rnnkit: error: ...``, exit code 2) that
    says where the help is, instead of the whole usage block; subcommands inherit it."""

    def error(self, message: str):
        self.exit(2, f"rnnkit: error: {self.prog}: {message}; see {self.prog} --help\n")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line, or only the group ``only`` (the others' modules, which import
    torch and the task code, then stay unloaded: ``rnnkit data list`` starts quickly)."""
    parser = Parser(
        prog="rnnkit", description="Recurrent neural networks on the CPU, exact and fast."
    )
    from rnnkit import __version__

    parser.add_argument("--version", action="version", version=f"rnnkit {__version__}")
    parser.add_argument("--cells", metavar="FILE|MODULE", action="append",
                        help="import a file or module that registers cells of your own "
                             "(rnnkit.register_cell), before the command; also $RNNKIT_CELLS")
    groups = parser.add_subparsers(dest="group", metavar="GROUP", required=True)
    for name in GROUPS:
        if only is not None and name.rsplit(".", 1)[1] != only:
            continue
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as missing:
            if missing.name != name:
                raise
            continue
        module.register(groups)
    return parser


def load_cells(argv: list[str]) -> list[str]:
    """Import the cell plugins named by leading ``--cells X`` options and ``$RNNKIT_CELLS``
    (paths or modules, separated by the path separator); returns the rest of ``argv``."""
    wanted = [p for p in os.environ.get("RNNKIT_CELLS", "").split(os.pathsep) if p.strip()]
    rest = list(argv)
    while rest and (rest[0] == "--cells" or rest[0].startswith("--cells=")):
        if rest[0] == "--cells":
            if len(rest) < 2:
                raise RnnkitError("--cells needs a file or module that registers cells")
            wanted.append(rest[1])
            rest = rest[2:]
        else:
            wanted.append(rest[0].split("=", 1)[1])
            rest = rest[1:]
    if wanted:  # imported only when asked: `rnnkit data ...` starts without torch
        from rnnkit.cells.plugins import import_plugin

        for plugin in wanted:
            import_plugin(plugin)
    return rest


def unknown_option(parser: argparse.ArgumentParser, argv: list[str]) -> str | None:
    """The first ``--option`` in ``argv`` that its command lacks, with the closest one it has.

    Checked before argparse reads the line: argparse would report a misspelt required option
    as missing ("required: --horizon") before the unknown one, and prints no suggestion.
    Unambiguous abbreviations stay allowed, as argparse allows them.
    """
    command = parser
    for word in argv:  # down the groups and verbs named on the line
        verbs = next((a.choices for a in command._actions
                      if isinstance(a, argparse._SubParsersAction)), None)
        if verbs is None or word not in verbs:
            break
        command = verbs[word]
    known = sorted(command._option_string_actions)
    for word in argv:
        if word == "--":
            break
        name = word.split("=", 1)[0]
        if not name.startswith("--") or any(k.startswith(name) for k in known):
            continue
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        return f"{command.prog}: unknown option {name}{hint} (see {command.prog} --help)"
    return None


def attach_negative_values(argv: list[str]) -> list[str]:
    """``--time -5s`` -> ``--time=-5s``: argparse takes a word that starts with ``-`` and is
    not a plain number for an option and says "expected one argument"; attached, the value
    reaches its check, which names the real problem."""
    out: list[str] = []
    for word in argv:
        if (out and out[-1].startswith("--") and "=" not in out[-1]
                and re.fullmatch(r"-[0-9.]+[a-z]*", word)):
            out[-1] = f"{out[-1]}={word}"
        else:
            out.append(word)
    return out


def main(argv: list[str] | None = None) -> int:
    from rnnkit.cli.options import expand_option_files, flag_message

    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        argv = expand_option_files(argv)  # @FILE: options written in a file
    except ConfigError as problem:
        print(f"rnnkit: error: {problem}", file=sys.stderr)
        return 2
    try:
        argv = load_cells(argv)  # --cells FILE|MODULE (and RNNKIT_CELLS): users' own cells
    except RnnkitError as problem:
        print(f"rnnkit: error: {problem}", file=sys.stderr)
        return 2
    argv = attach_negative_values(argv)
    names = {name.rsplit(".", 1)[1] for name in GROUPS}
    parser = build_parser(argv[0] if argv and argv[0] in names else None)
    unknown = unknown_option(parser, argv)
    if unknown:
        print(f"rnnkit: error: {unknown}", file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    try:
        if getattr(args, "inference_precision", False) and args.precision == "bf16":
            import torch

            with torch.autocast("cpu", dtype=torch.bfloat16):
                result = args.func(args)
        else:
            result = args.func(args)
    except RnnkitError as problem:
        print(f"rnnkit: error: {flag_message(problem)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("rnnkit: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (``rnnkit data list | head``): not an error
        sys.stderr.close()
        return 0
    finally:
        _record(args, argv)
    return int(result or 0)


def _record(args, argv: list[str]) -> None:
    """A trained directory keeps the command that made it (``rnnkit @DIR/options.txt``)."""
    out = getattr(args, "out", None)
    if getattr(args, "verb", None) in ("train", "backtest") and out is not None:
        from rnnkit.tasks.base import record_command

        try:
            record_command(out, argv)
        except OSError:
            pass  # a read-only or vanished directory: the run itself is what matters


if __name__ == "__main__":
    sys.exit(main())
