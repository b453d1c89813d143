"""The synthetic seq2seq tasks: right answers, the same pairs for the same seed, no source in
two parts of a split."""

from __future__ import annotations

import pytest

from rnnkit.errors import ConfigError
from rnnkit.tasks.seq2seq.data import SYNTHETIC, split_pairs, synthetic


def test_addition_is_right_and_keras_style_reversal_reverses_the_question():
    pairs = synthetic("addition", 500, seed=1)
    for source, target in pairs:
        a, b = source.split("+")
        assert int(a) + int(b) == int(target) and len(a) <= 3 and len(b) <= 3
    flipped = synthetic("addition", 500, seed=1, reverse_input=True)
    assert [(s[::-1], t) for s, t in flipped] == pairs


@pytest.mark.parametrize("name", ["reverse", "sort"])
def test_reverse_and_sort(name):
    for source, target in synthetic(name, 300, seed=2, lengths=(2, 6), letters=5):
        assert 2 <= len(source) <= 6 and set(source) <= set("abcde")
        assert target == (source[::-1] if name == "reverse" else "".join(sorted(source)))


@pytest.mark.parametrize("name", SYNTHETIC)
def test_the_same_seed_gives_the_same_distinct_pairs(name):
    pairs = synthetic(name, 400, seed=7)
    assert pairs == synthetic(name, 400, seed=7) != synthetic(name, 400, seed=8)
    assert len({source for source, _ in pairs}) == 400


def test_no_source_in_two_parts():
    pairs = synthetic("reverse", 1000, seed=0) + [("abc", "cba")] * 3
    train, valid, test = split_pairs(pairs, (0.8, 0.1, 0.1), seed=0)
    assert len(train) + len(valid) + len(test) == len(pairs)
    sources = [{s for s, _ in part} for part in (train, valid, test)]
    assert not (sources[0] & sources[1] or sources[0] & sources[2] or sources[1] & sources[2])
    assert 750 <= len(train) <= 850 and split_pairs(pairs, seed=0) == (train, valid, test)


def test_impossible_requests_are_config_errors():
    with pytest.raises(ConfigError, match="names no synthetic task 'copy'"):
        synthetic("copy", 10)
    with pytest.raises(ConfigError, match="more than half the distinct reverse pairs"):
        synthetic("reverse", 100, lengths=(1, 2), letters=3)
    with pytest.raises(ConfigError, match="split must be three fractions"):
        split_pairs([("a", "a")], (0.5, 0.5))


def test_pairs_files_by_column_name_by_position_and_as_jsonl(tmp_path):
    from rnnkit.tasks.seq2seq.data import read_pairs

    named = tmp_path / "named.csv"
    named.write_text("id,source,target\n1,hello,hola\n2,,vacío\n3,cat,gato\n")
    assert read_pairs(named) == ([("hello", "hola"), ("cat", "gato")],
                                 {"empty source or target": 1})
    bare = tmp_path / "tatoeba.tsv"  # two columns, no header: the first line is a pair
    bare.write_text("Go.\tVe.\nRun!\tCorre.\n")
    assert read_pairs(bare)[0] == [("Go.", "Ve."), ("Run!", "Corre.")]
    lines = tmp_path / "pairs.jsonl"
    lines.write_text('{"src": "1+1", "tgt": "2"}\n{"src": "2+2", "tgt": "4"}\n')
    assert read_pairs(lines)[0] == [("1+1", "2"), ("2+2", "4")]
    chosen = tmp_path / "three.tsv"
    chosen.write_text("en\tes\tfr\ndog\tperro\tchien\n")
    assert read_pairs(chosen, src_col="en", tgt_col="fr")[0] == [("dog", "chien")]


def test_pairs_files_that_cannot_be_read_are_one_line(tmp_path):
    from rnnkit.errors import DataError
    from rnnkit.tasks.seq2seq.data import read_pairs

    three = tmp_path / "three.tsv"
    three.write_text("en\tes\tfr\ndog\tperro\tchien\n")
    with pytest.raises(ConfigError, match="src_col is needed: .* has no source column"):
        read_pairs(three)
    with pytest.raises(ConfigError, match="tgt_col: .* has no target column 'de'"):
        read_pairs(three, src_col="en", tgt_col="de")
    empty = tmp_path / "empty.csv"
    empty.write_text("src,tgt\n,\n")
    with pytest.raises(DataError, match="holds no pair with both sides non-empty"):
        read_pairs(empty)
    with pytest.raises(DataError, match="no such file"):
        read_pairs(tmp_path / "none.tsv")
