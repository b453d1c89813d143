"""Named real series: converters from the pinned ``pmdarima`` source archive and the installed
``statsmodels`` package to CSV.

Each converter reads one member of the archive (or of the installed package's folder; nothing
is imported or executed: pmdarima's arrays are parsed with :mod:`ast`, statsmodels' data are
CSV files) and
writes ``time,value`` CSV with ISO timestamps (years as ``1871``) and an empty value where the
source has a missing one. Where each series, its start and its length come from:

================  =========================================================================
airpassengers     pmdarima ``load_airpassengers``: Box & Jenkins series G, monthly totals
                  1949-1960; 144 values, start 1949-01 (docstring "1949 to 1960").
ausbeer           pmdarima ``load_ausbeer``: "from 1956:Q1 to 2008:Q3" = 211 quarters; the
                  array has a 212th entry, ``None`` (2008 Q4, past the stated end): dropped.
lynx              pmdarima ``load_lynx``: "Annual numbers of lynx trappings for 1821-1934";
                  114 values (its index is ``range(1821, 1935)``).
sunspots-monthly  pmdarima ``datasets/data/sunspots.txt.gz`` (R's ``sunspots``): "Monthly
                  Sunspot Numbers, 1749 - 1983", 2820 values, index Jan 1749 .. Dec 1983.
taylor            pmdarima ``load_taylor``: half-hourly demand "from Monday, 5 June, 2000 to
                  Sunday, 27 August, 2000", 4032 values = 84 days x 48, start 2000-06-05 00:00.
wineind           pmdarima ``load_wineind``: monthly, "Jan 1980 -- Aug 1994", 176 values.
woolyrnq          pmdarima ``load_woolyrnq``: quarterly, "Mar 1965 and Sep 1994" (index Q1 1965
                  .. Q3 1994), 119 values.
sunspots          statsmodels ``datasets/sunspots/sunspots.csv``: YEAR, SUNACTIVITY, 1700-2008,
                  309 values.
co2               statsmodels ``datasets/co2/co2.csv``: weekly Mauna Loa CO2, dates YYYYMMDD
                  every Saturday from 1958-03-29 to 2001-12-29: 2284 weeks, 59 of them empty
                  (kept empty, so reading it needs ``fill``).
nile              statsmodels ``datasets/nile/nile.csv``: annual flow 1871-1970, 100 values.
================  =========================================================================

:data:`PERIODS` is each dataset's seasonal period (``read_series`` uses it unless told
otherwise): 12 for monthly, 4 quarterly, 52 weekly, 48 for half-hourly taylor (the daily cycle;
its weekly one is 336), 1 for yearly data. Both sunspot series get 1: the ~11-year solar cycle
is neither a calendar period nor of fixed length, and the sun has no yearly season (pmdarima's
docstring suggests m=12 only because the data are monthly; M4 would use 12 too; pass
``period=12`` to score that way).
"""

from __future__ import annotations

import ast
import csv
import gzip
import io
import re
from collections.abc import Callable, Sequence
from pathlib import Path

from rnnkit.data.registry import DatasetInfo, register
from rnnkit.data.sources import archive_members
from rnnkit.errors import DataError

PMDARIMA = ("pmdarima", "2.1.1")
# the source archive (the wheels are per platform, so one hash could not pin them all); its
# members sit under pmdarima-2.1.1/ (a wheel's would not: both are read)
_SDIST_ROOT = r"(?:pmdarima-2\.1\.1/)?"
PMDARIMA_ARCHIVE = ("pmdarima-2.1.1.tar.gz",
                    "b8d2a0c0cd3f7ec90825fa25a917b5f66073de58033511de015a9e76e4e3d8f7")
STATSMODELS = ("statsmodels", "0.15.0")

PERIODS: dict[str, int] = {
    "airpassengers": 12, "ausbeer": 4, "co2": 52, "lynx": 1, "nile": 1, "sunspots": 1,
    "sunspots-monthly": 1, "taylor": 48, "wineind": 12, "woolyrnq": 4,
}

_YEARLY = "%Y"
_DAILY = "%Y-%m-%d"
_SUBDAILY = "%Y-%m-%d %H:%M"


def number_text(value: float | int | None) -> str:
    """A CSV field for one number: ``""`` for missing, ``"112"`` for whole numbers, else the
    shortest text that reads back as the same float (``"316.1"``)."""
    if value is None or value != value:  # None or NaN
        return ""
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def series_csv(start: str, freq: str, time_format: str, values: Sequence[str]) -> str:
    """``time,value`` CSV text: ``len(values)`` timestamps from ``start`` every ``freq``."""
    import pandas as pd  # imported here: registering the datasets must stay cheap

    stamps = pd.date_range(start=start, periods=len(values), freq=freq).strftime(time_format)
    return "time,value\n" + "".join(f"{t},{v}\n" for t, v in zip(stamps, values))


# ---------------------------------------------------------------- pmdarima (literal arrays)


def pmdarima_array(source: str, function: str) -> list:
    """The literal list inside ``rslt = np.array([...])...`` of ``def function`` in a pmdarima
    dataset module (parsed, never imported)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef) and node.name == function:
            for inner in ast.walk(node):
                if isinstance(inner, ast.List) and len(inner.elts) > 1:
                    return ast.literal_eval(inner)
    raise DataError(f"pmdarima's {function} has no literal array; the package layout changed, "
                    "report it to rnnkit")


def pmdarima_series(module: str, start: str, freq: str, time_format: str, length: int,
                    ) -> Callable[[Path], str]:
    """A converter for ``pmdarima/datasets/<module>.py``: its first ``length`` values (the
    documented span; ausbeer's array has one NaN past it) from ``start`` every ``freq``."""

    def convert(archive: Path) -> str:
        member = archive_members(archive, rf"{_SDIST_ROOT}pmdarima/datasets/{module}\.py")
        values = pmdarima_array(next(iter(member.values())).decode("utf-8"), f"load_{module}")
        if len(values) < length:
            raise DataError(f"pmdarima's {module} has {len(values)} values, expected {length}; "
                            "report it to rnnkit")
        return series_csv(start, freq, time_format, [number_text(v) for v in values[:length]])

    return convert


def pmdarima_sunspots(archive: Path) -> str:
    """``pmdarima/datasets/data/sunspots.txt.gz``: 235 lines (1749..1983) of 12 monthly means."""
    member = archive_members(archive, rf"{_SDIST_ROOT}pmdarima/datasets/data/sunspots\.txt\.gz")
    tokens = gzip.decompress(next(iter(member.values()))).decode("ascii").split()
    if len(tokens) != 2820:
        raise DataError(f"pmdarima's sunspots.txt.gz has {len(tokens)} values, expected 2820; "
                        "report it to rnnkit")
    return series_csv("1749-01-01", "MS", _DAILY, [number_text(float(t)) for t in tokens])


# ---------------------------------------------------------------- statsmodels (CSV files)


def statsmodels_csv(dataset: str, time_format: str, length: int) -> Callable[[Path], str]:
    """A converter for ``statsmodels/datasets/<dataset>/<dataset>.csv`` (two columns: a year
    or a YYYYMMDD date, then the value; empty fields stay empty)."""

    def convert(archive: Path) -> str:
        import pandas as pd

        path = rf"statsmodels/datasets/{dataset}/{dataset}\.csv"
        text = next(iter(archive_members(archive, path).values())).decode("utf-8")
        rows = list(csv.reader(io.StringIO(text)))[1:]
        if len(rows) != length or any(len(row) != 2 for row in rows):
            raise DataError(f"statsmodels' {dataset}.csv is not {length} rows of two fields; "
                            "report it to rnnkit")
        lines = ["time,value\n"]
        for stamp, value in rows:
            if not re.fullmatch(r"\d{4}|\d{8}", stamp):
                raise DataError(f"statsmodels' {dataset}.csv has time {stamp!r}; report it")
            when = pd.Timestamp(f"{stamp[:4]}-{stamp[4:6] or '01'}-{stamp[6:] or '01'}")
            lines.append(f"{when.strftime(time_format)},{number_text(float(value or 'nan'))}\n")
        return "".join(lines)

    return convert


# ---------------------------------------------------------------- the registry entries

_PM_LICENCE = "R package data (package MIT)"  # R datasets, forecast, fpp
_ENTRIES = [
    # name, description, package, member, convert, size, sha256
    ("airpassengers", "monthly airline passengers 1949-1960 (Box & Jenkins), 144 values",
     PMDARIMA, "pmdarima/datasets/airpassengers.py",
     pmdarima_series("airpassengers", "1949-01-01", "MS", _DAILY, 144), 2171,
     "5de342ced807b013d16271e627fd64acc793bfcb89dfb40dfe98663a1a60d3e9"),
    ("ausbeer", "quarterly Australian beer production 1956 Q1-2008 Q3, 211 values",
     PMDARIMA, "pmdarima/datasets/ausbeer.py",
     pmdarima_series("ausbeer", "1956-01-01", "QS", _DAILY, 211), 3176,
     "3dc422f2f41da525a0c9a5e5c8071ea9ae2ced301c6361c99e83d8c70863709b"),
    ("lynx", "yearly Canadian lynx trappings 1821-1934, 114 values",
     PMDARIMA, "pmdarima/datasets/lynx.py",
     pmdarima_series("lynx", "1821-01-01", "YS", _YEARLY, 114), 1081,
     "2a08216d894d99b40a2ca7874520b20b944a38ed3abaea37c8824aa86029622e"),
    ("sunspots-monthly", "monthly mean sunspot numbers 1749-1983 (R sunspots), 2,820 values",
     PMDARIMA, "pmdarima/datasets/data/sunspots.txt.gz", pmdarima_sunspots, 43988,
     "c68e7e58532ab3af2b1bb987f6c96eca9232ce1115f025f61a2fdf7dc27d34d1"),
    ("taylor", "half-hourly electricity demand, England & Wales, 2000-06-05..08-27, 4,032",
     PMDARIMA, "pmdarima/datasets/taylor.py",
     pmdarima_series("taylor", "2000-06-05 00:00", "30min", _SUBDAILY, 4032), 92747,
     "32a4e416d2e2a5b44a7ce3273040084d9ceefe8cdf27d4e6ddf24f0f4aa597f2"),
    ("wineind", "monthly Australian wine sales 1980-01..1994-08, 176 values",
     PMDARIMA, "pmdarima/datasets/wineind.py",
     pmdarima_series("wineind", "1980-01-01", "MS", _DAILY, 176), 3003,
     "97fd87d4b4b2ee7fa1743e7b7a691312ab41391b711d1d81a2936f2fc6fa3ea5"),
    ("woolyrnq", "quarterly Australian woollen yarn production 1965 Q1-1994 Q3, 119 values",
     PMDARIMA, "pmdarima/datasets/woolyrnq.py",
     pmdarima_series("woolyrnq", "1965-01-01", "QS", _DAILY, 119), 1915,
     "3f9a03495642ac1a58f2cec7500a4e43376b44442bdeb3232eef5b5cf4213423"),
    ("sunspots", "yearly sunspot activity 1700-2008 (NOAA NGDC), 309 values",
     STATSMODELS, "statsmodels/datasets/sunspots/sunspots.csv",
     statsmodels_csv("sunspots", _YEARLY, 309), 2934,
     "f268d512da7e9b0f913fbcc4b51eacdfe5df8ffecb5cf982b160477e20ec2b0f"),
    ("co2", "weekly Mauna Loa CO2 1958-03-29..2001-12-29, 2,284 weeks, 59 missing",
     STATSMODELS, "statsmodels/datasets/co2/co2.csv",
     statsmodels_csv("co2", _DAILY, 2284), 38054,
     "1d663510aa13de2041d6b5234c4f2fe0bd097cdc685099913e8fdf9571f2a3a4"),
    ("nile", "yearly Nile flow at Aswan 1871-1970, 100 values",
     STATSMODELS, "statsmodels/datasets/nile/nile.csv",
     statsmodels_csv("nile", _YEARLY, 100), 941,
     "dcbd62013e3cc9cc24239035f6df4fc8e7a4a20a55ee32887a9cc9703971cc85"),
]

for _name, _description, (_package, _version), _member, _convert, _size, _sha in _ENTRIES:
    register(DatasetInfo(
        name=_name, kind="series", description=_description, package=_package,
        version=_version, member=_member, convert=_convert, size=_size, sha256=_sha,
        licence=_PM_LICENCE if _package == "pmdarima" else "public domain (package BSD)",
        extension=".csv", installed=_package == "statsmodels",  # a dependency: no download
        **({"sdist": True, "archive": PMDARIMA_ARCHIVE[0], "archive_sha256": PMDARIMA_ARCHIVE[1]}
           if _package == "pmdarima" else {}),
    ))
