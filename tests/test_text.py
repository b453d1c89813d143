"""Reading text files, tokenizers, vocabularies, splits and BPTT streams."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnkit.data import (
    EOS,
    UNK,
    Segments,
    Vocabulary,
    WordTokenizer,
    batchify,
    parse_fractions,
    read_text_file,
    split_stream,
)
from rnnkit.errors import CheckpointError, ConfigError, DataError

ALICE = Path(__file__).parent / "fixtures" / "alice_head.txt"


@pytest.fixture(scope="module")
def alice() -> str:
    return ALICE.read_text(encoding="utf-8")


# ---------------------------------------------------------------- reading files


def test_reading_normalises_newlines_and_drops_bom(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(b"\xef\xbb\xbfone\r\ntwo\rthree\n")
    assert read_text_file(path) == "one\ntwo\nthree\n"


def test_latin1_file_reads_with_its_encoding(tmp_path):
    path = tmp_path / "fr.txt"
    path.write_bytes("café crème\n".encode("latin-1"))
    assert read_text_file(path, encoding="latin-1") == "café crème\n"


@pytest.mark.parametrize(
    "content, expected",
    [
        (None, "no such file"),
        (b"", "is empty"),
        (b" \n\n\t", "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "looks binary"),
        ("hello".encode("utf-16"), "looks like UTF-16: give encoding utf-16"),
        ("café".encode("latin-1"), "valid utf-8 (byte 0xe9 at offset 3); give encoding latin-1"),
    ],
)
def test_unreadable_files_raise_one_line_naming_the_fix(tmp_path, content, expected):
    path = tmp_path / "corpus.txt"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DataError) as caught:
        read_text_file(path)
    message = str(caught.value)
    assert expected in message and str(path) in message and "\n" not in message


def test_a_folder_is_not_a_file(tmp_path):
    with pytest.raises(DataError, match="is a folder, not a text file"):
        read_text_file(tmp_path)


def test_too_short_corpus_names_both_lengths(tmp_path):
    path = tmp_path / "short.txt"
    path.write_text("tiny text\n")
    with pytest.raises(DataError, match="has 10 characters, fewer than the 1,000 needed"):
        read_text_file(path, min_chars=1000)


def test_unknown_encoding_is_a_config_error(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("a")
    with pytest.raises(ConfigError, match="unknown encoding 'klingon'"):
        read_text_file(path, encoding="klingon")


# ---------------------------------------------------------------- tokenizers and vocabularies


def test_char_round_trip_is_exact_on_real_text(alice):
    vocab = Vocabulary.build(alice)
    ids = vocab.encode(alice)
    assert ids.dtype == torch.int64 and ids.shape == (len(alice),)
    assert vocab.decode(ids) == alice
    assert vocab.tokens == sorted(set(alice))  # code-point order, as nanoGPT numbers them
    assert UNK not in vocab


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=80))
def test_char_round_trip_on_any_text(text):
    vocab = Vocabulary.build(text + "x")
    assert vocab.decode(vocab.encode(text)) == text


def test_word_tokens_split_punctuation_and_end_lines():
    tokens = WordTokenizer().split("Speak, speak.\nWe know't, we know't!\n\n")
    assert tokens == ["Speak", ",", "speak", ".", EOS,
                      "We", "know't", ",", "we", "know't", "!", EOS, EOS]
    assert WordTokenizer(lower=True, eos=False).split("A b.\nC") == ["a", "b", ".", "c"]


def test_word_round_trip_up_to_spacing(alice):
    vocab = Vocabulary.build(alice, level="word")
    ids = vocab.encode(alice)
    decoded = vocab.decode(ids)
    assert UNK not in decoded
    assert vocab.tokenizer.split(decoded) == vocab.tokenizer.split(alice)
    assert decoded.split() != alice.split()  # spacing really changed ("Alice ," -> "Alice,")...
    assert "".join(decoded.split()) == "".join(alice.split())  # ...and nothing else did
    assert decoded.count("\n") == len(alice.splitlines())  # every line ends in <eos>


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab ,.!'(\n"), max_size=60))
def test_word_join_then_split_gives_the_same_tokens(text):
    tokenizer = WordTokenizer()
    tokens = tokenizer.split(text)
    assert tokenizer.split(tokenizer.join(tokens)) == tokens


def test_decoding_token_by_token_matches_decoding_at_once(alice):
    for vocab in (Vocabulary.build(alice), Vocabulary.build(alice, level="word")):
        ids = vocab.encode(alice[:3000]).tolist()
        pieces = [vocab.decode_next(before, token)
                  for before, token in zip([None, *ids[:-1]], ids)]
        assert "".join(pieces) == vocab.decode(ids)


def test_word_vocabulary_cap_keeps_the_most_frequent_and_maps_the_rest_to_unk():
    text = "the cat the dog the cat a bird\n"
    vocab = Vocabulary.build(text, level="word", max_size=4)
    assert vocab.tokens == [UNK, EOS, "the", "cat"]  # specials count towards the cap
    assert vocab.decode(vocab.encode("the dog and the cat\n")) == "the <unk> <unk> the cat\n"


def test_min_count_drops_rare_words():
    vocab = Vocabulary.build("b a b c c c\n", level="word", min_count=2)
    assert vocab.tokens == [UNK, EOS, "c", "b"]


def test_char_vocabulary_without_unk_names_unseen_characters():
    vocab = Vocabulary.build("hello world")
    with pytest.raises(DataError, match=r"3 characters the vocabulary lacks: 'é', 'ö', 'ü'"):
        vocab.encode("hüllo wörld é")


def test_capped_char_vocabulary_has_unk_for_the_rest():
    vocab = Vocabulary.build("aaaabbbcc d", max_size=3)
    assert vocab.tokens == [UNK, "a", "b"]
    assert vocab.encode("abcz").tolist() == [1, 2, 0, 0]


def test_lower_casing():
    vocab = Vocabulary.build("The THE the\n", level="word", lower=True)
    assert vocab.tokens == [UNK, EOS, "the"]
    assert Vocabulary.build("AbA", lower=True).tokens == ["a", "b"]


def test_vocabulary_json_round_trip(alice):
    for vocab in (Vocabulary.build(alice), Vocabulary.build(alice, level="word", lower=True,
                                                           max_size=500)):
        again = Vocabulary.from_dict(json.loads(json.dumps(vocab.to_dict())))
        assert again == vocab and again.tokens == vocab.tokens
        assert torch.equal(again.encode(alice), vocab.encode(alice))


def test_malformed_saved_vocabulary_is_a_checkpoint_error():
    saved = Vocabulary.build("abc").to_dict()
    with pytest.raises(CheckpointError, match="saved vocabulary is malformed"):
        Vocabulary.from_dict({**saved, "tokenizer": {"level": "syllable"}})
    with pytest.raises(CheckpointError, match="malformed"):
        Vocabulary.from_dict({"tokens": ["a"]})


@pytest.mark.parametrize("options", [{"max_size": 2}, {"max_size": 0}, {"min_count": 0},
                                     {"level": "byte"}])
def test_bad_vocabulary_options_are_config_errors(options):
    level = options.pop("level", "word")
    with pytest.raises(ConfigError):
        Vocabulary.build("some words\n", level=level, **options)


# ---------------------------------------------------------------- splits


def test_splits_are_contiguous_deterministic_and_sized_by_floor():
    ids = torch.arange(1000)
    train, valid, test = split_stream(ids)
    assert (len(train), len(valid), len(test)) == (900, 50, 50)
    assert torch.equal(torch.cat([train, valid, test]), ids)
    assert all(torch.equal(a, b) for a, b in zip(split_stream(ids), (train, valid, test)))


def test_two_fractions_leave_no_test_part_like_nanogpt():
    ids = torch.arange(1_115_394)  # Tiny Shakespeare's length
    train, valid, test = split_stream(ids, (0.9, 0.1))
    assert (len(train), len(valid), len(test)) == (1_003_854, 111_540, 0)


@pytest.mark.parametrize("spec", ["0.9,0.2", "0.8,0.1,0.2", "1,0", "0.9,-0.1,0.2", "a,b", "1"])
def test_bad_fractions_are_config_errors(spec):
    with pytest.raises(ConfigError, match="e.g. 0.9,0.05,0.05"):
        parse_fractions(spec)


def test_parse_fractions():
    assert parse_fractions("0.8,0.1,0.1") == (0.8, 0.1, 0.1)
    assert parse_fractions("0.9,0.1") == (0.9, 0.1, 0.0)


def test_too_short_stream_to_split():
    with pytest.raises(DataError, match="10 tokens are too few to split 0.9/0.05/0.05"):
        split_stream(torch.arange(10))


# ---------------------------------------------------------------- parallel streams and segments


def test_batchify_makes_contiguous_rows():
    streams = batchify(torch.arange(23), 4)
    assert streams.shape == (4, 5)
    assert streams[1].tolist() == [5, 6, 7, 8, 9]  # row b is ids[b*L:(b+1)*L]
    with pytest.raises(DataError, match="too few for 12 parallel streams"):
        batchify(torch.arange(23), 12)
    with pytest.raises(ConfigError):
        batchify(torch.arange(23), 0)


def test_segments_shift_targets_and_continue_each_other():
    streams = batchify(torch.arange(2 * 11), 2)  # (2, 11): rows 0..10 and 11..21
    segments = list(Segments(streams, k=4))
    assert len(segments) == len(Segments(streams, k=4)) == 3  # ceil(10 / 4)
    assert [tuple(x.shape) for x, _ in segments] == [(2, 4), (2, 4), (2, 2)]
    for x, y in segments:
        assert torch.equal(y, x + 1)  # target is the next token of the same stream
    for (x, _), (next_x, _) in zip(segments, segments[1:]):
        assert torch.equal(next_x[:, 0], x[:, -1] + 1)  # segment j+1 starts where j stopped
    inputs = torch.cat([x for x, _ in segments], dim=1)
    assert torch.equal(inputs, streams[:, :-1])  # every position but the last, exactly once


def test_segments_drop_last():
    streams = batchify(torch.arange(22), 2)
    segments = list(Segments(streams, k=4, drop_last=True))
    assert len(segments) == 2 and all(x.shape == (2, 4) for x, _ in segments)
