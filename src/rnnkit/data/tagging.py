"""Tagged sequences (a tag per token): CoNLL and JSONL files, and two tasks built from any text.

Files:

- CoNLL: one ``token tag`` per line (tab- or space-separated; the token and tag columns are
  chosen by index, default first and last), a blank line between sentences; ``-DOCSTART-``
  lines are skipped. ``write_conll`` writes ``token<TAB>tag``.
- JSONL: one ``{"tokens": [...], "tags": [...]}`` per line.

``write_*(read_*(f))`` reproduces a file written by ``write_*`` byte for byte, and
``read_*(write_*(d)) == d``.

Tasks built from real text (a file, or the corpora ``shakespeare``, ``alice``, ``kjv``):

- ``punct`` (punctuation and capitalisation restoration): the words of a paragraph, lower-cased
  with punctuation removed; each word's tag is its case class (``low``, ``Cap``, ``UP`` (two or
  more letters, all capitals), ``Mix``) and, after a bar, the mark that followed it, one of
  ``, . ? ! ; :`` (the first of them in the gap before the next word): ``low``, ``Cap|,``,
  ``UP|!``... at most 28 tags. A word is letters or digits with inner apostrophes
  (``don't``); hyphens, dashes, quotes and brackets separate words and are not restored.
- ``segment`` (word segmentation): each line with its spaces removed, a token per character,
  tagged ``B`` (begins a word) or ``I`` (inside one).
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from rnnkit.data.streams import check_fractions
from rnnkit.data.text import read_text_file
from rnnkit.errors import ConfigError, DataError

CASES = ("low", "Cap", "UP", "Mix")
MARKS = (",", ".", "?", "!", ";", ":")
BEGIN, INSIDE = "B", "I"
TASKS = ("punct", "segment", "conll")
TAGGED_SUFFIXES = (".conll", ".conllu", ".bio", ".iob", ".tsv", ".jsonl")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


@dataclass
class TagData:
    """Sentences of tokens and their tags (``len(tags[i]) == len(sentences[i])``).

    ``notes`` counts what a reader or builder skipped, merged or cut (never silently).
    """

    sentences: list[list[str]]
    tags: list[list[str]]
    source: str = ""
    notes: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.sentences)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, TagData) and self.sentences == other.sentences
                and self.tags == other.tags)

    @property
    def num_tokens(self) -> int:
        return sum(len(s) for s in self.sentences)

    def subset(self, start: int, stop: int) -> TagData:
        return TagData(self.sentences[start:stop], self.tags[start:stop], self.source)


# ------------------------------------------------------------------------------ files


def read_conll(path: str | os.PathLike, token_col: int = 0, tag_col: int = -1,
               encoding: str = "utf-8") -> TagData:
    """Sentences of a CoNLL-style file; a line whose columns lack the token or the tag raises a
    DataError naming the line."""
    text = read_text_file(path, encoding)
    sentences, tags, tokens, labels = [], [], [], []
    skipped = 0
    need = max(token_col if token_col >= 0 else -token_col - 1,
               tag_col if tag_col >= 0 else -tag_col - 1) + 1
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            if tokens:
                sentences.append(tokens)
                tags.append(labels)
                tokens, labels = [], []
            continue
        columns = line.split("\t") if "\t" in line else line.split()
        if columns[0] == "-DOCSTART-":
            skipped += 1
            continue
        if len(columns) < max(need, 2):
            raise DataError(
                f"{path} line {number} has {len(columns)} column(s) ({line.strip()!r}); a token "
                f"and a tag are needed on every line (token column {token_col}, tag column "
                f"{tag_col}); fix the line or choose the columns (token_col, tag_col)",
                parameters=("token_col", "tag_col"))
        tokens.append(columns[token_col].strip())
        labels.append(columns[tag_col].strip())
    if tokens:
        sentences.append(tokens)
        tags.append(labels)
    if not sentences:
        raise DataError(f"{path} holds no tagged tokens; give token and tag lines")
    return TagData(sentences, tags, str(path), {"docstart_lines_skipped": skipped})


def write_conll(data: TagData, path: str | os.PathLike) -> Path:
    """``token<TAB>tag`` lines, a blank line after every sentence."""
    lines = []
    for tokens, labels in zip(data.sentences, data.tags, strict=True):
        for token, tag in zip(tokens, labels, strict=True):
            if not token or not tag or any(c.isspace() for c in token + tag):
                raise DataError(f"token {token!r} / tag {tag!r} is empty or holds whitespace and "
                                "cannot be written as CoNLL; write JSONL instead")
            lines.append(f"{token}\t{tag}\n")
        lines.append("\n")
    path = Path(path)
    path.write_text("".join(lines), encoding="utf-8")
    return path


def read_jsonl(path: str | os.PathLike, encoding: str = "utf-8") -> TagData:
    """Sentences of a JSONL file of ``{"tokens": [...], "tags": [...]}``; lines with empty
    token lists are skipped and counted; malformed lines raise a DataError naming the line."""
    text = read_text_file(path, encoding)
    sentences, tags, empty = [], [], 0
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        where = f"{path} line {number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as bad:
            raise DataError(f"{where} is not JSON ({bad.msg}); write one "
                            '{"tokens": [...], "tags": [...]} object per line') from None
        if not isinstance(row, dict) or "tokens" not in row or "tags" not in row:
            present = ", ".join(row) if isinstance(row, dict) else type(row).__name__
            raise DataError(f'{where} lacks "tokens" and/or "tags" (has: {present}); write '
                            '{"tokens": [...], "tags": [...]}')
        tokens, labels = row["tokens"], row["tags"]
        if not (isinstance(tokens, list) and isinstance(labels, list)
                and all(isinstance(x, str) for x in tokens + labels)):
            raise DataError(f'{where}: "tokens" and "tags" must be lists of strings')
        if len(tokens) != len(labels):
            raise DataError(f"{where} has {len(tokens)} tokens but {len(labels)} tags; give one "
                            "tag per token")
        if not tokens:
            empty += 1
            continue
        sentences.append(tokens)
        tags.append(labels)
    if not sentences:
        raise DataError(f"{path} holds no tagged tokens; give non-empty sentences")
    return TagData(sentences, tags, str(path), {"empty_sentences_skipped": empty})


def write_jsonl(data: TagData, path: str | os.PathLike) -> Path:
    lines = [json.dumps({"tokens": s, "tags": t}, ensure_ascii=False) + "\n"
             for s, t in zip(data.sentences, data.tags, strict=True)]
    path = Path(path)
    path.write_text("".join(lines), encoding="utf-8")
    return path


def is_tagged_file(path: str | os.PathLike) -> bool:
    """Whether a path names a tagged file (by its suffix) rather than plain text."""
    return Path(path).suffix.lower() in TAGGED_SUFFIXES


def read_tagged(path: str | os.PathLike, token_col: int = 0, tag_col: int = -1,
                encoding: str = "utf-8") -> TagData:
    """A ``.jsonl`` file with :func:`read_jsonl`, any other with :func:`read_conll`."""
    if Path(path).suffix.lower() == ".jsonl":
        return read_jsonl(path, encoding)
    return read_conll(path, token_col, tag_col, encoding)


def check_trainable(data: TagData) -> None:
    """A DataError unless the data has at least two different tags."""
    counts = Counter(tag for labels in data.tags for tag in labels)
    if len(counts) < 2:
        only = next(iter(counts), None)
        raise DataError(f"{data.source or 'the data'} has a single tag ({only!r}) on all "
                        f"{sum(counts.values()):,} tokens; tagging needs at least two tags")


# ------------------------------------------------------------------------------ built tasks


def text_units(text: str) -> list[str]:
    """Paragraphs (blank-line separated, lines joined by a space) if the text has blank lines,
    else its non-empty lines (the verses of ``kjv``)."""
    if re.search(r"\n[ \t]*\n", text.strip()):
        blocks = re.split(r"\n[ \t]*\n", text)
        return [" ".join(b.split()) for b in blocks if b.strip()]
    return [line.strip() for line in text.split("\n") if line.strip()]


def case_class(word: str) -> str:
    """``low`` (no capitals), ``Cap`` (first letter capital, others not), ``UP`` (two or more
    letters, all capitals) or ``Mix``."""
    letters = [c for c in word if c.isalpha()]
    if not any(c.isupper() for c in letters):
        return "low"
    if letters[0].isupper() and not any(c.isupper() for c in letters[1:]):
        return "Cap"  # a one-letter capital ("I", "A") is Cap, not UP
    if len(letters) >= 2 and all(c.isupper() for c in letters):
        return "UP"
    return "Mix"


def punct_tag(case: str, mark: str) -> str:
    return f"{case}|{mark}" if mark else case


def build_punct(text: str, max_words: int = 64, source: str = "") -> TagData:
    """The punctuation and capitalisation task of ``text`` (see the module docstring): one
    sequence per paragraph, cut into pieces of at most ``max_words`` words."""
    if max_words < 1:
        raise ConfigError(f"max_words must be positive, got {max_words}")
    sentences, tags = [], []
    notes = Counter()
    for unit in text_units(text):
        matches = list(_WORD.finditer(unit))
        if not matches:
            notes["paragraphs_without_words"] += 1
            continue
        if any(c in MARKS for c in unit[:matches[0].start()]):
            notes["leading_marks_dropped"] += 1
        words, labels = [], []
        for k, match in enumerate(matches):
            end = matches[k + 1].start() if k + 1 < len(matches) else len(unit)
            marks = [c for c in unit[match.end():end] if c in MARKS]
            if len(set(marks)) > 1:
                notes["gaps_with_several_marks"] += 1  # "?!" keeps "?"
            words.append(match.group().lower())
            labels.append(punct_tag(case_class(match.group()), marks[0] if marks else ""))
        for k in range(0, len(words), max_words):
            sentences.append(words[k:k + max_words])
            tags.append(labels[k:k + max_words])
    notes["words"] = sum(len(s) for s in sentences)
    return TagData(sentences, tags, source, dict(notes))


def punct_words(text: str, max_words: int = 64) -> list[list[str]]:
    """The model's input for ``text``: its words lower-cased without punctuation."""
    return build_punct(text, max_words).sentences


def restore_punct(words: list[str], tags: list[str]) -> str:
    """Words re-cased and re-punctuated by their tags (``Mix`` words stay as they are)."""
    out = []
    for word, tag in zip(words, tags, strict=True):
        case, _, mark = tag.partition("|")
        if case == "Cap":
            word = word[:1].upper() + word[1:]
        elif case == "UP":
            word = word.upper()
        out.append(word + mark)
    return " ".join(out)


def build_segment(text: str, max_chars: int = 200, source: str = "") -> TagData:
    """The word segmentation task of ``text``: one sequence per non-empty line (cut between
    words into pieces of at most ``max_chars`` characters; a longer word is cut inside)."""
    if max_chars < 1:
        raise ConfigError(f"max_chars must be positive, got {max_chars}")
    sentences, tags = [], []
    notes = Counter()

    def close(chars: list[str], labels: list[str]) -> None:
        if chars:
            sentences.append(chars)
            tags.append(labels)

    for line in text.split("\n"):
        chars, labels = [], []
        for word in line.split():
            if chars and len(chars) + len(word) > max_chars:
                close(chars, labels)
                chars, labels = [], []
                notes["lines_cut"] += 1
            for k, c in enumerate(word):
                if len(chars) == max_chars:
                    close(chars, labels)
                    chars, labels = [], []
                    notes["words_cut"] += 1
                chars.append(c)
                labels.append(BEGIN if k == 0 else INSIDE)
        close(chars, labels)
    notes["characters"] = sum(len(s) for s in sentences)
    return TagData(sentences, tags, source, dict(notes))


def segment_chars(text: str, max_chars: int = 200) -> list[list[str]]:
    """The model's input for ``text``: each line's characters with whitespace removed."""
    return build_segment(text, max_chars).sentences


def restore_segment(chars: list[str], tags: list[str]) -> str:
    """Characters with a space before every ``B`` but the first."""
    return "".join((" " + c if tag == BEGIN and k else c)
                   for k, (c, tag) in enumerate(zip(chars, tags, strict=True)))


def build_task(text: str, task: str, max_length: int = 0, source: str = "") -> TagData:
    """``build_punct`` or ``build_segment`` (``max_length`` 0: 64 words or 200 characters)."""
    if task == "punct":
        return build_punct(text, max_length or 64, source)
    if task == "segment":
        return build_segment(text, max_length or 200, source)
    raise ConfigError(f"a task built from text is punct or segment, got {task!r}")


def split_data(data: TagData, fractions=(0.8, 0.1, 0.1), max_sentences: int | None = None
               ) -> tuple[TagData, TagData, TagData]:
    """Contiguous ``train | valid | test`` blocks of the first ``max_sentences`` sequences
    (neighbouring lines of a text stay in one part, so no part sees the others' context)."""
    train, valid, test = check_fractions(fractions)
    n = min(len(data), max_sentences) if max_sentences else len(data)
    first = int(n * train)
    second = int(n * (train + valid)) if test > 0 else n
    parts = (data.subset(0, first), data.subset(first, second), data.subset(second, n))
    for name, part, fraction in zip(("train", "valid", "test"), parts, (train, valid, test)):
        if fraction > 0 and len(part) == 0:
            raise DataError(f"{n:,} sequences are too few to split {train:g}/{valid:g}/{test:g}: "
                            f"the {name} part is empty; give more data (or a larger "
                            "max_sentences)")
    return parts
