"""Tagged data: CoNLL and JSONL round-trips and one-line errors; the punct and segment tasks
built from fixed strings, checked against tags written by hand; restoring text; splits."""

from __future__ import annotations

from pathlib import Path

import pytest

from rnnkit.data.tagging import (
    TagData,
    build_punct,
    build_segment,
    case_class,
    check_trainable,
    read_conll,
    read_jsonl,
    read_tagged,
    restore_punct,
    restore_segment,
    split_data,
    text_units,
    write_conll,
    write_jsonl,
)
from rnnkit.errors import DataError

ALICE = Path(__file__).parent / "fixtures" / "alice_head.txt"
CANONICAL = "EU\tB-ORG\nrejects\tO\nGerman\tB-MISC\n\nPeter\tB-PER\nBlackburn\tI-PER\n\n"
DATA = TagData([["EU", "rejects", "German"], ["Peter", "Blackburn"]],
               [["B-ORG", "O", "B-MISC"], ["B-PER", "I-PER"]])


def test_conll_round_trips_both_ways(tmp_path):
    path = tmp_path / "a.conll"
    path.write_text(CANONICAL)
    read = read_conll(path)
    assert read == DATA
    write_conll(read, tmp_path / "b.conll")
    assert (tmp_path / "b.conll").read_text() == CANONICAL
    assert read_conll(write_conll(DATA, tmp_path / "c.conll")) == DATA


def test_conll_columns_by_index_spaces_and_docstart(tmp_path):
    path = tmp_path / "conll2003.txt"
    path.write_text("-DOCSTART- -X- -X- O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\n"
                    "German JJ B-NP B-MISC\n\n\n\nPeter NNP B-NP B-PER\n"
                    "Blackburn NNP I-NP I-PER\n")
    data = read_conll(path)
    assert data == DATA
    assert data.notes["docstart_lines_skipped"] == 1
    pos = read_conll(path, token_col=0, tag_col=1)
    assert pos.tags == [["NNP", "VBZ", "JJ"], ["NNP", "NNP"]]


def test_jsonl_round_trips_both_ways(tmp_path):
    path = write_jsonl(DATA, tmp_path / "a.jsonl")
    text = path.read_text()
    assert text.splitlines()[0] == '{"tokens": ["EU", "rejects", "German"], ' \
                                   '"tags": ["B-ORG", "O", "B-MISC"]}'
    assert read_jsonl(path) == DATA
    write_jsonl(read_jsonl(path), tmp_path / "b.jsonl")
    assert (tmp_path / "b.jsonl").read_text() == text
    assert read_tagged(path) == DATA  # chosen by suffix


def test_jsonl_counts_empty_sentences(tmp_path):
    path = tmp_path / "e.jsonl"
    path.write_text('{"tokens": [], "tags": []}\n{"tokens": ["a", "b"], "tags": ["X", "Y"]}\n')
    data = read_jsonl(path)
    assert data.sentences == [["a", "b"]] and data.notes["empty_sentences_skipped"] == 1


@pytest.mark.parametrize("name, text, words", [
    ("missing.conll", None, ["no such file"]),
    ("empty.conll", "\n \n", ["is empty"]),
    ("short.conll", "a\tX\nb\tY\n\nc\n", ["line 4", "1 column", "tag"]),
    ("bad.jsonl", '{"tokens": ["a"], "tags": ["X"]}\n{"tokens": ["a", "b"], "tags": ["X"]}\n',
     ["line 2", "2 tokens but 1 tags"]),
    ("keys.jsonl", '{"words": ["a"], "tags": ["X"]}\n', ["line 1", "words, tags"]),
    ("notjson.jsonl", '{"tokens": [\n', ["line 1", "not JSON"]),
])
def test_bad_files_raise_one_line_data_errors(tmp_path, name, text, words):
    path = tmp_path / name
    if text is not None:
        path.write_text(text)
    with pytest.raises(DataError) as error:
        read_tagged(path)
    message = str(error.value)
    assert "\n" not in message
    for word in words:
        assert word in message


def test_a_single_tag_cannot_be_trained():
    check_trainable(DATA)
    with pytest.raises(DataError, match=r"single tag \('O'\) on all 3 tokens"):
        check_trainable(TagData([["a", "b"], ["c"]], [["O", "O"], ["O"]]))


def test_case_classes():
    cases = {"alice": "low", "Alice": "Cap", "I": "Cap", "VERY": "UP", "McDonald": "Mix",
             "1865": "low", "don't": "low", "Don't": "Cap", "iPhone": "Mix"}
    assert {w: case_class(w) for w in cases} == cases


def test_punct_task_by_hand():
    text = ("  Hello, world!  I said:\n`don't PANIC' -- McDonald ate.\n\n"
            "New   para here?!\n\n* * *\n")
    data = build_punct(text)
    assert data.sentences == [["hello", "world", "i", "said", "don't", "panic", "mcdonald",
                               "ate"], ["new", "para", "here"]]
    assert data.tags == [["Cap|,", "low|!", "Cap", "low|:", "low", "UP", "Mix", "low|."],
                         ["Cap", "low", "low|?"]]
    assert data.notes == {"gaps_with_several_marks": 1, "paragraphs_without_words": 1,
                          "words": 11}
    assert restore_punct(data.sentences[0], data.tags[0]) == \
        "Hello, world! I said: don't PANIC mcdonald ate."


def test_punct_pieces_keep_the_tags_of_the_whole_paragraph():
    data = build_punct("One two, three four. Five", max_words=2)
    assert data.sentences == [["one", "two"], ["three", "four"], ["five"]]
    assert data.tags == [["Cap", "low|,"], ["low", "low|."], ["Cap"]]


def test_units_are_paragraphs_or_lines():
    assert text_units("a b\nc\n\n d \n") == ["a b c", "d"]
    assert text_units("In the beginning.\nAnd God said.\n") == ["In the beginning.",
                                                               "And God said."]


def test_segment_task_by_hand():
    data = build_segment("Hello, world!\n\n ab  c \n")
    assert data.sentences == [list("Hello,world!"), list("abc")]
    assert data.tags == [list("BIIIIIBIIIII"), list("BIB")]
    assert restore_segment(data.sentences[0], data.tags[0]) == "Hello, world!"
    cut = build_segment("aa bb cc\nabcdef", max_chars=4)
    assert ["".join(s) for s in cut.sentences] == ["aabb", "cc", "abcd", "ef"]
    assert ["".join(t) for t in cut.tags] == ["BIBI", "BI", "BIII", "II"]
    assert cut.notes == {"lines_cut": 1, "words_cut": 1, "characters": 12}


def test_real_text_restores_from_its_own_tags():
    text = ALICE.read_text()
    segment = build_segment(text)
    lines = [" ".join(line.split()) for line in text.split("\n") if line.strip()]
    assert [restore_segment(s, t) for s, t in zip(segment.sentences, segment.tags)] == lines
    punct = build_punct(text)
    first = next(k for k, words in enumerate(punct.sentences) if words[0] == "alice")
    restored = restore_punct(punct.sentences[first], punct.tags[first])
    assert restored.startswith("Alice was beginning to get very tired of sitting by her sister "
                               "on the bank, and of having nothing to do: once or twice")


def test_split_is_contiguous_and_checked():
    data = TagData([[str(i)] for i in range(10)], [["X"]] * 10)
    train, valid, test = split_data(data, (0.8, 0.1, 0.1))
    assert [s[0] for s in train.sentences + valid.sentences + test.sentences] == \
        [str(i) for i in range(10)]
    assert (len(train), len(valid), len(test)) == (8, 1, 1)
    train, valid, test = split_data(data, (0.5, 0.5, 0.0), max_sentences=4)
    assert (len(train), len(valid), len(test)) == (2, 2, 0)
    with pytest.raises(DataError, match="valid part is empty"):
        split_data(data, (0.8, 0.1, 0.1), max_sentences=5)
