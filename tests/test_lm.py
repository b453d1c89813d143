"""The language-model task: truncated BPTT is exact, training on real text beats the unigram
baseline, an interrupted run resumes to identical weights, and generation is what the model says.
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import pytest
import torch
from torch.nn import functional as F

from rnnkit.data.streams import batchify
from rnnkit.data.vocab import Vocabulary
from rnnkit.errors import CheckpointError, DataError
from rnnkit.tasks import lm as api
from rnnkit.tasks.lm.model import LanguageModel, LMConfig
from rnnkit.tasks.lm.task import LMTask, stream_loss
from rnnkit.train import TrainConfig
from rnnkit.train import checkpoint as ckpt

ALICE = Path(__file__).parent / "fixtures" / "alice_head.txt"


def small_model(cell: str = "lstm", vocab: int = 11, dropout: float = 0.0) -> LanguageModel:
    """Two layers, float64, eval mode: exact comparisons."""
    torch.manual_seed(0)
    config = LMConfig(cell=cell, layers=2, hidden=12, embedding=8, dropout=dropout)
    config.vocab_size = vocab
    return LanguageModel(config).double().eval()


def as_double(lm: api.LoadedLM) -> api.LoadedLM:
    return api.LoadedLM(copy.deepcopy(lm.model).double(), lm.vocab, lm.config, lm.directory)


# -- truncated BPTT with carried state is one pass over the stream ----------------------------
@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_segments_with_carried_state_equal_one_pass(cell: str) -> None:
    model = small_model(cell, dropout=0.3)  # dropout is off in eval mode
    ids = torch.randint(0, 11, (3, 40), generator=torch.Generator().manual_seed(1))
    whole, final = model(ids)
    pieces, state = [], None
    for start, stop in [(0, 7), (7, 20), (20, 40)]:
        logits, state = model(ids[:, start:stop], state)
        pieces.append(logits)
    torch.testing.assert_close(torch.cat(pieces, 1), whole, rtol=0, atol=1e-12)
    for a, b in zip(state, final):
        torch.testing.assert_close(torch.stack(a), torch.stack(b), rtol=0, atol=1e-12)


def test_lm_task_batches_continue_each_other() -> None:
    ids = torch.arange(203)  # every token is its position: continuity is visible
    task = LMTask(small_model(vocab=203), ids, ids[:20], batch=4, bptt=8)
    batches = list(task.batches(0, 0))
    assert len(batches) == 6 and all(b.shape == (4, 9) for b in batches)  # 4 streams of 50
    for before, after in zip(batches, batches[1:]):
        assert torch.equal(after[:, 0], before[:, -1])  # last target = next first input
    inputs = torch.cat([b[:, :-1] for b in batches], 1)
    assert torch.equal(inputs, ids[:200].reshape(4, 50)[:, :48])  # stream b is ids[50b:50b+50]
    assert all(torch.equal(a, b) for a, b in zip(task.batches(0, 3), batches[3:]))


def test_train_loss_with_carried_state_equals_the_loss_of_one_pass() -> None:
    model = small_model()
    ids = torch.randint(0, 11, (203,), generator=torch.Generator().manual_seed(2))
    task = LMTask(model, ids, ids[:20], batch=4, bptt=8)
    carry, losses = task.initial_carry(), []
    assert all(not s.any() for layer in carry for s in layer)  # zeros at the epoch's start
    for batch in task.batches(0, 0):
        loss, carry, tokens = task.train_loss(batch, carry)
        assert tokens == 32 and not any(s.requires_grad for layer in carry for s in layer)
        losses.append(loss.item())
    streams = batchify(ids, 4)
    logits, _ = model(streams[:, :48])
    one_pass = F.cross_entropy(logits.reshape(-1, 11), streams[:, 1:49].reshape(-1))
    assert sum(losses) / len(losses) == pytest.approx(one_pass.item(), abs=1e-12)


@pytest.mark.parametrize("streams", [1, 3])
def test_stream_loss_equals_one_pass(streams: int) -> None:
    model = small_model()
    ids = torch.randint(0, 11, (100,), generator=torch.Generator().manual_seed(3))
    rows = batchify(ids, streams)
    logits, _ = model(rows[:, :-1])
    one_pass = F.cross_entropy(logits.reshape(-1, 11), rows[:, 1:].reshape(-1))
    assert stream_loss(model, ids, streams=streams, bptt=7) == pytest.approx(one_pass.item())


# -- real text ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, dict, LMConfig]:
    """100 steps of a 64-unit LSTM on 18,000 characters of Alice (about 2 s)."""
    out = tmp_path_factory.mktemp("alice")
    config = LMConfig(hidden=64, embedding=32, batch=8, bptt=32)
    train = TrainConfig(steps=100, lr=1e-2, warmup=5, eval_every=50, log_every=10)
    metrics = api.fit(str(ALICE), out, config, train, baseline=False)
    return out, metrics, config


def test_short_training_beats_the_unigram_baseline(trained) -> None:
    out, metrics, config = trained
    corpus = api.prepare(str(ALICE), config)
    unigram = api.ngram_baseline(corpus, "char", orders=(1,))["orders"][0]
    assert unigram["loss"] == pytest.approx(3.0, abs=0.1)  # about log(20): a few letters dominate
    assert metrics["status"] == "finished" and metrics["steps"] == 100
    assert metrics["valid"]["loss"] < unigram["loss"] - 0.15
    assert metrics["valid"]["bpc"] < unigram["bpc"]
    # the saved best weights give the same validation loss when loaded
    text = ALICE.read_text(encoding="utf-8")
    valid_text = text[int(len(text) * 0.9) : int(len(text) * 0.95)]
    loaded = api.evaluate(api.load(out), valid_text)
    assert loaded["loss"] == pytest.approx(metrics["valid"]["loss"], rel=1e-6)


def test_interrupted_and_resumed_run_equals_an_uninterrupted_one(tmp_path: Path) -> None:
    # dropout: the resumed run must restore the RNG; step 7 of 281 per epoch: the data position
    # and the carried state must be restored too
    def model() -> LMConfig:
        return LMConfig(layers=2, hidden=32, embedding=16, dropout=0.3, batch=4, bptt=16)

    def budget(steps: int = 12) -> TrainConfig:
        return TrainConfig(
            steps=steps, lr=1e-2, warmup=3, eval_every=5, log_every=1, checkpoint_every=100, seed=3
        )

    def stop_at_7(event: str, info: dict) -> bool:
        return event == "step" and info["step"] == 7

    data = str(ALICE)
    whole = api.fit(data, tmp_path / "whole", model(), budget(), baseline=False)
    cut = api.fit(data, tmp_path / "cut", model(), budget(), baseline=False, callback=stop_at_7)
    assert (whole["status"], whole["steps"], cut["status"], cut["steps"]) == (
        "finished", 12, "interrupted", 7
    )
    carry = ckpt.read_tensors(tmp_path / "cut" / "checkpoint" / "trainer.safetensors")
    assert carry["carry.0"].abs().sum() > 0  # a real state is carried into step 8
    shutil.copytree(tmp_path / "cut", tmp_path / "other-rng")

    resumed = api.fit(data, tmp_path / "cut", train_config=budget(), resume=True, baseline=False)
    assert (resumed["status"], resumed["steps"]) == ("finished", 12)
    files = ("model.safetensors", "checkpoint/model.safetensors", "checkpoint/trainer.safetensors")
    for name in files:
        a = ckpt.read_tensors(tmp_path / "whole" / name)
        b = ckpt.read_tensors(tmp_path / "cut" / name)
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), name

    # the comparison can fail: the same resume with another RNG state gives other weights
    state_file = tmp_path / "other-rng" / "checkpoint" / "trainer.safetensors"
    tensors = ckpt.read_tensors(state_file)
    tensors["rng.torch"] = torch.Generator().manual_seed(99).get_state()
    ckpt.write_tensors(state_file, tensors)
    api.fit(data, tmp_path / "other-rng", train_config=budget(), resume=True, baseline=False)
    a = ckpt.read_tensors(tmp_path / "whole" / "checkpoint" / "model.safetensors")
    b = ckpt.read_tensors(tmp_path / "other-rng" / "checkpoint" / "model.safetensors")
    assert not all(torch.equal(a[k], b[k]) for k in a)


# -- generation and prediction -----------------------------------------------------------------
def greedy_by_forward(model: LanguageModel, ids: torch.Tensor, length: int) -> list[int]:
    """Argmax of a fresh full forward pass over everything so far, ``length`` times."""
    ids, made = ids.clone(), []
    with torch.no_grad():
        for _ in range(length):
            logits, _ = model(ids.unsqueeze(0))
            made.append(int(logits[0, -1].argmax()))
            ids = torch.cat([ids, torch.tensor(made[-1:])])
    return made


def test_temperature_zero_is_greedy_argmax_of_forward(trained) -> None:
    lm = as_double(api.load(trained[0]))
    prompt = "Alice was "
    text = "".join(api.generate(lm, prompt, 40, temperature=0))
    expected = greedy_by_forward(lm.model, lm.vocab.encode(prompt), 40)
    assert text == lm.vocab.decode(expected)
    assert text == "".join(api.generate(lm, prompt, 40, temperature=0, seed=5))  # seed unused


def test_sampling_repeats_with_the_seed_and_top_k_1_is_greedy(trained) -> None:
    lm = api.load(trained[0])
    first = "".join(api.generate(lm, "The ", 60, temperature=1.0, seed=7))
    assert len(first) == 60
    assert first == "".join(api.generate(lm, "The ", 60, temperature=1.0, seed=7))
    assert first != "".join(api.generate(lm, "The ", 60, temperature=1.0, seed=8))
    greedy = "".join(api.generate(lm, "The ", 60, temperature=0))
    assert "".join(api.generate(lm, "The ", 60, temperature=1.0, top_k=1, seed=1)) == greedy


def test_predict_gives_sorted_softmax_of_forward(trained) -> None:
    lm = api.load(trained[0])
    rows = api.predict(lm, "the Rabbit", top=5)
    probs = [p for _, p in rows]
    assert probs == sorted(probs, reverse=True) and sum(probs) <= 1.0
    with torch.no_grad():
        logits, _ = lm.model(lm.vocab.encode("the Rabbit").unsqueeze(0))
    expected = logits[0, -1].softmax(-1)
    for token, p in rows:
        assert p == pytest.approx(expected[lm.vocab.index[token]].item(), rel=1e-6)
    assert probs[0] == pytest.approx(expected.max().item(), rel=1e-6)
    every = api.predict(lm, "the Rabbit", top=10_000)
    assert len(every) == len(lm.vocab) and sum(p for _, p in every) == pytest.approx(1.0)
    with pytest.raises(DataError, match="lacks"):
        api.predict(lm, "the \u2603")


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_step_equals_forward_one_token_at_a_time(cell: str) -> None:
    model = small_model(cell)
    ids = torch.randint(0, 11, (3, 9), generator=torch.Generator().manual_seed(4))
    whole, final = model(ids)
    state = model.initial_state(3)
    for t in range(9):
        logits, state = model.step(ids[:, t], state)
        torch.testing.assert_close(logits, whole[:, t], rtol=0, atol=1e-12)
    for a, b in zip(state, final):
        torch.testing.assert_close(torch.stack(a), torch.stack(b), rtol=0, atol=1e-12)


@pytest.mark.parametrize("forced, expected", [("the", " the the the the"), ("<eos>", "\n" * 4)])
def test_word_level_generation_continues_the_prompt_as_words(forced: str, expected: str) -> None:
    text = ALICE.read_text(encoding="utf-8")
    vocab = Vocabulary.build(text, level="word")
    config = LMConfig(level="word", hidden=8, embedding=8, vocab_size=len(vocab))
    model = LanguageModel(config).eval()
    with torch.no_grad():
        model.decoder.bias.fill_(-100.0)
        model.decoder.bias[vocab.index[forced]] = 100.0  # greedy says `forced` every time
    lm = api.LoadedLM(model, vocab, config, Path("."))
    made = "".join(api.generate(lm, "Alice was", 4, temperature=0))
    assert made == expected  # a space before a word, none before a line end
    tokens = vocab.tokenizer.split("Alice was" + made)
    assert tokens[:2] == ["Alice", "was"] and tokens[2:6] == [forced] * 4


def test_a_too_short_validation_split_fails_before_training(tmp_path: Path) -> None:
    short = tmp_path / "short.txt"
    short.write_text(ALICE.read_text(encoding="utf-8")[:70], encoding="utf-8")
    events: list[str] = []
    with pytest.raises(DataError, match="valid"):
        api.fit(
            str(short), tmp_path / "out", LMConfig(hidden=8, embedding=8, batch=2, bptt=8),
            TrainConfig(steps=3), baseline=False, callback=lambda event, info: events.append(event),
        )
    assert "step" not in events


@pytest.mark.parametrize("content", ['{"task": "lm"}', "[1, 2]"])
def test_a_config_of_the_wrong_shape_is_a_checkpoint_error(trained, tmp_path, content) -> None:
    broken = tmp_path / "model"
    shutil.copytree(trained[0], broken)
    (broken / "config.json").write_text(content)
    with pytest.raises(CheckpointError):
        api.load(broken)


def test_save_writes_a_directory_load_reads_back_identically(trained, tmp_path: Path) -> None:
    lm = api.load(trained[0])
    copy = api.load(api.save(lm, tmp_path / "copy"))
    assert copy.vocab == lm.vocab and copy.config == lm.config
    for name, tensor in lm.model.state_dict().items():
        assert torch.equal(tensor, copy.model.state_dict()[name]), name
    same = [api.predict(m, "Alice was ", 3) for m in (lm, copy)]
    assert same[0] == same[1]
