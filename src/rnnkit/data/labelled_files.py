"""Reading users' labelled files: CSV, TSV or JSONL tables, their columns found by name or
guessed, and numeric sequences one per row (wide) or one row per step (long). The file side of
:func:`rnnkit.data.labelled.read_labelled`."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd

from rnnkit.data.text import read_text_file
from rnnkit.errors import ConfigError, DataError


def read_table(path: Path, encoding: str) -> pd.DataFrame:
    """CSV, TSV or JSONL (by suffix; ``.txt`` is TSV if its first line has a tab) as strings."""
    text = read_text_file(path, encoding)
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        stripped = text.lstrip()
        if suffix == ".json" and stripped.startswith("["):
            try:
                records = json.loads(stripped)
            except json.JSONDecodeError as bad:
                raise DataError(f"{path} is not valid JSON ({bad.msg} at line {bad.lineno}); "
                                "fix it or write one object per line (JSONL)") from None
        else:
            records = []
            for number, line in enumerate(text.split("\n"), 1):
                if line.strip():
                    try:
                        records.append(json.loads(line))
                    except json.JSONDecodeError as bad:
                        raise DataError(f"line {number} of {path} is not JSON ({bad.msg}); "
                                        "write one object per line") from None
        if not all(isinstance(r, dict) for r in records):
            raise DataError(f"{path} must hold JSON objects ({{\"text\": ..., \"label\": ...}})")
        frame = pd.DataFrame.from_records(records)
        return frame.map(lambda v: "" if v is None or v != v else str(v)) if len(frame) else frame
    tab = suffix in (".tsv", ".tab") or (suffix != ".csv" and "\t" in text.split("\n", 1)[0])
    try:
        # TSV without quoting: texts may hold quote marks ("''Conan''")
        return pd.read_csv(io.StringIO(text), sep="\t" if tab else ",", dtype=str,
                           keep_default_na=False, quoting=csv.QUOTE_NONE if tab else 0)
    except pd.errors.ParserError as bad:
        first = str(bad).strip().splitlines()[0]
        raise DataError(f"{path} is not a well-formed {'TSV' if tab else 'CSV'} file "
                        f"({first}); check its quoting and separators") from None


def column(frame: pd.DataFrame, given: str | None, guesses: tuple[str, ...], what: str,
            parameter: str, path: Path, required: bool = True) -> str | None:
    """The column named ``given``, else the first of ``guesses`` present (any case). A missing
    column is the fault of ``parameter`` (``text_col``...): the error begins with it."""
    present = [str(c) for c in frame.columns]
    shown = ", ".join(c if c.isprintable() else repr(c) for c in present)  # one line, always
    if given is not None:
        if given in present:
            return given
        raise ConfigError(f"{parameter}: {path} has no {what} column {given!r}; columns "
                          f"present: {shown}", parameter)
    lower = {c.lower(): c for c in present}
    for guess in guesses:
        if guess in lower:
            return lower[guess]
    if not required:
        return None
    raise ConfigError.bad(parameter, f"is needed: {path} has no {what} column (looked for "
                                     f"{', '.join(guesses[:4])}...); columns present: "
                                     f"{shown}")


def floats(frame: pd.DataFrame, columns: list[str], path: Path) -> np.ndarray:
    """``(rows, len(columns))`` float64, NaN for empty cells; a non-number is a DataError."""
    values = np.full((len(frame), len(columns)), np.nan)
    for j, column in enumerate(columns):
        cells = frame[column].str.strip()
        number = pd.to_numeric(cells.where(cells != ""), errors="coerce")
        bad = number.isna() & (cells != "")
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(f"{path} column {column!r} row {row + 2} holds "
                            f"{frame[column].iloc[row]!r}, not a number; series classification "
                            "reads numbers (for text, name the column with text_col)",
                            parameters=("text_col",))
        values[:, j] = number.to_numpy(dtype=float)
    return values


def numeric(cells: pd.Series) -> bool:
    cells = cells.str.strip()
    return bool(pd.to_numeric(cells[cells != ""], errors="coerce").notna().all())


def wide_series(frame, label_col, value_cols, path, skipped) -> tuple[list, list, list]:
    columns = value_cols or [c for c in frame.columns if c != label_col]
    values = floats(frame, columns, path)
    labels, sequences = [], []
    for row, label in zip(values, frame[label_col].str.strip() if label_col else [""] * len(frame)):
        filled = np.flatnonzero(~np.isnan(row))
        if filled.size == 0:
            skipped["empty sequence"] += 1
        elif filled[-1] + 1 != filled.size:
            skipped["missing value inside the sequence"] += 1
        elif label_col and not label:
            skipped["missing label"] += 1
        else:
            labels.append(label or None)
            sequences.append(row[: filled.size, None].astype(np.float32))
    return labels, sequences, ["value"]


def long_series(frame, label_col, id_col, time_col, value_cols, path, skipped):
    features = value_cols or [c for c in frame.columns if c not in (label_col, id_col, time_col)]
    values = floats(frame, features, path)
    times = pd.to_numeric(frame[time_col], errors="coerce")
    order = times.to_numpy() if not times.isna().any() else frame[time_col].to_numpy()
    labels, sequences = [], []
    for key, rows in frame.groupby(id_col, sort=False).indices.items():
        rows = rows[np.argsort(order[rows], kind="stable")]
        found = {v for v in frame[label_col].iloc[rows].str.strip() if v} if label_col else set()
        if len(found) > 1:
            raise DataError(f"{path}: id {key!r} has labels {', '.join(sorted(found))}; give "
                            "one label per sequence")
        if np.isnan(values[rows]).any():
            skipped["missing value inside the sequence"] += 1
        elif label_col and not found:
            skipped["missing label"] += 1
        else:
            labels.append(found.pop() if found else None)
            sequences.append(values[rows].astype(np.float32))
    return labels, sequences, list(features)
