"""SWORD zText Bibles and the bible-en-es pairs: a tiny module written here in the real layout
(positions from pysword's own KJV versification) is read back verse by verse, OSIS markup is
cleaned as the real modules need, and a dataset of several pinned .debs is fetched from the
by-hand folder or through apt-get (a stand-in on PATH), or fails in one line."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import struct
import subprocess
import sys
import zlib
from dataclasses import replace
from pathlib import Path

import pytest
from pysword.books import BibleStructure

from rnnkit.cli.main import main
from rnnkit.data import debian, pairs_sources, registry, sword
from rnnkit.errors import DataError
from test_debian import ar, tar

KJV = BibleStructure("kjv")
VERSES = 31_102
OT_VERSES = 23_145  # Matt 1:1 is the 23,146th verse

# raw OSIS as the Debian modules have it -> the text the reader must give
ENGLISH = {
    ("Gen", 1, 1): ('In the <w lemma="strong:H7225">beginning</w> <w lemma="strong:H0430">God'
                    '</w> created<note placement="foot"><reference type="annotateRef">1.1 '
                    '</reference>created: or, <divineName>made</divineName></note> the heaven. ',
                    "In the beginning God created the heaven."),
    ("Gen", 1, 2): ('<div sID="gen3" type="x-p"/> \N{PILCROW SIGN} And the earth<H0776> was '
                    '<transChange type="added">without</transChange> form.',
                    "And the earth was without form."),
    ("Exod", 6, 3): (r'by my name \nd <w lemma="strong:H3068">JEHOVAH</w></divineName> was I '
                     "not known", "by my name JEHOVAH was I not known"),
    ("Ps", 3, 1): ('<div type="x-milestone" subType="x-preverse" sID="pv2099"/><title '
                   'canonical="true" type="psalm">A <w lemma="strong:H4210">Psalm</w> of David.'
                   '</title> <lg sID="gen2600"/> <l level="1" sID="gen2601"/> <divineName>LORD'
                   "</divineName>, how are they increased!<l eID=\"gen2601\" level=\"1\"/>",
                   "A Psalm of David. LORD, how are they increased!"),
    ("Ps", 119, 9): ("<title><foreign>\u05d1 BETH.</foreign></title> <lg sID=\"gen4643\"/> "
                     "Wherewithal shall a young man cleanse his way?",
                     "Wherewithal shall a young man cleanse his way?"),
    ("Mal", 4, 6): ('the earth with a curse.  <chapter eID="Mal.4"/> <div eID="gen6426" '
                    'type="x-p"/> <div canonical="true" eID="gen6409" osisID="Mal" '
                    'type="book"/>', "the earth with a curse."),
    ("Matt", 1, 1): ('<q marker="" who="Jesus">it shall more be give</w>n.</q> <w lemma="x">hay '
                     'allí</w><transChange type="added">también</transChange><w lemma="y">'
                     "bdelio</w>.", "it shall more be given. hay allí también bdelio."),
    ("Rom", 16, 27): ("be glory for ever. Amen. <title>Written to the Romans from Corinthus."
                      "</title>", "be glory for ever. Amen."),
    ("Rev", 22, 21): ("The grace of our Lord <w lemma=\"strong:G2424 G5547\">Jesus Christ</w> "
                      "<transChange type=\"added\">be</transChange> with you all. Amen.",
                      "The grace of our Lord Jesus Christ be with you all. Amen."),
}


def position(book: str, chapter: int, verse: int) -> tuple[str, int]:
    """The testament and entry of a verse in a KJV-versified module, by pysword's structure."""
    [(testament, [entry])] = KJV.ref_to_indicies(books=[book], chapters=[chapter],
                                                 verses=[verse]).items()
    return testament, entry


def ztext_files(texts: dict[tuple[str, int, int], str],
                headings: dict[tuple[str, int], str] | None = None) -> dict[str, bytes]:
    """A zText module (BOOK blocks, zlib) in the KJV versification as ``{file name: bytes}``:
    ``texts`` at their verses, ``headings`` at the chapter-heading entry of ``(book, chapter)``
    (the entry just before verse 1), every other entry empty. Per testament: ``.bzv`` a
    ``<IIH`` record (block, start, length) for each entry up to the last verse, ``.bzs`` a
    ``<III`` record (offset, compressed size, size) per block, ``.bzz`` the blocks."""
    entries = {position(*ref): (ref[0], text.encode()) for ref, text in texts.items()}
    for (book, chapter), text in (headings or {}).items():
        testament, entry = position(book, chapter, 1)
        entries[testament, entry - 1] = (book, text.encode())
    files = {}
    for testament, last in (("ot", ("Mal", 4, 6)), ("nt", ("Rev", 22, 21))):
        blocks: dict[str, bytearray] = {}
        records = [(0, 0, 0)] * (position(*last)[1] + 1)
        for (where, entry), (book, data) in sorted(entries.items()):
            if where == testament:
                block = blocks.setdefault(book, bytearray())
                records[entry] = (list(blocks).index(book), len(block), len(data))
                block += data
        compressed = [zlib.compress(bytes(block)) for block in blocks.values()] or [b""]
        sizes = [len(block) for block in blocks.values()] or [0]
        offsets = [sum(len(c) for c in compressed[:k]) for k in range(len(compressed))]
        files[f"{testament}.bzv"] = b"".join(struct.pack("<IIH", *r) for r in records)
        files[f"{testament}.bzs"] = b"".join(struct.pack("<III", *r)
                                             for r in zip(offsets, map(len, compressed), sizes))
        files[f"{testament}.bzz"] = b"".join(compressed)
    return files


def write_module(folder: Path, files: dict[str, bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


CONF = ("[{module}]\nDataPath=./modules/texts/ztext/{module}/\nModDrv=zText\nSourceType=OSIS\n"
        "Encoding=UTF-8\nCompressType=ZIP\nBlockType=BOOK\nVersification=KJV\n")


def sword_deb(folder: Path, package: str, version: str, module: str,
              texts: dict[tuple[str, int, int], str], conf: str = CONF) -> Path:
    """A ``sword-text-*`` .deb as Debian ships one: the module's conf and its six files."""
    files = {f"./usr/share/sword/modules/texts/ztext/{module}/{name}": data
             for name, data in ztext_files(texts).items()}
    files[f"./usr/share/sword/mods.d/{module}.conf"] = conf.format(module=module).encode()
    deb = folder / f"{package}_{version}_all.deb"
    folder.mkdir(parents=True, exist_ok=True)
    deb.write_bytes(ar({"debian-binary": b"2.0\n",
                        "control.tar.xz": tar({"./control": b"Package: x\n"}, "w:xz"),
                        "data.tar.xz": tar(files, "w:xz")}))
    return deb


# ---------------------------------------------------------------- reading a module


def test_a_module_reads_back_every_verse_in_order_cleaned(tmp_path):
    headings = {("Gen", 1): '<chapter n="1" osisID="Gen.1" sID="Gen.1"/> A HEADING',
                ("Ps", 119): "<title><foreign>\u05d0 ALEPH.</foreign></title> ANOTHER"}
    module = write_module(tmp_path / "kjv", ztext_files(
        {ref: raw for ref, (raw, _) in ENGLISH.items()}, headings))
    verses = sword.read_ztext(module)
    assert len(verses) == VERSES
    assert verses[0][:3] == ("Gen", 1, 1) and verses[-1][:3] == ("Rev", 22, 21)
    assert verses[OT_VERSES].ref == "Matt 1:1" and verses[OT_VERSES - 1].ref == "Mal 4:6"
    assert verses[2] == sword.Verse("Gen", 1, 3, "")  # a verse without text is there, empty
    assert {v[:3]: v.text for v in verses if v.text} == {
        ref: text for ref, (_, text) in ENGLISH.items()}
    assert [v[:3] for v in verses if v.text] == list(ENGLISH)  # canonical order
    books = [b.osis_name for t in ("ot", "nt") for b in KJV.get_books()[t]]
    assert list(dict.fromkeys(v.book for v in verses)) == books


def test_a_folder_without_the_module_files_is_one_line(tmp_path):
    files = ztext_files({})
    del files["nt.bzz"], files["ot.bzs"]
    with pytest.raises(DataError, match=r"lacks ot\.bzs, nt\.bzz; give the folder that holds"):
        sword.read_ztext(write_module(tmp_path / "half", files))


@pytest.mark.parametrize(("raw", "clean"), [
    ("a<note placement=\"foot\"><reference>1.1 </reference>Heb. <divineName>x</divineName>"
     "</note> b<note n=\"2\"/> c", "a b c"),
    ("<title type=\"x-acrostic\">ALEPH.</title>Blessed <title canonical=\"true\">A Psalm."
     "</title> are", "Blessed A Psalm. are"),
    ("living<H2416> creature<G5590a>; soul", "living creature; soul"),
    ("\N{PILCROW SIGN} And God said,\N{PILCROW SIGN}Let", "And God said, Let"),
    ("<w>allí</w><transChange>también</transChange><w>bdelio</w>, <w>tear</w>s, preguntándo"
     "<transChange>le</transChange>", "allí también bdelio, tears, preguntándole"),
    ("the \\nd LORD and <divineName>GOD\\\\+nd*</divineName>", "the LORD and GOD"),
    ("  \n\t<lb type=\"x-p\"/>  ", ""),
])
def test_osis_markup_is_cleaned_to_prose(raw, clean):
    assert sword.clean_osis(raw) == clean


def test_the_conf_says_how_to_read_the_module(tmp_path):
    deb = sword_deb(tmp_path, "sword-text-x", "1-1", "engX", dict.fromkeys(ENGLISH, "Text."))
    assert sword.module_conf(CONF.format(module="engX") + "ModDrv=RawText\n")["ModDrv"] == "zText"
    assert [v.ref for v in sword.read_deb_module(deb, "engX") if v.text][:2] == ["Gen 1:1",
                                                                                 "Gen 1:2"]
    with pytest.raises(DataError, match="holds no zText module spaX; report it"):
        sword.read_deb_module(deb, "spaX")
    other = sword_deb(tmp_path / "gbf", "sword-text-x", "1-1", "engX", {},
                      CONF.replace("OSIS", "GBF").replace("=KJV", "=Catholic"))
    with pytest.raises(DataError, match=r"has SourceType=GBF, Versification=Catholic; rnnkit "
                                        "reads only zText OSIS UTF-8 modules"):
        sword.read_deb_module(other, "engX")


# ---------------------------------------------------------------- bible-en-es from two .debs


def last_verse(book: str) -> tuple[str, int, int]:
    lengths = KJV.find_book(book)[1].chapter_lengths
    return book, len(lengths), lengths[-1]


def spanish_texts() -> dict[tuple[str, int, int], str]:
    """Verses as the Reina-Valera module has them: Psalm 119's stanza letters and the
    subscriptions of Paul's letters in the text, Gen 1:2 merged into Gen 1:1, and the chapters
    numbered otherwise (see pairs_sources.SHIFTED) a verse or more away from the KJV's."""
    texts = {("Gen", 1, 1): "<w lemma=\"strong:H7225\">EN el principio</w> crió Dios.",
             ("Matt", 1, 1): "<w>LIBRO</w><transChange>de la generación</transChange>."}
    for first, last, target in pairs_sources.SHIFTED:
        book, chapter, start = reference(first)
        for verse in range(start, reference(last)[2] + 1):
            texts[book, chapter, verse] = f"es {book} {chapter}:{verse}"
        if reference(target)[1:] == (chapter, start - 1):  # a verse split in two: 1st half
            texts[reference(target)] = f"es {target}"
    for verse in range(1, 177, 8):
        texts["Ps", 119, verse] = f"{'ALEPH.' if verse == 1 else 'BETH'} Bienaventurados."
    for book in pairs_sources.SUBSCRIBED:  # 2 Cor 13:14 is in 13:13, its last verse
        texts[("2Cor", 13, 13) if book == "2Cor" else last_verse(book)] = (
            "La gracia sea con vosotros. Amén. Escrita de Roma.")
    return texts


def reference(ref: str) -> tuple[str, int, int]:
    book, numbers = ref.split()
    chapter, verse = numbers.split(":")
    return book, int(chapter), int(verse)


@pytest.fixture
def bible(tmp_path, monkeypatch):
    """bible-en-es pinned to two .debs built here (in ``built/``) and to their conversion."""
    monkeypatch.setenv("RNNKIT_DATA", str(tmp_path / "cache"))
    english = {ref: raw for ref, (raw, _) in ENGLISH.items()}
    debs = [sword_deb(tmp_path / "built", "sword-text-kjv", "14.3-1", "engKJV2006eb", english),
            sword_deb(tmp_path / "built", "sword-text-sparv", "2.60-1", "spaRV1909eb",
                      spanish_texts())]
    pins = tuple((deb.name.split("_")[0], deb.name.split("_")[1],
                  hashlib.sha256(deb.read_bytes()).hexdigest()) for deb in debs)
    for package, _, _ in pins:  # what download_all makes of them
        (tmp_path / "folder" / package).mkdir(parents=True)
    for deb in debs:
        (tmp_path / "folder" / deb.name.split("_")[0] / deb.name).write_bytes(deb.read_bytes())
    text = pairs_sources.bible_en_es(tmp_path / "folder")
    info = replace(registry.get_info("bible-en-es"), debs=pins, size=len(text.encode()),
                   sha256=hashlib.sha256(text.encode()).hexdigest())
    monkeypatch.setitem(registry._REGISTRY, info.name, info)
    return info, debs, text


def test_the_tsv_keeps_every_reference_and_drops_the_headings_on_both_sides(bible):
    _, _, text = bible
    lines = text.splitlines()
    assert lines[0] == "ref\tbook\ten\tes" and len(lines) == VERSES + 1
    rows = {line.split("\t")[0]: line.split("\t") for line in lines[1:]}
    assert all(len(row) == 4 for row in rows.values())
    assert rows["Gen 1:1"] == ["Gen 1:1", "Gen", "In the beginning God created the heaven.",
                               "EN el principio crió Dios."]
    assert rows["Gen 1:2"][3] == "" and rows["Gen 1:3"] == ["Gen 1:3", "Gen", "", ""]
    assert rows["Matt 1:1"][3] == "LIBRO de la generación."
    assert rows["Ps 119:1"][3] == rows["Ps 119:9"][3] == "Bienaventurados."
    assert rows["Rom 16:27"][2:] == ["be glory for ever. Amen.",
                                     "La gracia sea con vosotros. Amén."]
    assert rows["Heb 13:25"][3] == "La gracia sea con vosotros. Amén."


def test_chapters_numbered_otherwise_are_moved_back_to_the_kjv_verses(bible):
    _, _, text = bible
    spanish = {line.split("\t")[0]: line.split("\t")[3] for line in text.splitlines()[1:]}
    assert spanish["Num 12:16"] == "es Num 13:1" and spanish["Num 13:1"] == "es Num 13:2"
    assert spanish["Num 13:32"] == "es Num 13:33" and spanish["Num 13:33"] == ""
    assert [spanish[f"Job 38:{v}"] for v in (39, 40, 41)] == [f"es Job 39:{v}" for v in (1, 2, 3)]
    assert spanish["Job 39:27"] == "es Job 39:30" and spanish["Job 39:28"] == ""
    assert [spanish[f"Job 40:{v}"] for v in (1, 5, 6, 24)] == ["", "", "es Job 40:1",
                                                             "es Job 40:19"]
    assert spanish["2Cor 13:13"] == ""
    assert spanish["2Cor 13:14"] == "La gracia sea con vosotros. Amén."  # its subscription cut
    assert spanish["Jonah 1:17"] == "es Jonah 2:1" and spanish["Jonah 2:10"] == ""
    # the second half of a verse split in two is joined to the first
    assert [spanish[f"Judg 14:{v}"] for v in (18, 19, 20)] == ["es Judg 14:18 es Judg 14:19",
                                                               "es Judg 14:20", ""]
    assert spanish["2Chr 33:11"] == "" and spanish["2Chr 33:25"] == "es 2Chr 33:24"


def test_two_debs_put_by_hand_are_used_and_without_them_the_error_is_one_line(bible,
                                                                              monkeypatch):
    info, debs, text = bible
    assert info.source == ("Debian sword-text-kjv 14.3-1, sword-text-sparv 2.60-1: zText "
                           "modules engKJV2006eb and spaRV1909eb")
    monkeypatch.setattr(debian.shutil, "which", lambda name: None)
    by_hand = registry.cache_dir() / "debs"
    for deb in debs:
        with pytest.raises(DataError) as caught:
            registry.fetch(info.name)
        message = str(caught.value)
        package, version = deb.name.split("_")[:2]
        assert "\n" not in message and f"Debian package {package} {version}:" in message
        assert f"{package}_{version}_<arch>.deb" in message and str(by_hand) in message
        by_hand.mkdir(parents=True, exist_ok=True)
        (by_hand / deb.name).write_bytes(deb.read_bytes())  # the user does as told
    assert registry.fetch(info.name).read_text(encoding="utf-8") == text


def test_apt_get_downloads_each_deb_into_its_own_folder(bible, tmp_path, monkeypatch, capsys):
    info, debs, text = bible
    bin_folder = tmp_path / "bin"
    bin_folder.mkdir()
    fake = bin_folder / "apt-get"  # `apt-get download NAME=VERSION` puts the file in cwd
    fake.write_text(f"#!/bin/sh\n[ \"$1\" = download ] || exit 100\nls *.deb 2>/dev/null && "
                    f"exit 101\ncp {debs[0].parent}/\"$(echo $2 | sed 's/=/_/')\"_all.deb .\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_folder}{os.pathsep}{os.environ['PATH']}")
    assert main(["data", "get", info.name, "--json"]) == 0
    assert registry.fetch(info.name).read_text(encoding="utf-8") == text
    capsys.readouterr()
    assert main(["data", "list", "--json"]) == 0
    [row] = [r for r in json.loads(capsys.readouterr().out)["datasets"] if r["name"] == info.name]
    assert row["kind"] == "pairs" and row["cached"] and "sword-text-sparv 2.60-1" in row["source"]


def test_importing_the_data_layer_loads_no_sword_reader():
    code = "import sys, rnnkit.data; print('pysword' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.stdout.strip() == "False", done.stderr
    assert registry.get_info("bible-en-es").kind == "pairs" and "pairs" in registry.KINDS
