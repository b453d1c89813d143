"""The sequence experiments' measuring pieces (bidirectional taggers, encoder-decoder by length,
exposure bias by position), and the encoder-decoder experiment's quick form end to end."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from rnnkit import experiments
from rnnkit.experiments.bidirectional import (
    LINE,
    NO_MARK,
    PARAGRAPH,
    UNSCORED,
    case_stream,
    mark_stream,
    scores,
    windows,
)
from rnnkit.experiments.encoder_decoder import (
    bucket_means,
    char_pairs,
    length_buckets,
    token_accuracy,
)
from rnnkit.experiments.exposure_bias import error_rates, position_errors

TEXT = "ROMEO:\nBut, soft! what light\nIs the sun.\n\nJULIET:\nAy me!\n"


# -- experiment 6: the tasks and their scores ----------------------------------------------
def test_punctuation_tags_each_word_with_the_mark_that_follows_it():
    tokens, tags = mark_stream(TEXT)
    assert tokens == ["romeo", "but", "soft", "what", "light", "is", "the", "sun", PARAGRAPH,
                      "juliet", "ay", "me", PARAGRAPH]
    assert tags == [":", ",", "!", NO_MARK, NO_MARK, NO_MARK, NO_MARK, ".", UNSCORED,
                    ":", NO_MARK, "!", UNSCORED]


def test_capitalisation_keeps_marks_and_line_breaks_as_untagged_tokens():
    tokens, tags = case_stream(TEXT)
    assert tokens[:9] == ["romeo", ":", LINE, "but", ",", "soft", "!", "what", "light"]
    assert tags[:9] == ["UP", UNSCORED, UNSCORED, "Cap", UNSCORED, "low", UNSCORED, "low",
                        "low"]
    assert tokens[-5:] == ["ay", "me", "!", LINE, PARAGRAPH]
    assert tags[-5:] == ["Cap", "low", UNSCORED, UNSCORED, UNSCORED]
    # every word is lower-cased for the input: the case is only in the tags
    assert all(t == t.lower() for t in tokens if t not in (LINE, PARAGRAPH))


def test_windows_are_whole_and_the_tail_is_dropped():
    data = windows(list("abcdefg"), list("1234567"), 3)
    assert data.sentences == [list("abc"), list("def")]
    assert data.tags == [list("123"), list("456")]


def test_scores_count_words_only_and_the_event_f1():
    truth = [[NO_MARK, ".", UNSCORED, ","]]
    made = [[NO_MARK, ",", NO_MARK, NO_MARK]]  # the untagged token's guess never counts
    got = scores(truth, made, NO_MARK)
    assert got["words"] == 3
    assert got["accuracy"] == pytest.approx(1 / 3)
    # events: truth marks 2 words, the model marks 1 of them (wrong mark, still an event)
    assert got["precision"] == 1.0 and got["recall"] == 0.5
    assert got["f1"] == pytest.approx(2 / 3)


# -- experiment 7: scoring by length -------------------------------------------------------
def test_token_accuracy_counts_missing_and_extra_tokens_as_errors():
    assert token_accuracy([1, 2, 3], [1, 2, 3]) == 1.0
    assert token_accuracy([1, 2], [1, 2, 3, 4]) == 0.5
    assert token_accuracy([1, 9, 3, 4], [1, 2, 3]) == 0.5  # 2 hits over the longer 4
    assert token_accuracy([], []) == 0.0


def test_length_buckets_end_at_the_longest_and_absorb_a_short_first_one():
    assert length_buckets(5, 40, 5) == [(5, 10), (11, 15), (16, 20), (21, 25), (26, 30),
                                        (31, 35), (36, 40)]
    assert length_buckets(3, 12, 5) == [(3, 7), (8, 12)]
    assert length_buckets(4, 12, 5) == [(4, 7), (8, 12)]


def test_bucket_means_average_inside_each_bucket_and_mark_empty_ones():
    got = bucket_means([5, 6, 12, 13], [1.0, 0.0, 0.5, 0.25], [(5, 10), (11, 15), (16, 20)])
    assert got[:2] == [0.5, 0.375]
    assert math.isnan(got[2])


def test_char_pairs_share_one_vocabulary_and_keep_sources_apart():
    data = char_pairs("reverse", 400, (5, 9), test_share=0.25)
    assert 80 <= len(data.test.src) <= 120
    train_sources = {tuple(s.tolist()) for s in data.train.src}
    assert not train_sources & {tuple(s.tolist()) for s in data.test.src}
    for (source, target), tgt in zip(data.test_pairs, data.test.tgt):
        assert target == source[::-1]
        assert "".join(data.vocab.decode(tgt.tolist())) == target  # </s> dropped


# -- experiment 10: errors by position -----------------------------------------------------
def test_position_errors_count_a_short_output_as_wrong_from_where_it_stops():
    refs = [[1, 2, 3], [4, 5], [6]]
    outputs = [[1, 9, 3, 7], [4], [6]]
    errors, counts = position_errors(outputs, refs, 4)
    assert counts.tolist() == [3, 2, 1, 0]
    assert errors.tolist() == [0, 2, 0, 0]  # the extra token after position 3 is not counted
    rates = error_rates(errors, counts)
    assert rates[:3] == [0.0, 1.0, 0.0]
    assert math.isnan(rates[3])


def test_position_errors_are_zero_for_perfect_outputs():
    refs = [[1, 2, 3, 4], [5, 6]]
    errors, counts = position_errors(refs, refs, 4)
    assert not errors.any() and counts.tolist() == [2, 2, 1, 1]


# -- one quick run end to end --------------------------------------------------------------
def test_encoder_decoder_quick_run_writes_scores_by_length(tmp_path):
    record = experiments.run("encoder-decoder", tmp_path, quick=True)
    folder = tmp_path / "encoder-decoder"
    assert json.loads((folder / "metrics.json").read_text())["experiment"] == "encoder-decoder"
    assert (folder / "score_by_length.png").is_file() and (folder / "output_length.png").is_file()
    metrics = record["metrics"]
    assert set(metrics["models"]) == {"general", "none"}
    for model in metrics["models"].values():
        for values in (model["exact"], model["token_accuracy"]):
            assert len(values) == len(metrics["buckets"])
            assert all(0.0 <= v <= 1.0 for v in values)
        assert np.isfinite(model["output_length"]["mean"]).all()
    assert metrics["parameters"]["general"] > metrics["parameters"]["none"]
    assert record["verdict"]["held"] in (True, False, None)
