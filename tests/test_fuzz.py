"""Inputs that cannot crash rnnkit: every reader, fed any bytes or any table-shaped text,
returns data or raises an RnnkitError (one line), never another exception. A bounded number
of examples runs here; ``bench/fuzz.py`` runs the same properties longer."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnkit.errors import RnnkitError

EXAMPLES = int(os.environ.get("RNNKIT_FUZZ_EXAMPLES", "40"))  # bench/fuzz.py sets more
SETTINGS = settings(max_examples=EXAMPLES, deadline=None,
                    derandomize="RNNKIT_FUZZ_EXAMPLES" not in os.environ,  # the suite: fixed
                    suppress_health_check=list(HealthCheck), database=None)

# table-shaped text: headers and cells from pieces readers care about (numbers, dates, empty
# cells, quotes, separators, names they guess) mixed with anything
CELLS = st.one_of(
    st.sampled_from(["", "1", "-2.5", "nan", "inf", "1e308", "2020-01-01", "2020-13-45",
                     "1949-01", "12:00", "x", "positive", "negative", '"', "'", "\\", "\t",
                     "id", "time", "value", "label", "text", "date", "t", "series", "y",
                     "0", "99999999999999999999", "1,5", " ", "\x00", "é", "\u2028"]),
    st.text(max_size=6),
)
ROWS = st.lists(st.lists(CELLS, min_size=0, max_size=5), min_size=0, max_size=8)


def table(rows: list[list[str]], separator: str) -> bytes:
    return "\n".join(separator.join(row) for row in rows).encode("utf-8", "surrogatepass")


def write(data: bytes, suffix: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="rnnkit-fuzz-"))
    path = folder / f"input{suffix}"
    path.write_bytes(data)
    return path


def survives(read, path: Path, **options) -> None:
    try:
        read(path, **options)
    except RnnkitError as error:
        assert "\n" not in str(error), str(error)


@SETTINGS
@given(st.binary(max_size=300), st.sampled_from(["utf-8", "latin-1", "utf-16"]))
def test_text_reader_survives_any_bytes(data, encoding):
    from rnnkit.data.text import read_text_file

    survives(read_text_file, write(data, ".txt"), encoding=encoding)


@SETTINGS
@given(st.one_of(ROWS.map(lambda r: table(r, ",")), ROWS.map(lambda r: table(r, "\t")),
                 st.binary(max_size=200)),
       st.sampled_from([".csv", ".tsv", ".txt", ".csv.gz", ".parquet"]),
       st.fixed_dictionaries({}, optional={
           "fill": st.sampled_from(["interpolate", "ffill", "zero"]),
           "layout": st.sampled_from(["auto", "wide", "long", "single", "m4", "bad"]),
           "freq": st.sampled_from(["D", "h", "MS", "fortnight"]),
           "value_cols": st.lists(st.sampled_from(["value", "x", "1"]), max_size=2),
           "time_col": st.sampled_from(["time", "date", "nope"]),
           "id_col": st.sampled_from(["id", "series", "nope"])}))
def test_series_reader_survives_any_table(data, suffix, options):
    from rnnkit.data.series import read_series

    survives(read_series, write(data, suffix), **options)


@SETTINGS
@given(st.one_of(ROWS.map(lambda r: table(r, ",")), ROWS.map(lambda r: table(r, "\t")),
                 st.lists(st.dictionaries(st.sampled_from(["text", "label", "y", "id"]),
                                          st.one_of(st.none(), st.integers(), st.text(max_size=5),
                                                    st.lists(st.integers(), max_size=2))),
                          max_size=4).map(lambda rs: "\n".join(map(json.dumps, rs)).encode()),
                 st.binary(max_size=200)),
       st.sampled_from([".csv", ".tsv", ".jsonl", ".json", ".txt"]),
       st.sampled_from(["auto", "text", "series"]), st.booleans())
def test_labelled_reader_survives_any_table(data, suffix, kind, require_labels):
    from rnnkit.data.labelled import read_labelled

    survives(read_labelled, write(data, suffix), kind=kind, require_labels=require_labels)


@SETTINGS
@given(st.one_of(ROWS.map(lambda r: table(r, "\t")), ROWS.map(lambda r: table(r, " ")),
                 st.lists(st.dictionaries(st.sampled_from(["tokens", "tags", "x"]),
                                          st.one_of(st.none(), st.text(max_size=3),
                                                    st.lists(st.text(max_size=3), max_size=3))),
                          max_size=4).map(lambda rs: "\n".join(map(json.dumps, rs)).encode()),
                 st.binary(max_size=200)),
       st.sampled_from([".conll", ".jsonl", ".txt"]), st.integers(-3, 3), st.integers(-3, 3))
def test_tag_readers_survive_any_file(data, suffix, token_col, tag_col):
    from rnnkit.data.tagging import read_tagged

    survives(read_tagged, write(data, suffix), token_col=token_col, tag_col=tag_col)


JSON = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(),
                              st.text(max_size=5)),
                    lambda inner: st.one_of(st.lists(inner, max_size=3),
                                            st.dictionaries(st.text(max_size=6), inner,
                                                            max_size=4)),
                    max_leaves=12)


@SETTINGS
@given(st.one_of(JSON.map(lambda v: json.dumps(v).encode()), st.binary(max_size=100),
                 st.fixed_dictionaries({
                     "format": st.one_of(st.integers(-1, 3), st.text(max_size=2)),
                     "task": st.sampled_from(["lm", "classify", "tag", "forecast", "x"]),
                     "model": JSON, "vocabulary": JSON, "tags": JSON, "inputs": JSON,
                 }).map(lambda v: json.dumps(v).encode())))
def test_loading_any_config_json_is_a_one_line_error(data):
    import rnnkit

    folder = Path(tempfile.mkdtemp(prefix="rnnkit-fuzz-"))
    (folder / "config.json").write_bytes(data)
    (folder / "model.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ")
    try:
        rnnkit.load(folder)
    except RnnkitError as error:
        assert "\n" not in str(error), str(error)


@SETTINGS
@given(st.one_of(ROWS.map(lambda r: table(r, ",")), ROWS.map(lambda r: table(r, "\t")),
                 st.binary(max_size=200)),
       st.sampled_from([".csv", ".tsv", ".jsonl", ".txt"]),
       st.sampled_from([None, "src", "x"]), st.sampled_from([None, "tgt", "y"]))
def test_pairs_reader_survives_any_table(data, suffix, src_col, tgt_col):
    from rnnkit.tasks.seq2seq.data import read_pairs

    survives(read_pairs, write(data, suffix), src_col=src_col, tgt_col=tgt_col)
