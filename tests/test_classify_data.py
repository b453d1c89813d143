"""Labelled data: the sentiment converter and labels, users' files (text and series), skipped
rows counted, one-line errors, and the stratified split that keeps duplicates together.

``fixtures/sentiment_sample.tsv`` holds 380 real rows of the converted ``sentiment`` file:
Amazon snippets and tweets with |rating| >= 1.5 and at most 70 characters, 95 per source and
sign, drawn with seed 0 and kept in file order, with a ``label`` column added (the sign of the
rating). Clear, short, single-topic sentences, so that a few seconds of training can learn."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import numpy as np
import pytest

from rnnkit.data import labelled_sources as vader
from rnnkit.data.labelled import read_labelled, relabel, split_indices
from rnnkit.errors import ConfigError, DataError, RnnkitError

SAMPLE = Path(__file__).parent / "fixtures" / "sentiment_sample.tsv"


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _tar(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tarred:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tarred.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_vader_converter_reads_the_tar_inside_the_tar(tmp_path, monkeypatch):
    monkeypatch.setattr(vader, "SOURCES", {"tweets": 2, "nytEditorialSnippets": 1})
    tweets = b"1\t2.5\tI &lt;3 this &amp; that \r\n2\t-1.0\tmeh"
    nyt = b"1_1\t0.05\tMeagher &amp;amp; Flom"
    inner = _tar({"hutto_ICWSM_2014/tweets_GroundTruth.txt": tweets,
                  "hutto_ICWSM_2014/nytEditorialSnippets_GroundTruth.txt": nyt,
                  "hutto_ICWSM_2014/tweets_anonDataRatings.txt": b"ignored"})
    archive = tmp_path / "vaderSentiment-3.3.2.tar.gz"
    archive.write_bytes(_tar({vader.INNER: inner}))
    assert vader.vader_ground_truth(archive) == (
        "source\tid\trating\ttext\n"
        "nytEditorialSnippets\t1_1\t0.05\tMeagher & Flom\n"
        "tweets\t1\t2.5\tI <3 this & that\n"
        "tweets\t2\t-1.0\tmeh\n")
    monkeypatch.setattr(vader, "SOURCES", {"tweets": 3, "nytEditorialSnippets": 1})
    with pytest.raises(DataError, match="tweets_GroundTruth.txt has 2 rows, expected 3"):
        vader.vader_ground_truth(archive)


def test_sentiment_labels_by_sign_and_neutral_band():
    label = vader.sentiment_label
    assert [label(r, 2, 0.5) for r in (-0.05, 0.0, 0.05)] == ["negative", None, "positive"]
    assert [label(r, 3, 0.5) for r in (-0.5, -0.49, 0.0, 0.49, 0.5)] == [
        "negative", "neutral", "neutral", "neutral", "positive"]
    assert sum(vader.SOURCES.values()) == 23_703


def test_real_sample_reads_with_guessed_columns():
    data = read_labelled(SAMPLE)
    assert data.kind == "text" and len(data) == 380 and data.skipped == {}
    assert data.counts() == {"negative": 190, "positive": 190}
    assert data.texts[1] == "doesnt play new disney movies."


def test_csv_jsonl_and_skipped_rows_are_counted(tmp_path):
    csv = _write(tmp_path, "a.csv", 'review,y\n"good, very good",pos\n  ,neg\nbad,\nawful,neg\n'
                                    '"fine",pos\n')
    data = read_labelled(csv, text_col="review", label_col="y")
    assert data.texts == ["good, very good", "awful", "fine"]
    assert [data.names[i] for i in data.labels] == ["pos", "neg", "pos"]
    assert data.skipped == {"empty text": 1, "missing label": 1}
    jsonl = _write(tmp_path, "a.jsonl", '{"text": "yes", "label": 1}\n\n{"text": "no", '
                                        '"label": 0}\n{"text": "", "label": 1}\n')
    data = read_labelled(jsonl)
    assert data.names == ["0", "1"] and data.labels.tolist() == [1, 0]
    assert data.skipped == {"empty text": 1}


@pytest.mark.parametrize("text, options, words", [
    ("", {}, ["is empty"]),
    ("text,label\n", {}, ["header but no rows"]),
    ("words,label\nhi,a\nho,b\n", {}, ["text_col is needed", "no text column",
                                      "columns present: words, label"]),
    ("text,label\nhi,a\nho,b\n", {"label_col": "tag"}, ["label_col: ", "no label column 'tag'",
                                                        "columns present: text, label"]),
    ("text,label\nhi,a\nho,a\n", {}, ["single class ('a', 2 rows)"]),
    ("text,label\n ,a\n,b\n", {}, ["every row", "2 empty text"]),
    ('{"text": 1}\nnot json\n', {}, ["line 2", "not JSON"]),
])
def test_bad_files_are_one_line_errors(tmp_path, text, options, words):
    path = _write(tmp_path, "bad.jsonl" if "json" in text else "bad.csv", text)
    with pytest.raises(RnnkitError) as error:  # a missing column: ConfigError, of its parameter
        read_labelled(path, **options)
    message = str(error.value)
    assert "\n" not in message
    for word in words:
        assert word in message


@pytest.mark.parametrize("name, options, first", [
    ("sentiment", {"text_col": "review"}, "text_col is for a file's columns; the sentiment"),
    ("japanese-vowels", {"label_col": "y", "value_cols": ["a"]},
     "label_col is for a file's columns (as value_cols is); the japanese-vowels"),
])
def test_file_columns_on_a_named_dataset_are_refused(name, options, first):
    with pytest.raises(ConfigError) as error:  # before anything is fetched
        read_labelled(name, **options)
    assert str(error.value).startswith(first) and "has its own" in str(error.value)
    assert error.value.parameter == next(iter(options))


def test_series_one_per_row_and_long_form(tmp_path):
    wide = _write(tmp_path, "w.csv", "label,v1,v2,v3\nup,1,2,3\ndown,3,2,\nup,1,,3\n"
                                     "down,,,\nup,0,1,2\n")
    data = read_labelled(wide)
    assert data.kind == "series" and [len(s) for s in data.sequences] == [3, 2, 3]
    assert data.sequences[1][:, 0].tolist() == [3, 2]
    assert data.skipped == {"missing value inside the sequence": 1, "empty sequence": 1}
    long = _write(tmp_path, "l.csv", "id,t,x,y,label\na,1,1,10,up\na,0,0,9,up\nb,0,5,1,down\n"
                                     "b,1,4,0,down\nc,0,1,1,\n")
    data = read_labelled(long)
    assert data.features == ["x", "y"] and data.skipped == {"missing label": 1}
    assert data.sequences[0].tolist() == [[0, 9], [1, 10]]  # sorted by t
    clash = _write(tmp_path, "c.csv", "id,t,x,label\na,0,1,up\na,1,2,down\nb,0,1,up\n")
    with pytest.raises(DataError, match="id 'a' has labels down, up"):
        read_labelled(clash)


def test_split_is_stratified_deterministic_and_keeps_duplicates_together():
    labels = np.array([0] * 60 + [1] * 40)
    groups = [f"t{i // 2}" if i < 20 else f"u{i}" for i in range(100)]  # 10 pairs
    first = split_indices(labels, (0.8, 0.1, 0.1), seed=3, groups=groups)
    again = split_indices(labels, (0.8, 0.1, 0.1), seed=3, groups=groups)
    assert all((a == b).all() for a, b in zip(first, again))
    assert sorted(np.concatenate(first).tolist()) == list(range(100))
    for part in first:
        assert {groups[i] for i in part}.isdisjoint(
            {groups[i] for other in first if other is not part for i in other})
    valid, test = first[1], first[2]
    assert 4 <= (labels[valid] == 1).sum() <= 5 and 4 <= (labels[test] == 1).sum() <= 5
    assert 5 <= (labels[valid] == 0).sum() <= 6


def test_relabel_names_unseen_labels(tmp_path):
    data = read_labelled(_write(tmp_path, "a.csv", "text,label\na,x\nb,y\nc,z\nd,z\n"))
    mapped = relabel(data.subset([0, 1]), ["x", "y"])
    assert mapped.labels.tolist() == [0, 1]
    with pytest.raises(DataError, match=r"never saw: 'z' \(2 rows\); the model knows x, y"):
        relabel(data, ["x", "y"])


def test_japanese_vowels_converter_and_its_given_split(tmp_path, monkeypatch):
    import zipfile

    from rnnkit.data import labelled
    from rnnkit.tasks.classify.data import split_data

    monkeypatch.setattr(vader, "VOWEL_CASES", {"TRAIN": 4, "TEST": 2})
    monkeypatch.setattr(vader, "VOWEL_DIMENSIONS", 2)
    header = "#comment\n@problemName JapaneseVowels\n@dimensions 2\n@data\n"
    train = header + ("1.5,1.25:-0.5,0.0:1\n2.0,2.5,3.0:0.1,0.2,0.3:1\n"
                      "9.0:8.0:2\n7.0,6.0:5.0,4.0:2\n")
    test = header + "1.0,1.0:2.0,2.0:2\n3.0:4.0:1\n"
    archive = tmp_path / "aeon-1.6.0-py3-none-any.whl"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr(vader.VOWELS.format(part="TRAIN"), train)
        zipped.writestr(vader.VOWELS.format(part="TEST"), test)
    text = vader.japanese_vowels(archive)
    lines = text.splitlines()
    assert lines[0] == "part,id,t,c1,c2,label"
    assert lines[1:4] == ["train,train-001,0,1.5,-0.5,1", "train,train-001,1,1.25,0.0,1",
                          "train,train-002,0,2.0,0.1,1"]
    assert lines[-1] == "test,test-002,0,3.0,4.0,1" and len(lines) == 1 + 2 + 3 + 1 + 2 + 2 + 1

    converted = _write(tmp_path, "vowels.csv", text)
    monkeypatch.setattr(labelled, "fetch", lambda name: converted)
    data = labelled.read_given_split("japanese-vowels")
    assert data.kind == "series" and data.features == ["c1", "c2"] and data.names == ["1", "2"]
    assert data.parts == ["train"] * 4 + ["test"] * 2
    assert [len(s) for s in data.sequences] == [2, 3, 1, 2, 2, 1]
    np.testing.assert_array_equal(data.sequences[1][:, 1], np.float32([0.1, 0.2, 0.3]))
    train_part, valid_part, test_part = split_data(data, (0.5, 0.5, 0.0))
    assert test_part.parts == ["test", "test"] and len(train_part) + len(valid_part) == 4
    assert set(train_part.parts) == set(valid_part.parts) == {"train"}
    assert sorted(valid_part.labels.tolist()) == [0, 1]  # stratified: one of each class

    monkeypatch.setattr(vader, "VOWEL_CASES", {"TRAIN": 5, "TEST": 2})
    with pytest.raises(DataError, match="does not hold 5 cases"):
        vader.japanese_vowels(archive)
    bad = header + "1.0,x:2.0,3.0:1\n"
    assert pytest.raises(DataError, vader.ts_cases, bad, "bad.ts").match("line 5")
