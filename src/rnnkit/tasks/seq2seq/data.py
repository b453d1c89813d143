"""Pairs for sequence-to-sequence: the built-in synthetic tasks (checks and teaching).

- ``addition``: ``"123+45" -> "168"``, Keras's addition example (numbers of up to ``digits``
  digits; ``reverse_input`` reverses the question, the trick that example uses);
- ``reverse``: a string of letters -> the same string backwards;
- ``sort``: a string of letters -> its letters in order.

:func:`synthetic` draws ``count`` distinct pairs with a seed; :func:`split_pairs` cuts them
into train / valid / test so that no source appears in two parts.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

from rnnkit.errors import ConfigError, DataError

SYNTHETIC = ("addition", "reverse", "sort")
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _possible(name: str, digits: int, lengths: tuple[int, int], letters: int) -> float:
    if name == "addition":
        return float(10 ** digits) ** 2
    low, high = lengths
    return float(sum(letters ** n for n in range(low, high + 1)))


def synthetic(name: str, count: int, seed: int = 0, *, digits: int = 3,
              lengths: tuple[int, int] = (3, 10), letters: int = 10,
              reverse_input: bool = False) -> list[tuple[str, str]]:
    """``count`` distinct ``(source, target)`` pairs of the task ``name``, the same for the
    same arguments."""
    if name not in SYNTHETIC:
        raise ConfigError.bad("data", f"names no synthetic task {name!r}; they are "
                                      f"{', '.join(SYNTHETIC)}")
    if not 1 <= letters <= len(LETTERS) or not 1 <= lengths[0] <= lengths[1] or digits < 1:
        raise ConfigError("synthetic tasks need 1 <= letters <= 26, 1 <= shortest <= longest "
                          "and digits >= 1", parameters=("letters", "lengths", "digits"))
    if count > _possible(name, digits, lengths, letters) / 2:
        raise ConfigError.bad("count", f"{count:,} is more than half the distinct {name} "
                                       "pairs there are; ask for fewer, or longer or larger ones")
    rng = random.Random(f"{name}:{seed}")
    alphabet = LETTERS[:letters]
    seen: set[str] = set()
    pairs = []
    while len(pairs) < count:
        if name == "addition":
            a, b = (rng.randrange(10 ** rng.randint(1, digits)) for _ in range(2))
            source, target = f"{a}+{b}", str(a + b)
            if reverse_input:
                source = source[::-1]
        else:
            size = rng.randint(*lengths)
            source = "".join(rng.choice(alphabet) for _ in range(size))
            target = source[::-1] if name == "reverse" else "".join(sorted(source))
        if source not in seen:
            seen.add(source)
            pairs.append((source, target))
    return pairs


def split_pairs(pairs: list[tuple[str, str]], fractions=(0.8, 0.1, 0.1), seed: int = 0
                ) -> tuple[list, list, list]:
    """Train / valid / test parts, shuffled with ``seed``, no source in two parts (a source
    that occurs twice goes, with all its pairs, to one part)."""
    if len(fractions) != 3 or min(fractions) < 0 or abs(sum(fractions) - 1) > 1e-6:
        raise ConfigError.bad("split", f"must be three fractions summing to 1, got {fractions}")
    sources = sorted({source for source, _ in pairs})
    random.Random(seed).shuffle(sources)
    cut1 = round(len(sources) * fractions[0])
    cut2 = cut1 + round(len(sources) * fractions[1])
    part = {source: (0 if i < cut1 else 1 if i < cut2 else 2) for i, source in enumerate(sources)}
    parts: tuple[list, list, list] = ([], [], [])
    for pair in pairs:
        parts[part[pair[0]]].append(pair)
    return parts


# ---------------------------------------------------------------- users' files of pairs

SOURCE_NAMES = ("src", "source", "input", "question", "prompt", "from")
TARGET_NAMES = ("tgt", "target", "output", "answer", "translation", "to")


def read_pairs(path, src_col: str | None = None, tgt_col: str | None = None,
               encoding: str = "utf-8") -> tuple[list[tuple[str, str]], dict[str, int]]:
    """The ``(source, target)`` pairs of a TSV/CSV/JSONL file and what was skipped.

    Columns are ``src_col``/``tgt_col``, else found by name (:data:`SOURCE_NAMES`,
    :data:`TARGET_NAMES`), else, in a file of exactly two columns without such names, the
    first and the second (its first line is then a pair too: a file without a header). Rows
    with an empty side are left out and counted.
    """
    import pandas as pd  # (pandas costs a second to import: only when reading a file)

    from rnnkit.data.labelled_files import column, read_table

    path = Path(path).expanduser()
    if not path.is_file():
        raise DataError(f"no such file: {path}; check the path")
    frame = read_table(path, encoding)
    names = [str(c) for c in frame.columns]
    lower = {n.lower() for n in names}
    guessed = (src_col is None and tgt_col is None and len(names) == 2
               and not lower & set(SOURCE_NAMES) and not lower & set(TARGET_NAMES))
    if guessed and path.suffix.lower() not in (".jsonl", ".json", ".ndjson"):
        header = pd.DataFrame([names], columns=frame.columns)  # the first line was a pair
        frame = pd.concat([header, frame], ignore_index=True)
        source, target = frame.columns[0], frame.columns[1]
    else:
        source = column(frame, src_col, SOURCE_NAMES, "source", "src_col", path)
        target = column(frame, tgt_col, TARGET_NAMES, "target", "tgt_col", path)
    skipped: Counter = Counter()
    pairs = []
    for a, b in zip(frame[source].astype(str).str.strip(), frame[target].astype(str).str.strip()):
        if not a or not b:
            skipped["empty source or target"] += 1
        else:
            pairs.append((a, b))
    if not pairs:
        raise DataError(f"{path} holds no pair with both sides non-empty; give a file of "
                        "source and target columns")
    return pairs, dict(skipped)
