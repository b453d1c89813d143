"""Kneser-Ney n-gram baseline: exact probabilities on a hand-worked corpus, normalisation, and
the textbook behaviour on real text (context helps; a unigram model babbles "the the the")."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from rnnkit.baselines import (
    KneserNey,
    bits_per_char,
    fit_baselines,
    modified_kn_discounts,
    perplexity,
)
from rnnkit.errors import ConfigError, DataError

ALICE = Path(__file__).parent / "fixtures" / "alice_head.txt"
A, B, C, D = 0, 1, 2, 3
TINY = [A, B, A, C, A, B]  # "a b a c a b" over V = 4 symbols; "d" never occurs


def encode(tokens: list[str]) -> tuple[np.ndarray, list[str]]:
    vocab = sorted(set(tokens))
    index = {t: i for i, t in enumerate(vocab)}
    return np.array([index[t] for t in tokens]), vocab


@pytest.fixture(scope="module")
def alice_chars() -> tuple[np.ndarray, list[str]]:
    return encode(list(ALICE.read_text(encoding="ascii")))


@pytest.fixture(scope="module")
def alice_words() -> tuple[np.ndarray, list[str]]:
    return encode(re.findall(r"[a-z]+(?:'[a-z]+)*", ALICE.read_text(encoding="ascii").lower()))


def test_bigram_probabilities_match_hand_computation() -> None:
    # Continuation counts N1+(. w): a 2 (after b, c), b 1, c 1, d 0; 4 bigram types.
    # P1(w) = (N1+(. w) - 0.5)+ / 4 + (0.5 * 3 / 4) / 4  ->  a .46875, b .21875, c .21875, d .09375
    # after "a": c(ab) = 2, c(ac) = 1, gamma = 0.5 * 2 / 3
    model = KneserNey(2, discount=0.5).fit(TINY, 4)
    np.testing.assert_allclose(model.distribution([]), [0.46875, 0.21875, 0.21875, 0.09375])
    np.testing.assert_allclose(
        model.distribution([A]), [0.15625, 1.5 / 3 + 0.21875 / 3, 0.5 / 3 + 0.21875 / 3, 0.03125]
    )
    assert model.distribution([B])[A] == pytest.approx(0.5 + 0.5 * 0.46875)
    np.testing.assert_allclose(model.distribution([D]), model.distribution([]))  # unseen context
    assert math.exp(model.log_prob([A], B)) == pytest.approx(0.5729166666666666)


def test_trigram_interpolates_through_continuation_bigrams() -> None:
    # Middle order uses N1+(. x y): ab 1 (the first "ab" has no left neighbour), ba, ac, ca 1.
    # P2(b | a) = 0.5 / 2 + 0.5 * P1(b) = 0.359375;  P3(b | c a) = 0.5 / 1 + 0.5 * P2(b | a)
    model = KneserNey(3, discount=0.5).fit(TINY, 4)
    np.testing.assert_allclose(
        model.distribution([C, A]), [0.1171875, 0.6796875, 0.1796875, 0.0234375]
    )
    assert model.distribution([A, B])[A] == pytest.approx(0.5 + 0.5 * (0.5 + 0.5 * 0.46875))
    assert model.distribution([B, A])[C] == pytest.approx(0.6796875)
    # context longer than order - 1: only the last two tokens count
    np.testing.assert_allclose(model.distribution([D, D, C, A]), model.distribution([C, A]))


def test_unigram_model_uses_raw_counts_plus_uniform_share() -> None:
    # counts a 3, b 2, c 1 of 6; gamma = 0.5 * 3 / 6 spread over V = 4
    model = KneserNey(1, discount=0.5).fit(TINY, 4)
    np.testing.assert_allclose(
        model.distribution([B]), [2.5 / 6 + 1 / 16, 1.5 / 6 + 1 / 16, 0.5 / 6 + 1 / 16, 1 / 16]
    )


def test_three_discounts_apply_by_count() -> None:
    # D1 = .5, D2 = 1, D3+ = 1.5: c(ab) = 2 loses 1, c(ac) = 1 loses .5; gamma(a) = 1.5 / 3
    # P1: a (2 - 1) / 4 + .5 / 4 = .375, b, c (1 - .5) / 4 + .125 = .25, d .125
    model = KneserNey(2, discount=(0.5, 1.0, 1.5)).fit(TINY, 4)
    np.testing.assert_allclose(model.distribution([]), [0.375, 0.25, 0.25, 0.125])
    np.testing.assert_allclose(
        model.distribution([A]), [0.1875, 1 / 3 + 0.125, 0.5 / 3 + 0.125, 0.0625]
    )


def test_modified_discounts_follow_chen_goodman() -> None:
    # Y = 10 / (10 + 2 * 5) = .5; D1 = 1 - 2Y 5/10; D2 = 2 - 3Y 3/5; D3 = 3 - 4Y 2/3
    np.testing.assert_allclose(modified_kn_discounts([10, 5, 3, 2]), [0.5, 1.1, 3 - 4 / 3])
    assert modified_kn_discounts([4, 2, 0, 0]) == (0.5, 0.5, 0.5)  # falls back to Y
    assert modified_kn_discounts([0, 0, 7, 9]) == (0.5, 0.5, 0.5)
    # D2 = 2 - 3 (1/21) 20 < 0 is clipped to 0
    assert modified_kn_discounts([1, 10, 200, 1]) == pytest.approx((1 / 21, 0.0, 3 - 4 / 4200))


def reference_kn(ids: list[int], V: int, n: int) -> Callable[[list[int], int], float]:
    """Modified KN straight from the formulas with Counters of tuples: ``p(context, w)``."""
    raw = {
        k: Counter(tuple(ids[i : i + k]) for i in range(len(ids) - k + 1)) for k in range(1, n + 1)
    }
    use = {n: raw[n]}
    for k in range(1, n):
        use[k] = Counter(gram[1:] for gram in raw[k + 1])  # distinct left extensions
    discounts = {
        k: modified_kn_discounts([sum(1 for c in use[k].values() if c == r) for r in (1, 2, 3, 4)])
        for k in use
    }

    def p(k: int, h: tuple, w: int) -> float:
        if k == 0:
            return 1 / V
        d = (0.0, *discounts[k])
        seen = {g: c for g, c in use[k].items() if g[:-1] == h}
        total = sum(seen.values())
        if total == 0:
            return p(k - 1, h[1:], w)
        gamma = sum(d[min(c, 3)] for c in seen.values()) / total
        c = seen.get((*h, w), 0)
        return max(c - d[min(c, 3)], 0) / total + gamma * p(k - 1, h[1:], w)

    return lambda context, w: p(len(context) + 1, tuple(context), w)


def test_matches_a_counter_reference_on_random_text() -> None:
    rng = np.random.default_rng(0)
    ids = [int(t) for t in rng.choice(5, size=400, p=[0.4, 0.3, 0.15, 0.1, 0.05])]
    V = 6  # id 5 never occurs
    for order in (1, 2, 4):
        model = KneserNey(order).fit(ids, V)
        reference = reference_kn(ids, V, order)
        contexts = [ids[i : i + order - 1] for i in range(0, 60, 7)] + [[5] * (order - 1)]
        contexts += [ids[:j] for j in range(order - 1)]  # shorter contexts (stream start)
        for context in contexts:
            expected = [reference(context, w) for w in range(V)]
            np.testing.assert_allclose(model.distribution(context), expected, rtol=1e-12)


@pytest.mark.parametrize("order", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("discount", [None, 0.7])
def test_distributions_sum_to_one_for_every_context(order, discount, alice_chars) -> None:
    ids, vocab = alice_chars
    V = len(vocab) + 3  # three ids never seen in training
    model = KneserNey(order, discount).fit(ids[:5000], V)
    contexts = [
        [],
        list(ids[:1]),
        list(ids[100:104]),
        list(ids[6000:6010]),
        [V - 1] * 4,
        [V - 1, *ids[200:203]],
        [*ids[300:303], V - 2],
    ]
    for context in contexts:
        prob = model.distribution(context)
        assert prob.shape == (V,)
        assert abs(prob.sum() - 1.0) < 1e-9
        assert prob.min() > 0
    tiny = KneserNey(order, discount).fit(TINY, 4)
    for context in ([], [A], [D], [A, B, A, C], [D, D, D, D], [C, A, D, A]):
        assert abs(tiny.distribution(context).sum() - 1.0) < 1e-9


@pytest.mark.parametrize("order", [1, 3, 5])
def test_evaluate_equals_mean_of_distribution_losses(order, alice_chars) -> None:
    # Two code paths: vectorised lookups (evaluate) and per-context slices (distribution);
    # the first tokens of the stream are scored with the shorter contexts they have.
    ids, vocab = alice_chars
    model = KneserNey(order).fit(ids[:8000], len(vocab))
    stream = ids[8000:8300]
    by_slices = [
        -np.log(model.distribution(stream[max(i - order + 1, 0) : i])[stream[i]])
        for i in range(stream.size)
    ]
    assert model.evaluate(stream) == pytest.approx(np.mean(by_slices), rel=1e-12)


def test_context_helps_on_held_out_text(alice_chars, alice_words) -> None:
    ids, vocab = alice_chars
    cut = int(0.9 * ids.size)
    results = fit_baselines(ids[:cut], ids[cut:], len(vocab))
    bits = [r.bits_per_char() for r in results]
    assert [r.order for r in results] == [1, 2, 3, 4, 5]
    assert all(hi > lo for hi, lo in zip(bits, bits[1:]))  # every extra token of context helps
    assert bits[0] == pytest.approx(4.44, abs=0.05)  # measured on this fixture: 4.436
    assert bits[4] == pytest.approx(2.42, abs=0.05)  # 2.418
    words, wvocab = alice_words
    cut = int(0.9 * words.size)
    ppl = [r.perplexity for r in fit_baselines(words[:cut], words[cut:], len(wvocab), (1, 2, 3))]
    assert ppl[0] > 250 and ppl[1] < 0.7 * ppl[0] and ppl[2] < ppl[1]  # 308, 177, 175


def test_greedy_unigram_repeats_the_most_frequent_word(alice_words) -> None:
    words, vocab = alice_words
    unigram = KneserNey(1).fit(words, len(vocab))
    assert [vocab[i] for i in unigram.greedy([], 6)] == ["the"] * 6
    trigram = KneserNey(3).fit(words, len(vocab))
    said = trigram.greedy([vocab.index("alice")], 12)
    assert len(set(said)) >= 8  # context breaks the loop: "had no use in the world she was..."


def test_sampling_is_seeded_and_temperature_sharpens(alice_chars) -> None:
    ids, vocab = alice_chars
    model = KneserNey(4).fit(ids, len(vocab))
    first = model.sample(ids[:3], 50, np.random.default_rng(5))
    assert first == model.sample(ids[:3], 50, np.random.default_rng(5))
    assert len(first) == 50 and all(0 <= t < len(vocab) for t in first)
    cold = model.sample(ids[:3], 40, np.random.default_rng(1), temperature=1e-4)
    assert cold == model.greedy(ids[:3], 40)


def test_unseen_tokens_in_evaluation_have_finite_loss() -> None:
    for order in (1, 2, 5):
        model = KneserNey(order).fit(TINY * 3, 6)
        loss = model.evaluate([D, 4, 5, A, D, B])
        assert math.isfinite(loss) and loss > math.log(6)
        assert math.isfinite(model.log_prob([5, 4], 5))


def test_unit_conversions() -> None:
    assert bits_per_char(math.log(2)) == pytest.approx(1.0)
    assert bits_per_char(2 * math.log(2), chars_per_token=4) == pytest.approx(0.5)
    assert perplexity(math.log(50)) == pytest.approx(50)


def test_user_mistakes_raise_one_line_errors() -> None:
    with pytest.raises(ConfigError, match="order"):
        KneserNey(0)
    with pytest.raises(ConfigError, match="D1"):
        KneserNey(2, discount=0.0)
    with pytest.raises(ConfigError, match="three"):
        KneserNey(2, discount=(0.5, 0.5))
    with pytest.raises(ConfigError, match="not fitted"):
        KneserNey(2).distribution([])
    with pytest.raises(DataError, match="empty"):
        KneserNey(2).fit([], 4)
    with pytest.raises(DataError, match="outside the vocabulary of 4"):
        KneserNey(2).fit([0, 1, 4], 4)
    with pytest.raises(DataError, match="outside the vocabulary"):
        KneserNey(2).fit(TINY, 4).evaluate([0, -1])
