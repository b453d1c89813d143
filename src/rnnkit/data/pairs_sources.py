"""Aligned texts by name: ``bible-en-es``, the King James Bible beside the Reina-Valera 1909.

Source: two Debian packages of the SWORD project's Bible modules, fetched as pinned ``.deb``
files (:mod:`rnnkit.data.debian`) and read with :mod:`rnnkit.data.sword`: ``sword-text-kjv``
14.3-1 (module ``engKJV2006eb``: the 1769 KJV with Strong's numbers, eBible.org 2022) and
``sword-text-sparv`` 2.60-1 (``spaRV1909eb``: the Reina-Valera 1909, eBible.org 2015). Both
say they are in the KJV versification, so that a verse reference names the same verse in both.

The converted file is one TSV with a header, ``ref<TAB>book<TAB>en<TAB>es``, a row per verse of
the KJV versification in canonical order (31,102; ``ref`` is ``"Gen 1:1"``, ``book`` the OSIS
id). Every reference is kept, also where a side is empty (21 Spanish ones; 31,081 rows have
text on both sides). What the conversion does beyond the markup (see :mod:`rnnkit.data.sword`),
for the two sides of a row to say the same:

- the Reina-Valera numbers some chapters as the Hebrew Bible does, or splits a verse in two,
  and its module put each of its verses into the KJV verse of the same number (those past a
  KJV chapter's end appended to its last verse). So in 11 chapters a run of Spanish verses
  sat a verse or more away from its KJV rows: Num 13, Num 30, 1 Sam 24, Hos 12, Jonah 2 (the
  KJV's last verse of the chapter before is the Spanish verse 1), Job 39 (by 3), Job 40 (by 5
  the other way), Judg 14:19-20, 1 Kgs 22:44-53, 1 Chr 21:16-30 (a KJV verse split in two),
  2 Chr 33:11-24, and 2 Cor 13:13 is the KJV's 13:14. :data:`SHIFTED` moves each run back
  (the second half of a split verse is joined to the first). A verse the module appended to
  another cannot be split off: that row's Spanish holds both (Job 39:27 holds the KJV's
  39:27-40:5) and the KJV verse it held stays empty on the Spanish side. The 21 empty Spanish
  verses are then Num 13:33, Num 30:16, Judg 14:20, 1 Sam 24:22, 1 Kgs 22:53, 1 Chr 21:30,
  2 Chr 33:11, Job 39:28-30, Job 40:1-5, Hos 12:14, Jonah 2:10, 2 Cor 13:13 (after the moves)
  and 2 Sam 20:26, Job 35:16, Acts 19:41 (the module has them in the verse before). Smaller
  differences of where a verse ends (half a verse on the next row, as in 2 Sam 2:31-32) are
  left as they are;
- the KJV marks the Hebrew letters over Psalm 119's stanzas (``ALEPH.``) and the subscriptions
  after 14 of Paul's letters ("Written from Rome ...") as headings that are not canonical
  text, so they are dropped; the Reina-Valera has them as plain text at the start of Psalm
  119:1, 9, ... 169 (22 letters) and after the last "Amén." of each of those 14 letters: they
  are dropped there too;
- the texts are otherwise as published: the KJV's archaic spelling, the Reina-Valera's 1909
  accents (``á`` as a word), its first word of a chapter in capitals (``EN el principio``).
"""

from __future__ import annotations

import re
from pathlib import Path

from rnnkit.data.debian import package_deb
from rnnkit.data.registry import DatasetInfo, register
from rnnkit.data.sword import Verse, read_deb_module
from rnnkit.errors import DataError

BIBLE_DEBS = (
    ("sword-text-kjv", "14.3-1",
     "9f463f28ce665f6f528fc723179722bced880a4c5485f7a41bf742838315de57"),
    ("sword-text-sparv", "2.60-1",
     "5c87f9b2bc97457e8a872f5bae7ea7ce59cb3de1dcee73e4d4740451863694cf"),
)
MODULES = {"en": ("sword-text-kjv", "engKJV2006eb"), "es": ("sword-text-sparv", "spaRV1909eb")}
BIBLE_VERSES = 31_102  # the KJV versification
BIBLE_COLUMNS = ("ref", "book", "en", "es")
# the letters whose KJV subscriptions are dropped; the Reina-Valera's follow the last "Amén."
SUBSCRIBED = ("Rom", "1Cor", "2Cor", "Gal", "Eph", "Phil", "Col", "1Thess", "2Thess", "1Tim",
              "2Tim", "Titus", "Phlm", "Heb")
# (first, last Spanish verse, the KJV verse the first one is): moved there, in order; where
# that KJV verse keeps a Spanish verse of its own, the first is its second half, joined to it
SHIFTED = (
    ("Num 13:1", "Num 13:33", "Num 12:16"),
    ("Num 30:1", "Num 30:16", "Num 29:40"),
    ("Judg 14:19", "Judg 14:20", "Judg 14:18"),
    ("1Sam 24:1", "1Sam 24:22", "1Sam 23:29"),
    ("1Kgs 22:44", "1Kgs 22:53", "1Kgs 22:43"),
    ("1Chr 21:16", "1Chr 21:30", "1Chr 21:15"),
    ("2Chr 33:11", "2Chr 33:24", "2Chr 33:12"),
    ("Job 39:1", "Job 39:30", "Job 38:39"),
    ("Job 40:1", "Job 40:19", "Job 40:6"),
    ("Hos 12:1", "Hos 12:14", "Hos 11:12"),
    ("Jonah 2:1", "Jonah 2:10", "Jonah 1:17"),
    ("2Cor 13:13", "2Cor 13:13", "2Cor 13:14"),
)
_STANZA = re.compile(r"[A-Z]+\.? ")  # "ALEPH. ", "BETH " before the first word of a stanza
_AMEN = "Amén."


def _spanish_headings_dropped(verses: list[Verse]) -> list[Verse]:
    """The Reina-Valera's verses without the stanza letters of Psalm 119 and the subscriptions
    of Paul's letters (the KJV marks both as headings: see the module doc)."""
    verses = list(verses)
    last = {}  # book -> index of its last verse with text
    stanzas = 0
    for k, verse in enumerate(verses):
        if verse.text and verse.book in SUBSCRIBED:
            last[verse.book] = k
        if (verse.book, verse.chapter) == ("Ps", 119) and verse.verse % 8 == 1:
            match = _STANZA.match(verse.text)
            if match:
                verses[k] = verse._replace(text=verse.text[match.end():])
                stanzas += 1
    subscriptions = 0
    for k in last.values():
        text = verses[k].text
        end = text.rfind(_AMEN)
        if 0 <= end < len(text) - len(_AMEN):
            verses[k] = verses[k]._replace(text=text[:end + len(_AMEN)])
            subscriptions += 1
    if (stanzas, subscriptions) != (22, len(SUBSCRIBED)):
        raise DataError(f"the Reina-Valera 1909 has {stanzas} stanza letters in Psalm 119 and "
                        f"{subscriptions} subscriptions, expected 22 and {len(SUBSCRIBED)}; "
                        "report it to rnnkit")
    return verses


def _spanish_realigned(verses: list[Verse]) -> list[Verse]:
    """The Reina-Valera's verses with the runs of :data:`SHIFTED` moved to the KJV verses they
    translate (see the module doc); the verses a run leaves are empty, and its first verse is
    joined to the KJV verse it lands on if that one keeps a Spanish verse of its own."""
    position = {verse.ref: k for k, verse in enumerate(verses)}
    verses = list(verses)
    for first, last, target in SHIFTED:
        start, stop, to = position[first], position[last] + 1, position[target]
        texts = [verse.text for verse in verses[start:stop]]
        taken = [k for k in range(to, to + len(texts)) if not start <= k < stop and verses[k].text]
        if not all(texts) or taken not in ([], [to]):
            raise DataError(f"the Reina-Valera 1909 is not laid out as rnnkit expects around "
                            f"{first}-{last}; report it to rnnkit")
        for k in range(start, stop):
            verses[k] = verses[k]._replace(text="")
        if taken:  # the second half of a verse the Reina-Valera split in two
            texts[0] = f"{verses[to].text} {texts[0]}"
        for k, text in enumerate(texts, to):
            verses[k] = verses[k]._replace(text=text)
    return verses


def bible_en_es(folder: Path) -> str:
    """The two modules of the .debs in ``folder`` as one TSV (see the module doc)."""
    sides = {language: read_deb_module(package_deb(folder, package), module)
             for language, (package, module) in MODULES.items()}
    sides["es"] = _spanish_realigned(_spanish_headings_dropped(sides["es"]))
    english, spanish = sides["en"], sides["es"]
    refs = [verse[:3] for verse in english]
    if len(refs) != BIBLE_VERSES or [verse[:3] for verse in spanish] != refs:
        raise DataError(f"the modules give {len(english)} and {len(spanish)} verses, expected "
                        f"{BIBLE_VERSES} references in the same order; report it to rnnkit")
    lines = ["\t".join(BIBLE_COLUMNS)]
    for en, es in zip(english, spanish):
        if any(c in en.text + es.text for c in "\t\r\n"):
            raise DataError(f"{en.ref} holds a tab or a line break; report it to rnnkit")
        lines.append("\t".join([en.ref, en.book, en.text, es.text]))
    return "\n".join(lines) + "\n"


register(DatasetInfo(
    name="bible-en-es", kind="pairs",
    description="31,102 verses: King James Bible (en) beside Reina-Valera 1909 (es), by verse",
    package=BIBLE_DEBS[0][0], version=BIBLE_DEBS[0][1], debian=True, debs=BIBLE_DEBS,
    archive=f"{BIBLE_DEBS[0][0]}_{BIBLE_DEBS[0][1]}_all.deb", archive_sha256=BIBLE_DEBS[0][2],
    member="zText modules engKJV2006eb and spaRV1909eb",
    licence="public domain texts (KJV, Reina-Valera 1909); Debian packages", size=8_532_843,
    sha256="45f77d9793b1a2ed7ce2b437ec21aba39e5e1a3ee45f3332fb0b6619fcdd8217",
    convert=bible_en_es, extension=".tsv",
))
