"""Time series for forecasting: read a file or a named dataset into regular, complete series.

``read_series`` reads CSV, TSV or Parquet in four layouts (:mod:`rnnkit.data.series_io`):

- long: ``id, time, value`` rows (chosen when ``id_col`` is given or a column is named id,
  series or unique_id);
- M4: one row per series, headed ``"V1","V2",...`` (the id, then values; ragged);
- wide: a time column and one column per series; a single series is a wide file with one value
  column (with or without a time column; one bare column of numbers needs no header).

Each series is then made regular: rows sorted by time; a duplicated timestamp is an error; the
frequency is ``freq`` or inferred (``pd.infer_freq``, also across whole missing steps);
timestamps off that grid are an error; missing steps become missing values. A series spans
from its first to its last value (empty cells before or after are not part of it, as in
ragged wide files); missing values inside need ``fill``: ``"interpolate"`` (linear in time) or
``"ffill"`` (last value carried forward), else a DataError says how many and where.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from rnnkit.data import registry
from rnnkit.data.series_io import (
    RawSeries,
    Table,
    infer_offset,
    parse_freq,
    read_table,
    split_m4,
    split_table,
)
from rnnkit.data.series_sources import PERIODS
from rnnkit.errors import ConfigError, DataError

LAYOUTS = ("auto", "long", "wide", "m4")
FILLS = ("interpolate", "ffill")
# M4's frequencies by the first letter of its series ids, with the seasonal periods M4 scores
# with (its guide: yearly 1, quarterly 4, monthly 12, weekly 1, daily 1, hourly 24)
M4_FREQUENCIES = {"Y": ("YS-JAN", 1), "Q": ("QS-JAN", 4), "M": ("MS", 12), "W": ("W-SUN", 1),
                  "D": ("D", 1), "H": ("h", 24)}
M4_HOURLY = "m4-hourly"
DAY = pd.Timedelta(days=1)


@dataclass
class Series:
    id: str
    values: np.ndarray  # (T,) float64 target, no NaN
    time: pd.DatetimeIndex | None  # (T,) regular timestamps, or None (steps 0..T-1)
    known: np.ndarray  # (T, K) float64 known-in-advance covariates
    past: np.ndarray  # (T, P) float64 past-only covariates


@dataclass
class SeriesSet:
    series: list[Series]
    freq: str | None  # pandas offset alias ("h", "30min", "D", "W-SUN", "MS", ...) or None
    period: int  # seasonal period (1 = none)
    known_names: list[str]
    past_names: list[str]
    source: str  # dataset name or file path
    filled: int = 0  # missing values filled


def approximate_step(offset: pd.DateOffset) -> pd.Timedelta:
    """The length of one step (a month is 28-31 days: measured from 2001-01-01 on)."""
    start = pd.Timestamp("2001-01-01") + offset  # on the grid, so the next step is a full one
    return (start + offset) - start


def period_for(freq: str | None) -> int:
    """The seasonal period of a frequency: steps per day for steps of a minute or more that
    divide a day (hourly 24, 30min 48), business days 5, daily 7, weekly 52, monthly 12,
    quarterly 4; yearly, other or None 1."""
    if freq is None:
        return 1
    offset = parse_freq(freq)
    months = {pd.offsets.MonthBegin: 12, pd.offsets.MonthEnd: 12, pd.offsets.QuarterBegin: 4,
              pd.offsets.QuarterEnd: 4, pd.offsets.BusinessMonthBegin: 12,
              pd.offsets.BusinessMonthEnd: 12}
    for kind, per_year in months.items():
        if isinstance(offset, kind):
            return per_year // offset.n if per_year % offset.n == 0 else 1
    if isinstance(offset, pd.offsets.Week):
        return 52 if offset.n == 1 else 1
    if isinstance(offset, pd.offsets.BusinessDay):
        return 5 if offset.n == 1 else 1
    if isinstance(offset, (pd.offsets.Tick, pd.offsets.Day)):
        step = pd.Timedelta(offset)
        if step == DAY:
            return 7
        if pd.Timedelta(minutes=1) <= step < DAY and DAY % step == pd.Timedelta(0):
            return int(DAY // step)
    return 1


def calendar_features(time: pd.DatetimeIndex | None, freq: str | None = None,
                      ) -> tuple[np.ndarray, list[str]]:
    """``(T, C)`` float32 sin/cos of the position of each timestamp in the cycles its step can
    show (at least two steps per cycle): the day (step <= 12 h), the week (step <= 3.5 days) and
    the year (step <= 183 days). With fraction ``f`` in [0, 1) of a cycle the pair is
    ``(sin 2 pi f, cos 2 pi f)``, so December and January are neighbours.
    Names: ``day_sin, day_cos, week_sin, week_cos, year_sin, year_cos`` (those present).
    ``time`` None gives a ``(0, 0)`` array (the caller knows T); yearly steps give C = 0.
    """
    if time is None:
        return np.zeros((0, 0), np.float32), []
    offset = parse_freq(freq) if freq else (time.freq or infer_offset(time))
    if offset is None:
        return np.zeros((len(time), 0), np.float32), []
    step = approximate_step(offset)
    day = (time.hour * 3600 + time.minute * 60 + time.second).to_numpy() / 86400
    cycles = []
    if step <= pd.Timedelta(hours=12):
        cycles.append(("day", day))
    if step <= pd.Timedelta(days=3.5):
        cycles.append(("week", (time.day_of_week.to_numpy() + day) / 7))
    if step <= pd.Timedelta(days=183):
        month = time.month.to_numpy() - 1 + (time.day.to_numpy() - 1 + day) / time.days_in_month
        cycles.append(("year", np.asarray(month) / 12))
    columns, names = [], []
    for name, fraction in cycles:
        columns += [np.sin(2 * np.pi * fraction), np.cos(2 * np.pi * fraction)]
        names += [f"{name}_sin", f"{name}_cos"]
    features = np.stack(columns, axis=1) if columns else np.zeros((len(time), 0))
    return features.astype(np.float32), names


def future_index(time: pd.DatetimeIndex | None, freq: str | None, horizon: int,
                 ) -> pd.DatetimeIndex | None:
    """The ``horizon`` timestamps after ``time[-1]`` (None when the series has no time)."""
    if horizon < 1:
        raise ConfigError.bad("horizon", f"must be at least 1, got {horizon}")
    if time is None:
        return None
    offset = parse_freq(freq) if freq else (time.freq or infer_offset(time))
    if offset is None:
        raise DataError("cannot tell the frequency of the timestamps; set freq",
                        parameters=("freq",))
    return pd.date_range(time[-1] + offset, periods=horizon, freq=offset)


def _stamp(moment: pd.Timestamp) -> str:
    return str(moment.date()) if moment == moment.normalize() else str(moment)


def _sorted_span(raw: RawSeries, table: Table) -> RawSeries:
    """Rows in time order, a duplicated timestamp refused, empty values before the first and
    after the last value dropped (not part of the series)."""
    if raw.times is not None:
        keys = raw.times.asi8 if isinstance(raw.times, pd.DatetimeIndex) else raw.times
        order = np.argsort(keys, kind="stable")
        raw = RawSeries(raw.id, raw.times[order], raw.columns[order], raw.rows[order])
        keys = keys[order]
        same = np.flatnonzero(keys[1:] == keys[:-1])
        if len(same):
            i = int(same[0])
            moment = raw.times[i]
            shown = _stamp(moment) if isinstance(moment, pd.Timestamp) else str(moment)
            raise DataError(f"series {raw.id!r} has the timestamp {shown} twice "
                            f"({table.where(raw.rows[i])} and {table.where(raw.rows[i + 1])}); "
                            "remove or aggregate the duplicates")
    present = np.flatnonzero(~np.isnan(raw.columns[:, 0]))
    if len(present) == 0:
        raise DataError(f"series {raw.id!r} has no values; give it numbers or leave it out")
    keep = slice(int(present[0]), int(present[-1]) + 1)
    times = None if raw.times is None else raw.times[keep]
    return RawSeries(raw.id, times, raw.columns[keep], raw.rows[keep])


def _common_offset(raws: list[RawSeries], table: Table) -> pd.DateOffset:
    """The one frequency inferred from every series with at least 3 timestamps."""
    found: dict[str, str] = {}
    for raw in raws:
        offset = infer_offset(raw.times)
        if offset is None and len(raw.times) >= 3:
            steps = raw.times[1:] - raw.times[:-1]
            i = int(np.flatnonzero(steps != steps[0])[0]) + 1
            raise DataError(
                f"series {raw.id!r} has irregular timestamps: the step changes from "
                f"{steps[0]} to {steps[i - 1]} at "
                f"{_stamp(raw.times[i])} ({table.where(raw.rows[i])}); fix the timestamps or "
                "set freq to a pandas alias (h, D, W, MS, QS, YS)", parameters=("freq",))
        if offset is not None:
            found.setdefault(offset.freqstr, raw.id)
    if len(found) > 1:
        (first, a), (second, b) = list(found.items())[:2]
        raise DataError(f"series {a!r} has frequency {first} but {b!r} has {second}; "
                        "give all series one frequency, or set freq", parameters=("freq",))
    if not found:
        raise DataError(f"series {raws[0].id!r} has {len(raws[0].times)} timestamps, too few "
                        "to infer a frequency; set freq", parameters=("freq",))
    return to_offset(next(iter(found)))


def regular_grid(raws: list[RawSeries], offset: pd.DateOffset | None, table: Table,
                 ) -> tuple[list[tuple[pd.DatetimeIndex | None, np.ndarray]], pd.DateOffset | None]:
    """Each series on its full grid of steps, ``(time or None, (T, C) columns)`` with NaN at
    missing steps, and the frequency (``offset`` or the inferred one)."""
    raws = [_sorted_span(raw, table) for raw in raws]
    dated = [raw for raw in raws if isinstance(raw.times, pd.DatetimeIndex)]
    if dated and offset is None:
        offset = _common_offset(dated, table)
    return [_place(raw, offset, table) for raw in raws], offset


def _place(raw: RawSeries, offset: pd.DateOffset | None, table: Table,
           ) -> tuple[pd.DatetimeIndex | None, np.ndarray]:
    if raw.times is None:
        return None, raw.columns
    if isinstance(raw.times, pd.DatetimeIndex):
        span = (raw.times[-1] - raw.times[0]) / approximate_step(offset)
        if span > 10 * len(raw.times) + 1000:
            raise DataError(f"series {raw.id!r}: {len(raw.times)} timestamps over {span:,.0f} "
                            f"steps of {offset.freqstr}; check freq", parameters=("freq",))
        time = pd.date_range(raw.times[0], raw.times[-1], freq=offset)
        position = time.get_indexer(raw.times)
        grid = f"{offset.freqstr} grid" + (f" from {_stamp(time[0])}" if len(time) else "")
    else:  # integer step numbers: the smallest difference is the step
        step = int(np.diff(raw.times).min()) if len(raw.times) > 1 else 1
        distance = raw.times - raw.times[0]
        position = np.where(distance % step == 0, distance // step, -1)
        time, grid = None, f"grid of steps of {step} from {raw.times[0]}"
    off_grid = np.flatnonzero(position < 0)
    if len(off_grid):
        i = int(off_grid[0])
        moment = raw.times[i]
        shown = _stamp(moment) if time is not None else str(moment)
        raise DataError(f"series {raw.id!r} has irregular timestamps: {shown} "
                        f"({table.where(raw.rows[i])}) is not on the {grid}; fix it or pass "
                        "the right freq", parameters=("freq",))
    columns = np.full((len(time) if time is not None else int(position[-1]) + 1,
                       raw.columns.shape[1]), np.nan)
    columns[position] = raw.columns
    return time, columns


def fill_missing(series_id: str, time: pd.DatetimeIndex | None, columns: np.ndarray,
                 fill: str | None, covariates: list[str]) -> tuple[np.ndarray, int]:
    """Columns without NaN and the number of values filled: ``"interpolate"`` is linear in
    time between the neighbours, ``"ffill"`` carries the last value; either way values before
    the first one take the first one. ``fill`` None and a NaN: a DataError saying where."""
    missing = np.isnan(columns)
    if not missing.any():
        return columns, 0
    names = ["value", *covariates]
    for j in range(columns.shape[1]):
        holes = np.flatnonzero(missing[:, j])
        what = f"series {series_id!r}" if j == 0 else \
            f"covariate {names[j]!r} of series {series_id!r}"
        if len(holes) == len(columns):
            raise DataError(f"{what} has no values; fill the column in the file")
        if fill is None and len(holes):
            first = _stamp(time[holes[0]]) if time is not None else f"step {holes[0]}"
            count = f"{len(holes)} missing value" + ("s" if len(holes) > 1 else "")
            raise DataError(f"{what} has {count} (first at {first}); set fill to "
                            "interpolate or ffill", parameters=("fill",))
    frame = pd.DataFrame(columns, index=time)
    if fill == "interpolate":
        frame = frame.interpolate(method="time" if time is not None else "linear",
                                  limit_area="inside")
    return frame.ffill().bfill().to_numpy(dtype=np.float64), int(missing.sum())


def project_folder() -> Path | None:
    """The source checkout rnnkit is imported from (the folder with ``pyproject.toml`` above
    ``src/rnnkit``), or None for an installed wheel."""
    root = Path(__file__).resolve().parents[3]
    return root if (root / "pyproject.toml").is_file() and (root / "src" / "rnnkit").is_dir() \
        else None


def m4_hourly_paths(folders: Sequence[str | os.PathLike] | None = None) -> tuple[Path, Path]:
    """``Hourly-train.csv`` and ``Hourly-test.csv`` of M4 (no package ships them): in the
    first of ``folders`` that has both; by default ``$RNNKIT_M4``, then ``../shared/data/m4``
    beside the project (the checkout rnnkit runs from, when it runs from one)."""
    if folders is None:
        folders = [os.environ["RNNKIT_M4"]] if os.environ.get("RNNKIT_M4") else []
        project = project_folder()
        if project is not None:
            folders.append(project.parent / "shared" / "data" / "m4")
    for folder in map(Path, folders):
        folder = folder.expanduser()
        train, test = folder / "Hourly-train.csv", folder / "Hourly-test.csv"
        if train.is_file() and test.is_file():
            return train, test
    looked = ", ".join(map(str, folders))
    raise DataError(f"M4 Hourly files not found (looked in {looked}); put Hourly-train.csv and "
                    "Hourly-test.csv from the M4 competition in a folder and set RNNKIT_M4 to it")


def series_dataset_names() -> list[str]:
    return sorted([d.name for d in registry.list_datasets("series")] + [M4_HOURLY])


def _resolve(name_or_path: str | os.PathLike) -> tuple[Path, str, bool]:
    """(file to read, source for reports, whether it is a named dataset)."""
    path, name = Path(name_or_path).expanduser(), str(name_or_path)
    if path.exists():
        return path, str(path), False
    if name == M4_HOURLY:
        return m4_hourly_paths()[0], name, True
    if name in {d.name for d in registry.list_datasets()}:
        info = registry.get_info(name)
        if info.kind != "series":
            raise DataError(f"dataset {name!r} is {info.kind} data, not series; series "
                            f"datasets: {', '.join(series_dataset_names())}")
        return registry.fetch(name), name, True
    if os.sep not in name and not path.suffix:
        raise DataError(f"no file or series dataset named {name!r}; give a CSV, TSV or Parquet "
                        f"file or one of: {', '.join(series_dataset_names())}")
    return path, str(path), False


def read_series(name_or_path: str | os.PathLike, *, time_col: str | None = None,
                value_cols: str | Sequence[str] | None = None, id_col: str | None = None,
                layout: str = "auto", fill: str | None = None, freq: str | None = None,
                period: int | None = None, known: Sequence[str] = (),
                past: Sequence[str] = ()) -> SeriesSet:
    """Read series from a file or a named dataset (see the module docstring).

    ``period`` defaults to the dataset's own (``series_sources.PERIODS``), M4's for M4 ids, or
    :func:`period_for` of the frequency. ``known``/``past`` name covariate columns (long and
    wide layouts; in a wide file they are shared by every series).
    """
    if layout not in LAYOUTS:
        raise ConfigError(f"unknown layout {layout!r}; use one of {', '.join(LAYOUTS)}")
    if fill is not None and fill not in FILLS:
        raise ConfigError.bad("fill", f"must be interpolate or ffill, got {fill!r}")
    if period is not None and (isinstance(period, bool) or int(period) != period or period < 1):
        raise ConfigError(f"period must be a whole number >= 1, got {period!r}")
    offset = parse_freq(freq) if freq is not None else None
    path, source, named = _resolve(name_or_path)
    table = read_table(path)
    known, past = list(known), list(past)
    raws, layout = split_table(table, layout, time_col, value_cols, id_col, known, past)
    if layout == "m4" and offset is None:
        prefixes = {raw.id[:1].upper() for raw in raws}
        m4 = M4_FREQUENCIES.get(prefixes.pop()) if len(prefixes) == 1 else None
        offset = to_offset(m4[0]) if m4 else None
        period = period or (m4[1] if m4 else None)
    if named and len(raws) == 1 and layout != "m4":
        raws[0].id = source  # "airpassengers", not the CSV's column name "value"
    grids, offset = regular_grid(raws, offset, table)
    series, filled = [], 0
    for raw, (time, columns) in zip(raws, grids):
        columns, count = fill_missing(raw.id, time, columns, fill, known + past)
        filled += count
        series.append(Series(raw.id, columns[:, 0].copy(), time, columns[:, 1:1 + len(known)],
                             columns[:, 1 + len(known):]))
    freq_text = offset.freqstr if offset is not None else None
    if period is None:
        period = PERIODS.get(source) if named and source in PERIODS else period_for(freq_text)
    return SeriesSet(series, freq_text, int(period), known, past, source, filled)


def load_m4(train_path: str | os.PathLike, test_path: str | os.PathLike,
            ) -> tuple[SeriesSet, list[np.ndarray]]:
    """M4's train file as a SeriesSet (its period from the ids: H -> 24) and the test values
    of each series, in the same order: arrays of shape ``(h,)``."""
    train = read_series(train_path, layout="m4")
    tests = {raw.id: raw.columns[:, 0] for raw in split_m4(read_table(Path(test_path)))}
    absent = [s.id for s in train.series if s.id not in tests]
    if absent:
        raise DataError(f"{test_path} has no values for series {absent[0]!r} ({len(absent)} "
                        f"missing); give the test file that goes with {train_path}")
    gappy = [i for i, values in tests.items() if np.isnan(values).any()]
    if gappy:
        raise DataError(f"{test_path}: series {gappy[0]!r} has empty test values; the M4 "
                        "test file must be complete")
    return train, [tests[s.id] for s in train.series]
