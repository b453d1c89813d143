"""Reading series files: CSV, TSV or Parquet in long, wide or M4 layout, into raw columns.

:func:`read_table` reads a file into a DataFrame; :func:`split_long`, :func:`split_wide` and
:func:`split_m4` cut it into :class:`RawSeries`: one series' times as read (unsorted, possibly
with gaps), its target and covariates as a float matrix, and the file rows they came from (for
error messages); :func:`split_table` chooses the layout and columns. :func:`parse_freq` and
:func:`infer_offset` name or find a frequency. :mod:`rnnkit.data.series` makes regular series.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.api import types
from pandas.tseries.frequencies import to_offset

from rnnkit.errors import ConfigError, DataError

TIME_NAMES = ("time", "date", "timestamp", "ds", "datetime", "month", "year", "week", "day",
              "hour", "quarter", "period")
ID_NAMES = ("id", "series", "unique_id", "series_id", "item_id")
VALUE_NAMES = ("value", "values", "y", "target")
COMPRESSION = (".gz", ".bz2", ".xz", ".zip", ".zst")


@dataclass
class Table:
    """A file's rows; ``where(i)`` names data row ``i`` the way an editor would show it."""

    frame: pd.DataFrame
    path: Path
    first_line: int | None  # file line of data row 0 (None for Parquet: rows are numbered)

    def where(self, i: int) -> str:
        return f"line {i + self.first_line}" if self.first_line else f"row {i + 1}"

    def column(self, name: str, parameter: str) -> str:
        """The column called ``name`` (exact, else ignoring case), or a DataError naming the
        columns there are and the ``parameter`` that chooses another."""
        if name in self.frame.columns:
            return name
        folded = [c for c in self.frame.columns if str(c).lower() == str(name).lower()]
        if len(folded) == 1:
            return folded[0]
        present = ", ".join(c if c.isprintable() else repr(c) for c in map(str, self.frame.columns))
        raise DataError(f"{self.path} has no column {name!r} (columns: {present}); set "
                        f"{parameter} to one of them", parameters=(parameter,))


@dataclass
class RawSeries:
    id: str
    times: pd.DatetimeIndex | np.ndarray | None  # (n,) dates, integer steps, or None
    columns: np.ndarray  # (n, 1 + K + P) float64: target, known, past; NaN = missing
    rows: np.ndarray  # (n,) data row of each entry in the table (for messages)


def read_table(path: Path) -> Table:
    """Read a CSV (``,`` or ``;``), TSV or Parquet file, optionally compressed; a file whose
    header is all numbers has no header (one bare column of values is a series too)."""
    if path.is_dir():
        raise DataError(f"{path} is a folder; give a CSV, TSV or Parquet file")
    if not path.is_file():
        raise DataError(f"no such file: {path}; check the path")
    if path.stat().st_size == 0:
        raise DataError(f"{path} is empty; give a file with a header and rows of values")
    name = path.name.lower()
    for suffix in COMPRESSION:
        name = name.removesuffix(suffix)
    if name.endswith((".parquet", ".pq")):
        check_pyarrow()
        try:
            frame = pd.read_parquet(path)
        except ImportError as missing:
            raise DataError("reading Parquet needs pyarrow, which is not installed; "
                            "pip install pyarrow (or give a CSV file)") from missing
        except (OSError, ValueError) as bad:
            raise DataError(f"cannot read {path} as Parquet ({_first_line(bad)}); "
                            "check that it is a Parquet file") from bad
        return _non_empty(Table(frame, path, None))
    separator = "\t" if name.endswith((".tsv", ".tab")) else ","
    frame = _read_csv(path, separator, header=0)
    if frame.shape[1] == 1 and separator == ",":
        for other in ("\t", ";"):
            if other in str(frame.columns[0]):
                separator, frame = other, _read_csv(path, other, header=0)
                break
    first_line = 2
    if all(_is_number(c) for c in frame.columns):
        frame = _read_csv(path, separator, header=None)
        frame.columns = ["value"] if frame.shape[1] == 1 else [
            f"value_{i + 1}" for i in range(frame.shape[1])]
        first_line = 1
    return _non_empty(Table(frame, path, first_line))


def _read_csv(path: Path, separator: str, header: int | None) -> pd.DataFrame:
    kind = "TSV" if separator == "\t" else "CSV"
    try:
        return pd.read_csv(path, sep=separator, header=header, skipinitialspace=True)
    except pd.errors.EmptyDataError as empty:
        raise DataError(f"{path} is empty; give a file with a header and rows of values"
                        ) from empty
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as bad:
        raise DataError(f"cannot read {path} as {kind} ({_first_line(bad)}); "
                        f"check that it is a {kind} file") from bad
    except (OSError, EOFError, RuntimeError) as bad:  # a damaged .gz/.bz2/.xz/.zip/.zst
        raise DataError(f"cannot read {path} ({_first_line(bad)}); check that it is a whole "
                        f"{kind} file, compressed as its name says") from bad


SAFE_PYARROW = (14, 0, 1)  # older ones run code from a crafted Parquet file (CVE-2023-47248)


def check_pyarrow(version: str | None = None) -> None:
    """Refuse to read Parquet with a pyarrow that has a known code-execution bug."""
    if version is None:
        from importlib.metadata import PackageNotFoundError
        from importlib.metadata import version as installed

        try:
            version = installed("pyarrow")
        except PackageNotFoundError:
            return  # pandas then says pyarrow is missing (the ImportError below)
    parts = tuple(int(p) for p in re.findall(r"\d+", version)[:3])
    if parts < SAFE_PYARROW:
        raise DataError(f"pyarrow {version} can run code hidden in a Parquet file "
                        "(CVE-2023-47248); pip install 'pyarrow>=14.0.1' (or give a CSV file)")


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def _non_empty(table: Table) -> Table:
    if len(table.frame) == 0:
        raise DataError(f"{table.path} has a header but no rows; add rows of values")
    return table


def _is_number(text: object) -> bool:
    try:
        float(str(text))
    except ValueError:
        return False
    return True


def _to_dates(text: pd.Series) -> pd.Series:
    """Text -> dates (NaT where not a date): in the format of the first value, else any ISO
    8601 form (``2020-01-03`` beside ``2020-01-03 06:00``), else each value on its own. UTC
    offsets that change (summer time) are converted to UTC."""
    with warnings.catch_warnings():  # "could not infer format": falls back per element
        warnings.simplefilter("ignore", UserWarning)
        try:
            dates = pd.to_datetime(text, errors="coerce")
            utc = False
        except ValueError:  # mixed UTC offsets
            dates, utc = pd.to_datetime(text, errors="coerce", utc=True), True
        for form in ("ISO8601", "mixed"):
            if not dates.isna().any():
                break
            dates = pd.to_datetime(text, errors="coerce", format=form, utc=utc)
    return dates


def find_time_column(table: Table, exclude: set[str]) -> str | None:
    """A column named like a time (time, date, ds, year, ...), else the first column if it
    holds text that reads as dates, else None."""
    for column in table.frame.columns:
        if str(column).strip().lower() in TIME_NAMES and column not in exclude:
            return column
    first = table.frame.columns[0]
    raw = table.frame[first]
    if first in exclude or types.is_numeric_dtype(raw) or raw.isna().any():
        return None
    if types.is_datetime64_any_dtype(raw) or _to_dates(raw.astype(str)).notna().all():
        return first
    return None


def parse_times(table: Table, column: str) -> pd.DatetimeIndex | np.ndarray:
    """A time column as dates (``DatetimeIndex``) or integer steps (``int64`` array).

    Whole numbers between 1000 and 2999 are years (1 January of each); other whole numbers are
    step numbers; text must read as dates in one format.
    """
    raw = table.frame[column]
    if raw.isna().any():
        at = table.where(int(np.flatnonzero(raw.isna().to_numpy())[0]))
        raise DataError(f"time column {column!r} is empty at {at}; give every row a time")
    if types.is_datetime64_any_dtype(raw):
        return pd.DatetimeIndex(raw)
    if types.is_numeric_dtype(raw) and not types.is_bool_dtype(raw):
        numbers = raw.to_numpy(dtype=float)
        fractional = np.flatnonzero(numbers != np.round(numbers))
        if len(fractional):
            i = int(fractional[0])
            raise DataError(f"time column {column!r} has {numbers[i]:g} at {table.where(i)}, "
                            "neither a date nor a whole number; give dates (2020-01-31) or years")
        steps = numbers.astype(np.int64)
        if steps.min() >= 1000 and steps.max() <= 2999:
            return pd.DatetimeIndex(pd.to_datetime({"year": steps, "month": 1, "day": 1}))
        return steps
    text = raw.astype(str).str.strip()
    try:
        dates = _to_dates(text)
    except (ValueError, TypeError, OverflowError) as bad:
        raise DataError(f"time column {column!r} cannot be read as dates ({_first_line(bad)}); "
                        "give dates in one format (2020-01-31 or 2020-01-31 13:00)") from bad
    if dates.isna().any():
        i = int(np.flatnonzero(dates.isna().to_numpy())[0])
        raise DataError(f"time column {column!r} has {text.iloc[i]!r} at {table.where(i)}, which "
                        "is not a date; fix it or set time_col", parameters=("time_col",))
    return pd.DatetimeIndex(dates)


def parse_freq(freq: str) -> pd.DateOffset:
    """A pandas offset alias -> offset, or a one-line DataError."""
    try:
        return to_offset(freq)
    except (ValueError, TypeError) as bad:
        raise DataError(f"unknown frequency {freq!r}; use a pandas alias such as h, D, W, MS, "
                        "QS, YS") from bad


def infer_offset(times: pd.DatetimeIndex) -> pd.DateOffset | None:
    """``pd.infer_freq`` of sorted unique timestamps; with whole steps missing, that of the
    longest run without a gap (a step over 1.5 times the shortest), else the shortest step if
    it is also the commonest and every step is a whole number of it. None below 3 timestamps
    or when nothing fits."""
    if len(times) < 3:
        return None
    found = _infer(times)
    if found is not None:
        return found
    steps = np.diff(times.asi8)
    runs = np.split(np.arange(len(times)), np.flatnonzero(steps > 1.5 * steps.min()) + 1)
    longest = max(runs, key=len)
    found = _infer(times[longest]) if len(longest) >= 3 else None
    differences = pd.Series(times[1:] - times[:-1])
    step = differences.min()
    if found is None and differences.mode()[0] == step and (differences % step).eq(
            pd.Timedelta(0)).all():
        found = to_offset(step)  # a fixed step (hours, days) that is the usual one
    return found


def _infer(times: pd.DatetimeIndex) -> pd.DateOffset | None:
    with warnings.catch_warnings():  # pandas 3 announces that it will return an offset
        warnings.simplefilter("ignore")
        freq = pd.infer_freq(times)
    return None if freq is None else to_offset(freq)


def numeric_column(table: Table, column: str, role: str = "value") -> np.ndarray:
    """``(n,)`` float64 values of a column; empty cells are NaN (missing); text that is not a
    number is a DataError naming the column, the value and its line."""
    raw = table.frame[column]
    if types.is_numeric_dtype(raw):
        return raw.to_numpy(dtype=np.float64, na_value=np.nan)
    text = raw.astype(str).str.strip()
    blank = raw.isna() | (text == "")
    numbers = pd.to_numeric(text.where(~blank, None), errors="coerce")
    bad = np.flatnonzero((numbers.isna() & ~blank).to_numpy())
    if len(bad):
        i = int(bad[0])
        raise DataError(f"{role} column {column!r} is not numeric: {text.iloc[i]!r} at "
                        f"{table.where(i)}; fix the value or choose columns with value_cols",
                        parameters=("value_cols",))
    return numbers.to_numpy(dtype=np.float64, na_value=np.nan)


def _matrix(table: Table, targets: list[str], known: list[str], past: list[str]) -> np.ndarray:
    columns = [numeric_column(table, c) for c in targets]
    columns += [numeric_column(table, c, "covariate") for c in known + past]
    return np.stack(columns, axis=1)


def split_long(table: Table, id_col: str, time_col: str | None, value_col: str,
               known: list[str], past: list[str]) -> list[RawSeries]:
    """``id, time, value[, covariates]`` rows -> one RawSeries per id, in order of first
    appearance."""
    ids = table.frame[id_col]
    if ids.isna().any():
        at = table.where(int(np.flatnonzero(ids.isna().to_numpy())[0]))
        raise DataError(f"id column {id_col!r} is empty at {at}; give every row a series id")
    codes, names = pd.factorize(ids.astype(str), sort=False)
    times = parse_times(table, time_col) if time_col is not None else None
    matrix = _matrix(table, [value_col], known, past)
    order = np.argsort(codes, kind="stable")
    bounds = np.cumsum(np.bincount(codes, minlength=len(names)))[:-1]
    series = []
    for name, rows in zip(names, np.split(order, bounds)):
        chosen = None if times is None else times[rows]
        series.append(RawSeries(str(name), chosen, matrix[rows], rows))
    return series


def split_wide(table: Table, time_col: str | None, value_cols: list[str], known: list[str],
               past: list[str]) -> list[RawSeries]:
    """A time column (optional) and one column per series; covariate columns are shared."""
    times = parse_times(table, time_col) if time_col is not None else None
    matrix = _matrix(table, value_cols, known, past)
    rows = np.arange(len(table.frame))
    covariates = matrix[:, len(value_cols):]
    return [RawSeries(str(name), times, np.column_stack([matrix[:, j], covariates]), rows)
            for j, name in enumerate(value_cols)]


def split_m4(table: Table) -> list[RawSeries]:
    """M4 layout: one row per series, the id first, then its values (shorter series end in
    empty cells, which are dropped; an empty cell before the last value is a missing value)."""
    frame = table.frame
    if frame.shape[1] < 2:
        raise DataError(f"{table.path} has one column; the M4 layout is an id then values")
    values = np.column_stack([numeric_column(table, c) for c in frame.columns[1:]])
    series = []
    for i, (name, row) in enumerate(zip(frame.iloc[:, 0].astype(str), values)):
        present = np.flatnonzero(~np.isnan(row))
        if len(present) == 0:
            raise DataError(f"series {name!r} ({table.where(i)}) has no values; remove the row")
        length = int(present[-1]) + 1
        series.append(RawSeries(name, None, row[:length, None], np.full(length, i)))
    return series


def is_m4_header(columns: pd.Index) -> bool:
    """M4's files are headed ``"V1","V2",...`` in order."""
    return len(columns) >= 2 and [str(c) for c in columns] == [
        f"V{i + 1}" for i in range(len(columns))]


def split_table(table: Table, layout: str, time_col: str | None, value_cols, id_col: str | None,
                known: list[str], past: list[str]) -> tuple[list[RawSeries], str]:
    """Choose the layout (``"auto"``: long if there is an id column, M4 for a ``V1,V2,...``
    header, else wide), the time, value and covariate columns, and cut the table into series."""
    columns = [str(c) for c in table.frame.columns]
    if layout == "auto":
        named_id = [c for c in columns if c.strip().lower() in ID_NAMES]
        layout = "long" if id_col or named_id else "m4" if is_m4_header(table.frame.columns) \
            else "wide"
        id_col = id_col or (named_id[0] if named_id else None)
    if layout == "m4":
        if known or past:
            raise ConfigError("the M4 layout has no covariate columns; drop known/past")
        return split_m4(table), layout
    covariates = [table.column(c, "name covariates from them") for c in known + past]
    known, past = covariates[:len(known)], covariates[len(known):]
    taken = set(covariates)
    if layout == "long":
        if id_col is None:
            raise ConfigError.bad("id_col", "is needed: the long layout needs an id column")
        id_col = table.column(id_col, "id_col")
        taken.add(id_col)
    wanted = [value_cols] if isinstance(value_cols, str) else list(value_cols or [])
    values = [table.column(c, "value_cols") for c in wanted]
    if time_col is not None:
        time_col = table.column(time_col, "time_col")
    else:
        time_col = find_time_column(table, taken | set(values))
    rest = [c for c in table.frame.columns if c not in taken | {time_col} | set(values)]
    if layout == "long" and not values:
        by_name = [c for c in rest if str(c).strip().lower() in VALUE_NAMES]
        values = by_name[:1] or rest
        if len(values) > 1:
            raise DataError(f"{table.path} has several columns that could be the values "
                            f"({', '.join(map(str, values))}); choose with value_cols",
                            parameters=("value_cols",))
    values = values or rest
    if not values:
        present = ", ".join(columns)
        raise DataError(f"{table.path} has no value column (columns: {present}); add a column "
                        "of numbers or choose columns with value_cols",
                        parameters=("value_cols",))
    if layout == "long":
        if len(values) > 1:
            raise ConfigError("the long layout has one value column; pass one --value-col")
        return split_long(table, id_col, time_col, values[0], known, past), layout
    return split_wide(table, time_col, values, known, past), layout


