"""Where seq2seq pairs come from, cut into train / valid / test.

- a synthetic task by name (``addition``, ``reverse``, ``sort``): ``examples`` distinct pairs
  drawn with the seed, split so that no source is in two parts;
- ``bible-en-es``: the King James Bible beside the Reina-Valera 1909, verse by verse, split by
  whole books (:data:`VALID_BOOKS`, :data:`TEST_BOOKS`; every other book trains), so that a
  verse and its neighbours never sit on both sides. English -> Spanish by default;
  ``src_col="es", tgt_col="en"`` turns it round;
- a file of pairs (TSV/CSV/JSONL, see :func:`~rnnkit.tasks.seq2seq.data.read_pairs`), with
  ``valid``/``test`` files or a deterministic shuffled ``split``.

Pairs with an empty side are left out and counted in ``notes``, never dropped silently.
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass, field

from rnnkit.errors import ConfigError, DataError
from rnnkit.tasks.seq2seq.data import SYNTHETIC, read_pairs, split_pairs, synthetic

BIBLE = "bible-en-es"
# held-out books (OSIS ids): narrative, poetry, prophecy, gospel and letters in each part
VALID_BOOKS = ("Esth", "Lam", "Hab", "Phil", "Titus", "1Pet")
TEST_BOOKS = ("Ruth", "Eccl", "Jonah", "Mark", "Gal", "Jas", "Jude")

Pair = tuple[str, str]


@dataclass
class ReadOptions:
    """How pairs are read and split (saved with the model so that resume reads the same)."""

    examples: int = 50_000  # synthetic tasks: distinct pairs in all
    digits: int = 3  # addition: the largest number of digits of each operand
    reverse_input: bool = False  # addition: the question reversed (Keras's trick)
    split: tuple[float, float, float] = (0.8, 0.1, 0.1)
    src_col: str | None = None
    tgt_col: str | None = None
    encoding: str = "utf-8"
    max_pairs: int | None = None  # use the first N training pairs only
    seed: int = 0

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, saved: dict) -> ReadOptions:
        saved = dict(saved)
        saved["split"] = tuple(saved.get("split", (0.8, 0.1, 0.1)))
        return cls(**saved)


@dataclass
class Parts:
    train: list[Pair]
    valid: list[Pair]
    test: list[Pair]
    source: str
    split: str  # how the parts were cut, for people
    notes: dict[str, int] = field(default_factory=dict)

    def named(self) -> dict[str, list[Pair]]:
        return {"train": self.train, "valid": self.valid, "test": self.test}


def read_bible(src_col: str | None, tgt_col: str | None) -> Parts:
    """The ``bible-en-es`` pairs, split by book."""
    from rnnkit.data.registry import fetch

    path = fetch(BIBLE)
    src_col, tgt_col = src_col or "en", tgt_col or "es"
    for given, flag in ((src_col, "src_col"), (tgt_col, "tgt_col")):
        if given not in ("en", "es"):
            raise ConfigError.bad(flag, f"{BIBLE} has the columns en and es, not {given!r}")
    parts: dict[str, list[Pair]] = {"train": [], "valid": [], "test": []}
    empty = 0
    with open(path, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
            source, target = row[src_col].strip(), row[tgt_col].strip()
            if not source or not target:
                empty += 1
                continue
            book = row["book"]
            part = "valid" if book in VALID_BOOKS else "test" if book in TEST_BOOKS else "train"
            parts[part].append((source, target))
    split = (f"by book: valid {', '.join(VALID_BOOKS)}; test {', '.join(TEST_BOOKS)}; the "
             "other 53 books train")
    return Parts(parts["train"], parts["valid"], parts["test"], f"{BIBLE} ({src_col}->{tgt_col})",
                 split, {"verses with an empty side": empty})


def read_parts(data: str, options: ReadOptions, valid: str | None = None,
               test: str | None = None) -> Parts:
    """The train / valid / test pairs of ``data`` (see the module's docstring)."""
    o = options
    if test is not None and valid is None:
        raise ConfigError("test needs valid (without them both parts are cut from the data)",
                          "test")
    if data in SYNTHETIC:
        pairs = synthetic(data, o.examples, o.seed, digits=o.digits,
                          reverse_input=o.reverse_input)
        train, val, tst = split_pairs(pairs, o.split, o.seed)
        name = f"{data} ({o.examples:,} pairs" + (f", {o.digits} digits" if data == "addition"
                                                   else "") + ")"
        parts = Parts(train, val, tst, name, f"shuffled {_fractions(o.split)}, no source in "
                                              "two parts")
    elif data == BIBLE:
        parts = read_bible(o.src_col, o.tgt_col)
    else:
        pairs, skipped = read_pairs(data, o.src_col, o.tgt_col, o.encoding)
        notes = dict(skipped)
        if valid is not None:
            val, more = read_pairs(valid, o.src_col, o.tgt_col, o.encoding)
            tst, most = (read_pairs(test, o.src_col, o.tgt_col, o.encoding) if test is not None
                         else ([], {}))
            for extra in (more, most):
                for key, count in extra.items():
                    notes[key] = notes.get(key, 0) + count
            parts = Parts(pairs, val, tst, str(data), "given files", notes)
        else:
            train, val, tst = split_pairs(pairs, o.split, o.seed)
            parts = Parts(train, val, tst, str(data),
                          f"shuffled {_fractions(o.split)}, no source in two parts", notes)
    if o.max_pairs is not None:
        parts.train = parts.train[:o.max_pairs]
    if not parts.train:
        raise DataError(f"{parts.source} gives no training pair; give more pairs")
    if not parts.valid:
        raise DataError(f"{parts.source} gives no validation pair; give more pairs, a larger "
                        "valid fraction, or a valid file")
    return parts


def _fractions(split) -> str:
    return "/".join(f"{f:g}" for f in split)
