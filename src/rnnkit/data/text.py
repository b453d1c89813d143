"""Reading a user's text file, and the two tokenizers (characters, words).

A tokenizer turns text into a list of string tokens and back; :class:`~rnnkit.data.vocab.
Vocabulary` maps tokens to ids. Newlines: ``read_text_file`` turns ``\\r\\n`` and ``\\r`` into
``\\n``; the character tokenizer keeps ``\\n`` as a token, the word tokenizer marks each line end
with ``<eos>``.
"""

from __future__ import annotations

import codecs
import os
import re
from collections.abc import Sequence
from pathlib import Path

from rnnkit.errors import ConfigError, DataError

UNK = "<unk>"
EOS = "<eos>"


def check_length(count: int, minimum: int, what: str, unit: str = "characters",
                 why: str = "") -> None:
    """Raise a DataError if ``count < minimum``; ``why`` explains the minimum (", for ...")."""
    if count < minimum:
        raise DataError(f"{what} has {count:,} {unit}, fewer than the {minimum:,} needed{why}; "
                        "give a longer text")


def read_text_file(path: str | os.PathLike, encoding: str = "utf-8", min_chars: int = 1) -> str:
    """The text of a file, with newlines made ``\\n`` and a UTF-8 byte-order mark removed.

    Raises :class:`DataError` naming the problem and the fix for a missing file, a folder, an
    empty (or blank) file, a binary file (NUL bytes), bytes that are not valid in ``encoding``,
    or fewer than ``min_chars`` characters; :class:`ConfigError` for an unknown encoding.
    """
    path = Path(path).expanduser()
    try:
        codec = codecs.lookup(encoding).name
    except LookupError:
        raise ConfigError(f"unknown encoding {encoding!r}; use a Python codec name such as "
                          "utf-8, latin-1 or cp1252") from None
    if not path.exists():
        raise DataError(f"no such file: {path}; check the path")
    if path.is_dir():
        raise DataError(f"{path} is a folder, not a text file; give a file inside it")
    try:
        data = path.read_bytes()
    except OSError as problem:
        raise DataError(f"cannot read {path} ({problem.strerror}); check its permissions") from None
    wide = codec.startswith(("utf-16", "utf-32"))
    if b"\x00" in data and not wide:
        utf16 = data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
        hint = "it looks like UTF-16: give encoding utf-16" if utf16 else "give a plain-text file"
        raise DataError(f"{path} looks binary (it contains NUL bytes), not text; {hint}",
                        parameters=("encoding",))
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as bad:
        raise DataError(
            f"{path} is not valid {encoding} (byte 0x{data[bad.start]:02x} at offset {bad.start}); "
            "give encoding latin-1 (or the file's real one), or re-save it as UTF-8",
            parameters=("encoding",),
        ) from None
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise DataError(f"{path} is empty; give a file with text in it")
    check_length(len(text), min_chars, str(path))
    return text


class CharTokenizer:
    """Every character is a token (``"\\n"`` included): ``join(split(text)) == text``."""

    level = "char"

    def __init__(self, lower: bool = False) -> None:
        self.lower = lower

    def split(self, text: str) -> list[str]:
        return list(text.lower() if self.lower else text)

    def join(self, tokens: Sequence[str]) -> str:
        return "".join(tokens)

    @staticmethod
    def piece(before: str | None, token: str) -> str:
        """The text ``token`` adds after token ``before``: the token itself."""
        return token

    def to_dict(self) -> dict:
        return {"level": self.level, "lower": self.lower}


# a word is letters/digits with inner apostrophes ("we'll", "know't"); every other
# non-space character is a token of its own
_WORD = re.compile(r"\w+(?:['’]\w+)*|[^\w\s]")
_NO_SPACE_BEFORE = frozenset(",.;:!?)]}")
_NO_SPACE_AFTER = frozenset("([{")


class WordTokenizer:
    """Words and punctuation marks are tokens; ``<eos>`` ends every line (if ``eos``).

    ``split("Speak, speak.\\n")`` is ``["Speak", ",", "speak", ".", "<eos>"]``. ``join`` puts
    single spaces between tokens except before closing and after opening punctuation, so
    ``split(join(tokens)) == tokens``: text round-trips up to spacing.
    """

    level = "word"

    def __init__(self, lower: bool = False, eos: bool = True) -> None:
        self.lower = lower
        self.eos = eos

    def split(self, text: str) -> list[str]:
        if self.lower:
            text = text.lower()
        if not self.eos:
            return _WORD.findall(text)
        lines = text.split("\n")
        if text.endswith("\n"):
            lines.pop()  # the empty piece after the last newline is not a line
        tokens: list[str] = []
        for line in lines:
            tokens.extend(_WORD.findall(line))
            tokens.append(EOS)
        return tokens

    def join(self, tokens: Sequence[str]) -> str:
        befores = [None, *tokens][: len(tokens)]
        return "".join(self.piece(before, token) for before, token in zip(befores, tokens))

    @staticmethod
    def piece(before: str | None, token: str) -> str:
        """The text ``token`` adds after token ``before`` (None at the start): lets a sampler
        print words as they come, exactly as ``join`` would write them."""
        if token == EOS:
            return "\n"
        glued = before in (None, EOS) or token in _NO_SPACE_BEFORE or before in _NO_SPACE_AFTER
        return token if glued else " " + token

    def to_dict(self) -> dict:
        return {"level": self.level, "lower": self.lower, "eos": self.eos}


Tokenizer = CharTokenizer | WordTokenizer


def make_tokenizer(level: str = "char", lower: bool = False, eos: bool = True) -> Tokenizer:
    """``level`` is ``"char"`` or ``"word"``; ``eos`` only matters for words."""
    if level == "char":
        return CharTokenizer(lower=lower)
    if level == "word":
        return WordTokenizer(lower=lower, eos=eos)
    raise ConfigError(f"unknown tokenizer level {level!r}; use 'char' or 'word'")


def tokenizer_from_dict(config: dict) -> Tokenizer:
    """Inverse of ``tokenizer.to_dict()``."""
    return make_tokenizer(**config)
