"""Labelled datasets by name: ``sentiment`` (texts) and ``japanese-vowels`` (numeric sequences).

``sentiment``: 23,703 human-rated sentences from the VADER paper's ground truth.

Source: the ``vaderSentiment==3.3.2`` source archive holds
``additional_resources/hutto_ICWSM_2014.tar.gz``, a tar inside the tar, read here in memory
(nothing is unpacked to disk, nothing is imported). Its four ``*_GroundTruth.txt`` files are
``id<TAB>mean rating<TAB>text`` lines (CRLF, UTF-8); the mean rating of 10-20 raters lies in
[-4, +4] (Hutto & Gilbert, ICWSM 2014):

=====================  ======  ====  ==========  ====  =================================
source                 rows    zero  \\|r\\| < 0.5  pos   notes
=====================  ======  ====  ==========  ====  =================================
amazonReviewSnippets    3,708    98     723      2,128  all lower case
movieReviewSnippets    10,605    37     533      5,242  Pang & Lee snippets, ``''`` quotes
nytEditorialSnippets    5,190   244   2,220      2,204  mostly mild: 43% have \\|r\\| < 0.5
tweets                  4,200     4     768      2,897  ``@anonymous``, ``http://url_removed``
=====================  ======  ====  ==========  ====  =================================

What the conversion found and did (checked on the 3.3.2 archive):

- the files are valid UTF-8 with no mojibake (337 non-ASCII bytes, all real: "Château",
  "naïve", en dashes, one curly apostrophe); no tabs or control characters inside a text;
  no empty text; no repeated id within a source;
- every ``&``, ``<`` and ``>`` is an HTML entity (no bare ``&`` anywhere): ``&amp;`` 210 times
  (138 in tweets, 49 Amazon, 22 movies, 1 NYT), ``&lt;`` 29 and ``&gt;`` 14 (tweets: ``&lt;3``), and
  9 NYT texts escaped twice (``Meagher &amp;amp; Flom``). They are decoded (repeatedly), so a
  tokenizer sees ``&``, ``<3``; no other entity occurs;
- 12 texts (11 Amazon bullet points such as ``" - price: see above."``, one movie snippet) have
  leading or trailing spaces: stripped;
- duplicates are kept, as published: after the cleaning, 84 texts occur more than once
  verbatim (169 rows); ignoring case and spacing, 148 texts (297 rows, 4 of them across
  sources). Their ratings differ a little (``"i love it!"``: 3.25 and 3.05); in 16 groups the
  signs differ (every rating within 0.45 of zero: one NYT sentence got -0.45 and +0.40).
  :func:`rnnkit.data.labelled.split_indices` keeps each group in one split.

The converted file is one TSV with a header, ``source<TAB>id<TAB>rating<TAB>text``, sources in
file-name order, rows in file order, ratings verbatim (``2.26666666667``).
"""

from __future__ import annotations

import html
import io
import re
import tarfile
from pathlib import Path

from rnnkit.data.registry import DatasetInfo, register
from rnnkit.data.sources import archive_members
from rnnkit.errors import DataError

INNER = "vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz"
SOURCES = {  # rows in each ground-truth file (the VADER paper, Table 2 and the README)
    "amazonReviewSnippets": 3708,
    "movieReviewSnippets": 10605,
    "nytEditorialSnippets": 5190,
    "tweets": 4200,
}
COLUMNS = ("source", "id", "rating", "text")
_ENTITY = re.compile(r"&(amp|lt|gt);")


def _clean(text: str) -> str:
    while _ENTITY.search(text):  # some NYT texts are escaped twice: "Meagher &amp;amp; Flom"
        text = _ENTITY.sub(lambda m: html.unescape(m.group(0)), text)
    return text.strip()


def vader_ground_truth(archive: Path) -> str:
    """The four ``*_GroundTruth.txt`` files of the inner tar as one TSV (see the module doc)."""
    inner = next(iter(archive_members(archive, re.escape(INNER)).values()))
    lines = ["\t".join(COLUMNS)]
    with tarfile.open(fileobj=io.BytesIO(inner)) as tarred:
        members = sorted((m for m in tarred.getmembers() if m.isfile()
                          and m.name.endswith("_GroundTruth.txt")), key=lambda m: m.name)
        found = {Path(m.name).name.split("_")[0]: m for m in members}
        if sorted(found) != sorted(SOURCES):
            raise DataError(f"{INNER} holds ground truth for {sorted(found)}, expected "
                            f"{sorted(SOURCES)}; report it to rnnkit")
        for source, member in found.items():
            handle = tarred.extractfile(member)
            assert handle is not None  # isfile() members always have data
            rows = handle.read().decode("utf-8").replace("\r\n", "\n").rstrip("\n").split("\n")
            if len(rows) != SOURCES[source]:
                raise DataError(f"{member.name} has {len(rows)} rows, expected "
                                f"{SOURCES[source]}; report it to rnnkit")
            for number, row in enumerate(rows, 1):
                fields = row.split("\t")
                if len(fields) != 3 or not _clean(fields[2]):
                    raise DataError(f"{member.name} line {number} is not id, rating, text; "
                                    "report it to rnnkit")
                float(fields[1])  # a rating that is not a number fails here, loudly
                lines.append("\t".join([source, fields[0], fields[1], _clean(fields[2])]))
    return "\n".join(lines) + "\n"


def sentiment_label(rating: float, classes: int, neutral: float) -> str | None:
    """The class of a mean rating: with 2 classes its sign (None for exactly 0: the sentence is
    left out); with 3, ``neutral`` when ``|rating| < neutral``."""
    if classes == 2:
        return None if rating == 0 else ("positive" if rating > 0 else "negative")
    if abs(rating) < neutral:
        return "neutral"
    return "positive" if rating > 0 else "negative"


register(DatasetInfo(
    name="sentiment", kind="labelled",
    description="23,703 sentences rated -4..+4: movie & Amazon reviews, tweets, NYT editorials",
    package="vaderSentiment", version="3.3.2", sdist=True,
    archive="vaderSentiment-3.3.2.tar.gz",
    archive_sha256="5d7c06e027fc8b99238edb0d53d970cf97066ef97654009890b83703849632f9",
    member="additional_resources/hutto_ICWSM_2014.tar.gz: *_GroundTruth.txt",
    licence="package MIT; cite Hutto & Gilbert 2014", size=3_157_402,
    sha256="70269dd20060225462c0c1b356f3f0a60dabb44519f20c4ea0f207bbc34e0f42",
    convert=vader_ground_truth, extension=".tsv",
))


# ---------------------------------------------------------------- japanese-vowels
# The UCI Japanese Vowels data (Kudo, Toyama & Shimbo 1999) as the aeon wheel ships it for the
# UEA multivariate archive: 9 male speakers saying "ae", each utterance 12 LPC cepstrum
# coefficients per frame over 7-29 frames; the class is the speaker. The given split is kept:
# 270 training utterances (30 per speaker) and 370 test utterances (24-88 per speaker).

VOWELS = "aeon/datasets/data/JapaneseVowels/JapaneseVowels_{part}.ts"
VOWEL_CASES = {"TRAIN": 270, "TEST": 370}
VOWEL_DIMENSIONS = 12


def ts_cases(text: str, name: str) -> list[tuple[list[list[str]], str]]:
    """The cases of a ``.ts`` file (the sktime/aeon format): per case, its dimensions (each a
    list of number strings, checked to parse) and its class label."""
    cases, in_data = [], False
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if not in_data:
            in_data = line.lower() == "@data"
            continue
        *dims, label = line.split(":")
        values = [d.split(",") for d in dims]
        try:
            [float(v) for d in values for v in d]
        except ValueError:
            raise DataError(f"{name} line {number} holds a value that is not a number; "
                            "report it to rnnkit") from None
        if not values or len({len(d) for d in values}) != 1 or not label.strip():
            raise DataError(f"{name} line {number} is not dimensions of one length and a "
                            "label; report it to rnnkit")
        cases.append((values, label.strip()))
    return cases


def japanese_vowels(archive: Path) -> str:
    """Both parts as one long-form CSV: ``part,id,t,c1..c12,label``, a row per frame (values
    verbatim), training cases first, each in file order."""
    columns = ",".join(f"c{i}" for i in range(1, VOWEL_DIMENSIONS + 1))
    lines = [f"part,id,t,{columns},label"]
    for part, count in VOWEL_CASES.items():
        member = VOWELS.format(part=part)
        text = next(iter(archive_members(archive, re.escape(member)).values())).decode("utf-8")
        cases = ts_cases(text, member)
        if len(cases) != count or any(len(dims) != VOWEL_DIMENSIONS for dims, _ in cases):
            raise DataError(f"{member} does not hold {count} cases of {VOWEL_DIMENSIONS} "
                            "dimensions; report it to rnnkit")
        name = part.lower()
        for k, (dims, label) in enumerate(cases, 1):
            for t, frame in enumerate(zip(*dims)):
                lines.append(f"{name},{name}-{k:03d},{t},{','.join(frame)},{label}")
    return "\n".join(lines) + "\n"


register(DatasetInfo(
    name="japanese-vowels", kind="labelled",
    description="640 utterances by 9 speakers, 12 LPC cepstra x 7-29 frames; given split 270/370",
    package="aeon", version="1.6.0",
    archive="aeon-1.6.0-py3-none-any.whl",
    archive_sha256="d05227086706f80111ac5fee8de4d5d3115bb3bcfd1c786c8629393055816409",
    member="aeon/datasets/data/JapaneseVowels/JapaneseVowels_{TRAIN,TEST}.ts",
    licence="UCI data (package BSD-3)", size=1_325_129,
    sha256="d4ff79c4a3f8dc781aeaa8c7f78a871ce177d7fe400c137f43cf429c19c0236a",
    convert=japanese_vowels, extension=".csv",
))
