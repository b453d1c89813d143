"""The tagger: padding and bucketing never change a prediction, the loss ignores padded steps,
the metrics by hand, the majority baseline, and a short real training run on the first 20,000
characters of Alice (tests/fixtures/alice_head.txt) that beats the majority tag."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from rnnkit.data.batching import pad
from rnnkit.data.tagging import TagData
from rnnkit.errors import ConfigError
from rnnkit.tasks import tag as api
from rnnkit.tasks.tag import MajorityTagger, TagConfig, Tagger, default_train_config, tag_metrics
from rnnkit.tasks.tag.metrics import word_scores
from rnnkit.tasks.tag.model import masked_loss
from rnnkit.tasks.tag.task import Encoded, predict_ids

ALICE = Path(__file__).parent / "fixtures" / "alice_head.txt"


def tagger(cell: str, bidirectional: bool = True) -> Tagger:
    torch.manual_seed(0)
    config = TagConfig(task="conll", cell=cell, layers=2, hidden=8, embedding=6, dropout=0.3,
                       bidirectional=bidirectional, vocab_size=20, num_tags=5)
    return Tagger(config).eval()


@pytest.mark.parametrize("cell, bidirectional", [("lstm", True), ("gru", False),
                                                  ("ln-lstm", True)])
def test_a_sentence_alone_or_in_a_padded_batch_gets_the_same_probabilities(cell, bidirectional):
    model = tagger(cell, bidirectional)
    generator = torch.Generator().manual_seed(1)
    sentences = [torch.randint(1, 20, (n,), generator=generator) for n in (3, 11, 1, 6)]
    with torch.no_grad():
        alone = [model(s[None], torch.tensor([len(s)]))[0].softmax(-1) for s in sentences]
        ids, lengths = pad(sentences)
        batched = model(ids, lengths).softmax(-1)
        # what the padding holds does not matter either
        noisy = ids.masked_fill(torch.arange(ids.size(1)) >= lengths[:, None], 7)
        batched_noisy = model(noisy, lengths).softmax(-1)
    for k, s in enumerate(sentences):
        assert torch.allclose(batched[k, : len(s)], alone[k], atol=1e-6, rtol=0)
        assert torch.allclose(batched_noisy[k, : len(s)], alone[k], atol=1e-6, rtol=0)


def test_bucketing_never_changes_a_prediction():
    model = tagger("lstm")
    generator = torch.Generator().manual_seed(2)
    ids = [torch.randint(0, 20, (int(n),), generator=generator)
           for n in torch.randint(1, 40, (300,), generator=generator)]
    best, _ = predict_ids(model, Encoded(ids, None, np.array([len(s) for s in ids])))
    for k in (0, 17, 299):
        alone = model(ids[k][None], torch.tensor([len(ids[k])]))[0].argmax(-1).numpy()
        assert np.array_equal(best[k], alone)
    order = np.random.default_rng(0).permutation(300)
    shuffled, _ = predict_ids(model, Encoded([ids[i] for i in order], None,
                                             np.array([len(ids[i]) for i in order])))
    assert all(np.array_equal(shuffled[j], best[i]) for j, i in enumerate(order))


def test_masked_loss_ignores_padded_steps():
    torch.manual_seed(3)
    logits = torch.randn(3, 5, 4, requires_grad=True)
    tags = torch.randint(0, 4, (3, 5))
    lengths = torch.tensor([5, 2, 3])
    loss = masked_loss(logits, tags, lengths)
    real = [(b, t) for b in range(3) for t in range(int(lengths[b]))]
    by_hand = sum(F.cross_entropy(logits[b, t][None], tags[b, t][None]) for b, t in real)
    assert loss.item() == pytest.approx(by_hand.item() / len(real), abs=1e-6)
    padded = torch.arange(5) >= lengths[:, None]
    other_logits = logits.detach().masked_fill(padded[..., None], 1e3)
    other_tags = tags.masked_fill(padded, -100)
    assert masked_loss(other_logits, other_tags, lengths).item() == pytest.approx(loss.item())
    loss.backward()
    assert logits.grad[padded].abs().max() == 0
    assert logits.grad[~padded].abs().min() > 0


def test_word_scores_by_hand():
    # words [0,3) [3,5) against [0,2) [2,3) [3,5): one right of three made, of two true
    scores = word_scores([list("BIIBI")], [list("BIBBI")])
    assert scores["precision"] == pytest.approx(1 / 3)
    assert scores["recall"] == pytest.approx(1 / 2)
    assert scores["f1"] == pytest.approx(0.4)
    # a piece cut inside a word starts with I: its first step still opens a word
    assert word_scores([list("IIB")], [list("BIB")])["f1"] == 1.0


def test_punct_sub_task_scores_by_hand():
    truth = [["Cap", "low|,", "low", "low|."]]
    made = [["Cap", "low", "UP|,", "low|."]]
    metrics = tag_metrics("punct", truth, made, ["low", "Cap", "low|,", "low|.", "UP|,"])
    assert metrics["accuracy"] == 0.5
    # marks: true at 1 and 3, predicted at 2 and 3; capitals: true at 0, predicted at 0 and 2
    assert metrics["punctuation"]["f1"] == pytest.approx(0.5)
    assert metrics["capitalisation"]["precision"] == pytest.approx(0.5)
    assert metrics["capitalisation"]["recall"] == 1.0
    # macro-F1 over the tags present: low 0, Cap 1, low|, 0, low|. 1, UP|, 0
    assert metrics["macro_f1"] == pytest.approx(2 / 5)


def test_majority_tagger():
    data = TagData([["a", "b", "a"], ["a", "c", "b"]], [["X", "Y", "X"], ["Y", "Y", "X"]])
    baseline = MajorityTagger.fit(data, ["Y", "X"])
    # a: X twice, Y once; b: a tie, won by Y (more frequent overall); unseen: Y
    assert baseline.predict([["a", "b", "zzz"]]) == [["X", "Y", "Y"]]
    again = MajorityTagger.from_dict(json.loads(json.dumps(baseline.to_dict())))
    assert again.predict([["a", "b", "c"]]) == [["X", "Y", "Y"]]


def test_short_real_training_beats_the_majority_tag_on_segmentation(tmp_path):
    config = TagConfig(hidden=48, embedding=32, batch=16)
    train = default_train_config(steps=120, time=None, eval_every=40, lr=1e-2)
    metrics = api.fit(str(ALICE), tmp_path / "seg", config, train, task="segment")
    assert metrics["tagging"] == "segment" and metrics["tags"] == ["I", "B"]
    assert metrics["sizes"]["train"]["tokens"] == 12_275
    for part in ("valid", "test"):
        model, baseline = metrics["rnnkit"][part], metrics["baseline"][part]
        assert model["accuracy"] > baseline["accuracy"] + 0.05, part
        assert model["words"]["f1"] > baseline["words"]["f1"] + 0.2, part
    saved = json.loads((tmp_path / "seg" / "metrics.json").read_text())
    assert saved["rnnkit"]["test"]["accuracy"] == metrics["rnnkit"]["test"]["accuracy"]
    assert (tmp_path / "seg" / "metrics.csv").read_text().startswith("step,")

    loaded = api.load(tmp_path / "seg")
    text = "Alice was beginning to get very tired"
    result = api.predict_text(loaded, text)
    assert result.sequences[0]["tokens"] == list(text.replace(" ", ""))
    assert result.text.replace(" ", "") == text.replace(" ", "")
    assert api.predict(loaded, [list("Alicewas")])[0][0] == "B"
    assert loaded.predict([list("Alicewas")]) == api.predict(loaded, [list("Alicewas")])
    from rnnkit.tasks import load as load_any

    assert load_any(tmp_path / "seg").predict([list("tired")]) == loaded.predict([list("tired")])
    again = api.evaluate(loaded, TagData(*_test_part(metrics, loaded)))
    assert again["rnnkit"]["accuracy"] == pytest.approx(metrics["rnnkit"]["test"]["accuracy"])
    by_part = api.evaluate(loaded, str(ALICE), part="test")  # the model's own split, recut
    assert by_part["tokens"] == metrics["sizes"]["test"]["tokens"]
    assert by_part["rnnkit"]["accuracy"] == pytest.approx(metrics["rnnkit"]["test"]["accuracy"])
    kept = json.loads((tmp_path / "seg" / "metrics.json").read_text())
    assert kept["evaluate"][f"{ALICE} (test)"] == by_part and kept["steps"] == metrics["steps"]


def test_an_interrupted_and_resumed_run_equals_an_uninterrupted_one(tmp_path):
    from rnnkit.train import checkpoint as ckpt

    config = TagConfig(hidden=16, embedding=8, batch=8, dropout=0.3)  # dropout: RNG must resume
    budget = default_train_config(steps=30, time=None, eval_every=10, log_every=1, lr=1e-2,
                                  warmup=3)

    def stop_at_13(event: str, info: dict) -> bool:
        return event == "step" and info["step"] == 13

    def run(out, resume=False, callback=None):
        return api.fit(None if resume else str(ALICE), tmp_path / out, config, budget,
                       task="segment", max_sentences=60, resume=resume, callback=callback)

    whole = run("whole")
    cut = run("cut", callback=stop_at_13)
    assert (whole["status"], whole["steps"], cut["status"], cut["steps"]) == (
        "finished", 30, "interrupted", 13)
    resumed = run("cut", resume=True)
    assert (resumed["status"], resumed["steps"]) == ("finished", 30)
    for name in ("model.safetensors", "checkpoint/model.safetensors"):
        a = ckpt.read_tensors(tmp_path / "whole" / name)
        b = ckpt.read_tensors(tmp_path / "cut" / name)
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), name
    assert resumed["rnnkit"] == whole["rnnkit"]
    # the comparison can fail: another seed gives other weights
    api.fit(str(ALICE), tmp_path / "other", config, replace(budget, seed=1), task="segment",
            max_sentences=60)
    a = ckpt.read_tensors(tmp_path / "whole" / "checkpoint" / "model.safetensors")
    b = ckpt.read_tensors(tmp_path / "other" / "checkpoint" / "model.safetensors")
    assert not all(torch.equal(a[k], b[k]) for k in a)
    with pytest.raises(ConfigError, match="was trained on"):
        api.fit("alice", tmp_path / "cut", config, None, resume=True)


def _test_part(metrics: dict, loaded) -> tuple[list, list]:
    from rnnkit.data.tagging import build_segment, split_data

    _, _, test = split_data(build_segment(ALICE.read_text()))
    assert len(test) == metrics["sizes"]["test"]["sequences"]
    return test.sentences, test.tags
