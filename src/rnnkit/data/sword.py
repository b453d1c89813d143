"""Bibles in the SWORD project's zText format (Debian's ``sword-text-*`` packages) as clean verses.

A zText module is a folder of six files, three per testament (``ot.*``, ``nt.*``): ``.bzz``
holds zlib-compressed blocks of text (a block per book), ``.bzs`` a 12-byte record per block
(``<III``: offset in ``.bzz``, compressed size, size), ``.bzv`` a 10-byte record per entry of
the versification (``<IIH``: block, start and length of the entry's text in the block). Entries
follow the versification's order: two for the testament, then per book one for the book heading
and per chapter one for the chapter heading and one per verse. pysword reads them (MIT, pure
Python); :func:`read_ztext` keeps the verses only (headings are book titles and markup), in
canonical order, every verse of the versification present (empty where the module has none).

The text is OSIS XML, which :func:`clean_osis` turns into plain prose: notes are dropped with
their content, so are headings that are not canonical text (``<title>`` without
``canonical="true"``, e.g. the KJV's Hebrew letters of Psalm 119 and the subscriptions after
Paul's letters); a canonical title (a psalm's "A Psalm of David.") is kept as text. Then every
other tag goes (``<w lemma="strong:H7225">beginning</w>`` -> ``beginning``; the words a
translation added, ``<transChange>``, stay), leftover Strong's tags (``<H2416>``), pilcrows and
the USFM markers that the module's making left (``\\nd`` before "LORD" in 27 KJV verses) go too,
and the whitespace is collapsed. Where one element ends and the next starts with no space
between them (``</w><transChange>``: the Reina-Valera 1909 has it 588 times), a space is put:
without it ``hay allí</w><transChange>también`` would read ``allítambién``; a tag inside a word
(the KJV's ``give</w>n``) is left joined.
"""

from __future__ import annotations

import html
import re
import tempfile
from pathlib import Path
from typing import NamedTuple

from rnnkit.data.debian import data_members
from rnnkit.errors import DataError

TESTAMENTS = ("ot", "nt")
SUFFIXES = (".bzs", ".bzv", ".bzz")  # block records, verse records, compressed text
CONF_FOLDER = "usr/share/sword/mods.d"
MODULE_FOLDER = "usr/share/sword/modules/texts/ztext"

_NOTE = re.compile(r"<note\b[^>]*/>|<note\b[^>]*>.*?</note>", re.S)
_TITLE = re.compile(r"<title\b([^>]*)>(.*?)</title>", re.S)
_CANONICAL = re.compile(r"""\bcanonical\s*=\s*["']true["']""")
_BETWEEN = re.compile(r"(</(?:w|transChange|divineName)>)(?=<(?:w|transChange|divineName)\b)")
_STRONGS = re.compile(r"<[HG]\d+[a-z]?>")  # also where escaped: &lt;H2416&gt;
_USFM = re.compile(r"\\+\+?[a-z]+\d*\*?")  # a marker the module's import left: \nd, \+nd*
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


class Verse(NamedTuple):
    """One verse: its book's OSIS id (``"Gen"``), chapter and verse numbers, and clean text."""

    book: str
    chapter: int
    verse: int
    text: str

    @property
    def ref(self) -> str:
        """``"Gen 1:1"``."""
        return f"{self.book} {self.chapter}:{self.verse}"


def clean_osis(raw: str) -> str:
    """The plain text of one OSIS verse (see the module doc): notes and non-canonical titles
    dropped, every tag, Strong's tag, USFM marker and pilcrow removed, whitespace collapsed."""
    text = _NOTE.sub(" ", raw)
    text = _TITLE.sub(lambda m: f" {m.group(2)} " if _CANONICAL.search(m.group(1)) else " ",
                      text)
    text = _BETWEEN.sub(r"\1 ", text)
    text = _USFM.sub(" ", _TAG.sub("", text))
    text = _STRONGS.sub("", html.unescape(text)).replace("\N{PILCROW SIGN}", " ")
    return _SPACE.sub(" ", text).strip()


def read_ztext(folder: Path, versification: str = "kjv", encoding: str = "utf-8",
               block_type: str = "BOOK", compress_type: str = "ZIP") -> list[Verse]:
    """Every verse of ``versification`` in canonical order, its text cleaned (empty where the
    module in ``folder`` has none); a DataError if a testament's files are missing."""
    from pysword.bible import SwordBible

    folder = Path(folder)
    letter = block_type[:1].lower()
    missing = [f"{t}.{letter}z{s[-1]}" for t in TESTAMENTS for s in SUFFIXES
               if not (folder / f"{t}.{letter}z{s[-1]}").is_file()]
    if missing:
        raise DataError(f"the zText module in {folder} lacks {', '.join(missing)}; "
                        "give the folder that holds ot.* and nt.*")
    bible = SwordBible(str(folder), "ztext", versification, encoding, "OSIS",
                       block_type=block_type, compress_type=compress_type)
    verses = []
    for testament in TESTAMENTS:
        for book in bible.get_structure().get_books()[testament]:
            texts = list(bible.get_iter(books=[book.osis_name], clean=False))
            refs = [(chapter, verse) for chapter, count in enumerate(book.chapter_lengths, 1)
                    for verse in range(1, count + 1)]
            if len(texts) != len(refs):
                raise DataError(f"the zText module in {folder} gave {len(texts)} verses of "
                                f"{book.osis_name}, expected {len(refs)}; report it to rnnkit")
            verses += [Verse(book.osis_name, chapter, verse, clean_osis(text))
                       for (chapter, verse), text in zip(refs, texts)]
    return verses


def module_conf(text: str) -> dict[str, str]:
    """The settings of a SWORD ``.conf`` file (``Key=Value`` lines; the first of a repeated
    key), with its module's id under ``"id"``."""
    conf: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("[") and line.endswith("]") and "id" not in conf:
            conf["id"] = line[1:-1]
        elif "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            conf.setdefault(key.strip(), value.strip())
    return conf


def read_deb_module(deb: Path, module: str) -> list[Verse]:
    """The verses of zText module ``module`` (e.g. ``"engKJV2006eb"``) of a ``sword-text-*``
    .deb, read as its ``.conf`` says (unpacked in Python into a temporary folder)."""
    confs = data_members(deb, rf"{CONF_FOLDER}/{re.escape(module)}\.conf")
    files = data_members(deb, rf"{MODULE_FOLDER}/{re.escape(module)}/[on]t\.[bcv]z[svz]")
    if not confs or not files:
        raise DataError(f"{deb.name} holds no zText module {module}; report it to rnnkit")
    conf = module_conf(next(iter(confs.values())).decode("utf-8"))
    settings = {"ModDrv": "zText", "SourceType": "OSIS", "Encoding": "UTF-8",
                "CompressType": "ZIP", "BlockType": "BOOK", "Versification": "KJV"}
    wrong = [f"{key}={conf.get(key, value)}" for key, value in settings.items()
             if conf.get(key, value).lower() != value.lower()]
    if wrong:
        raise DataError(f"{deb.name}: module {module} has {', '.join(wrong)}; rnnkit reads "
                        "only zText OSIS UTF-8 modules in the KJV versification")
    with tempfile.TemporaryDirectory(prefix="rnnkit-sword-") as folder:
        for path, data in files.items():
            (Path(folder) / Path(path).name).write_bytes(data)
        return read_ztext(Path(folder))
