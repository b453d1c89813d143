"""The seq2seq task end to end: teacher forcing and scheduled sampling, tokens saved with the
model, a short real run on addition beside the baselines, load / translate / evaluate /
resume, and sacrebleu's numbers."""

from __future__ import annotations

import csv
import json
import math

import pytest
import sacrebleu
import torch

import rnnkit
from rnnkit.tasks import seq2seq as api
from rnnkit.tasks.seq2seq.task import Encoded, Seq2SeqTask
from rnnkit.train.loop import TrainConfig

BOS = 2


def small(attention="bahdanau", **options) -> api.Seq2Seq:
    torch.manual_seed(0)
    settings = dict(layers=2, hidden=8, embedding=6, attention=attention, dropout=0.0,
                    src_vocab=12, tgt_vocab=11)
    return api.Seq2Seq(api.Seq2SeqConfig(**{**settings, **options})).double().eval()


def batch():
    g = torch.Generator().manual_seed(3)
    src = torch.randint(4, 12, (3, 7), generator=g)
    tgt_in = torch.randint(4, 11, (3, 5), generator=g)
    tgt_in[:, 0] = BOS
    return src, torch.tensor([7, 3, 5]), tgt_in


@pytest.mark.parametrize("attention", ["none", "dot", "bahdanau"])
def test_teacher_forcing_at_ratio_one_equals_the_one_pass_decoder(attention):
    model = small(attention, input_feeding=False)
    src, lengths, tgt_in = batch()
    one_pass = model(src, lengths, tgt_in)  # the decoder stack reads the target at once
    stepped = model(src, lengths, tgt_in, teacher=math.nextafter(1.0, 0.0))  # step by step
    assert torch.allclose(one_pass, stepped, atol=1e-12)


def test_teacher_ratio_zero_feeds_the_models_own_best_guesses():
    model = small("general")
    src, lengths, tgt_in = batch()
    logits = model(src, lengths, tgt_in, teacher=0.0)
    guesses = logits.argmax(-1)
    fed = torch.cat([tgt_in[:, :1], guesses[:, :-1]], 1)  # what greedy decoding would feed
    assert torch.allclose(model(src, lengths, fed), logits, atol=1e-12)


def test_scheduled_sampling_lowers_the_ratio_over_training_and_logs_it(tmp_path):
    config = api.Seq2SeqConfig(hidden=16, embedding=8, teacher=0.25,
                               teacher_schedule="linear", eval_pairs=0)
    metrics = api.fit("reverse", tmp_path / "m", config, TrainConfig(steps=40, eval_every=20,
                                                                     log_every=10),
                      read=api.ReadOptions(examples=600))
    with open(tmp_path / "m" / "metrics.csv") as handle:
        ratios = [float(r["teacher"]) for r in csv.DictReader(handle) if r.get("teacher")]
    assert ratios[0] > 0.95 and ratios[-1] < 0.5 and ratios == sorted(ratios, reverse=True)
    assert metrics["teacher"]["final"] == pytest.approx(0.25)


def test_a_decaying_schedule_needs_a_ratio_to_decay_to():
    with pytest.raises(rnnkit.errors.ConfigError, match="teacher below 1"):
        api.Seq2SeqConfig(teacher_schedule="inverse-sigmoid").check()


def test_word_and_subword_tokens_round_trip_and_unknowns_are_counted():
    word = api.Tokeniser("word")
    assert word.join(word.split("Y dijo: ¿Quién es? (nadie).")) == "Y dijo: ¿Quién es? (nadie)."
    texts = ["the king went up to the house of the lord"] * 20 + ["el rey subió a la casa"] * 20
    sub = api.Tokeniser.train("subword", texts, size=30)
    again = api.Tokeniser.from_model(sub.model_bytes)
    assert again.split("the king") == sub.split("the king")
    assert again.join(again.split("the house of the king")) == "the house of the king"
    vocab = api.Vocab.build([word.split("a b b c")])
    ids, unknown = vocab.encode(["b", "z", "a", "y"])
    assert unknown == 2 and vocab.decode(ids) == ["b", "<unk>", "a", "<unk>"]


def test_bleu_and_chrf_are_sacrebleus_own():
    outputs = ["the cat sat on the mat", "a dog barks", "hello there world"]
    references = ["the cat sat on a mat", "the dog barks", "hello world"]
    scores = api.text_scores(outputs, references)
    assert scores["bleu"] == round(sacrebleu.corpus_bleu(outputs, [references]).score, 2)
    assert scores["chrf"] == round(sacrebleu.corpus_chrf(outputs, [references]).score, 2)
    assert scores["exact"] == 0 and "tok:13a" in scores["signature"]["bleu"]


def test_batches_are_bucketed_by_source_length():
    pairs = api.synthetic("reverse", 400, lengths=(2, 12))
    tokens = api.Tokeniser("char")
    vocab = api.Vocab.build([list(s) for s, _ in pairs])
    encoded = Encoded.build(pairs, tokens, vocab, vocab, 64)
    config = api.Seq2SeqConfig(hidden=8, embedding=4, batch=16, src_vocab=len(vocab),
                               tgt_vocab=len(vocab))
    task = Seq2SeqTask(api.Seq2Seq(config), encoded, encoded, vocab, vocab)
    padding = [float((src == 0).float().mean()) for src, *_ in task.batches(0, 0)]
    assert sum(padding) / len(padding) < 0.1  # unsorted batches of 2..12 would pad ~40%


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("addition") / "model"
    config = api.Seq2SeqConfig(hidden=64, embedding=16, eval_pairs=64)
    metrics = api.fit("addition", out, config, TrainConfig(steps=300, eval_every=150, lr=1e-2),
                      read=api.ReadOptions(examples=4000, digits=2))
    return out, metrics


def test_a_short_real_run_on_addition_beats_copying_the_source(trained):
    _, metrics = trained
    test = metrics["rnnkit"]["test"]
    assert test["chrf"] > metrics["copy"]["test"]["chrf"] + 10
    assert test["token_accuracy"] > 0.6 and test["exact"] > 0.1
    assert metrics["sizes"] == {"train": 3200, "valid": 400, "test": 400}


def test_the_directory_loads_and_translates_as_fit_scored(trained):
    out, metrics = trained
    loaded = rnnkit.load(out)
    assert isinstance(loaded, api.LoadedSeq2Seq)
    example = metrics["rnnkit"]["test"]["examples"][0]
    assert loaded.predict([example["source"]]) == [example["output"]]
    beam_one = api.DecodeOptions(beam=1)
    wide = api.DecodeOptions(beam=4)
    sources = [e["source"] for e in metrics["rnnkit"]["test"]["examples"]]
    assert loaded.predict(sources, beam_one) == [e["output"] for e in
                                                 metrics["rnnkit"]["test"]["examples"]]
    assert len(loaded.predict(sources, wide)) == len(sources)
    shown = loaded.translate(["12+34"], attention=True)[0]
    assert shown.attention.shape == (len(shown.tokens) + 1, 5)
    assert torch.allclose(shown.attention.sum(-1), torch.ones(len(shown.tokens) + 1).double()
                          .to(shown.attention.dtype), atol=1e-5)
    unknown = loaded.translate(["12+x4"])[0]
    assert unknown.unknown == 1
    assert (out / "attention.png").stat().st_size > 1000 and (out / "curves.png").is_file()


def test_evaluate_scores_the_saved_split_again(trained):
    out, metrics = trained
    result = api.evaluate(api.load(out), "addition")
    assert result["part"] == "test" and result["pairs"] == 400
    assert result["rnnkit"]["exact"] == metrics["rnnkit"]["test"]["exact"]
    saved = json.loads((out / "metrics.json").read_text())
    assert "addition:test" in saved["evaluate"]


def test_resume_continues_the_run(tmp_path):
    out = tmp_path / "m"
    config = api.Seq2SeqConfig(hidden=16, embedding=8, level="subword", vocab_size=20,
                               eval_pairs=0)
    read = api.ReadOptions(examples=500)
    first = api.fit("sort", out, config, TrainConfig(steps=20, eval_every=10,
                                                      checkpoint_every=10), read=read)
    assert (out / "tokenizer.model").is_file() and first["steps"] == 20
    more = api.fit(None, out, train_config=TrainConfig(steps=30), resume=True)
    assert more["steps"] == 30 and more["vocabulary"] == first["vocabulary"]
