"""Interpolated Kneser-Ney n-gram language models: the baseline every RNN language model faces.

Modified interpolated Kneser-Ney (Chen & Goodman 1998, section 3). For an order-``n`` model and
a context ``h`` of ``k - 1`` tokens (``h'`` is ``h`` without its first token)::

    P_k(w | h) = max(c_k(h w) - D_k(c), 0) / T_k(h)  +  gamma_k(h) P_{k-1}(w | h')
    T_k(h)     = sum_w c_k(h w)
    gamma_k(h) = (D_k1 N1(h .) + D_k2 N2(h .) + D_k3 N3+(h .)) / T_k(h)
    P_0(w)     = 1 / V                      (uniform: no token ever has probability 0)

``c_n`` is the raw count of the n-gram; for every lower order ``c_k(x) = N1+(. x)`` is the
continuation count, the number of distinct tokens seen right before ``x``: a unigram that only
follows one word ("Francisco") is a poor guess in a new context however frequent it is. A
context never seen at order ``k`` (``T_k(h) = 0``) hands its whole mass to ``P_{k-1}``.
The discounts ``D_k1, D_k2, D_k3`` (for counts 1, 2 and 3+) are estimated per order from that
order's count-of-counts ``n_r``:  ``Y = n1 / (n1 + 2 n2)``, ``D_kr = r - (r + 1) Y n_{r+1} / n_r``
(clipped to ``[0, r]``); when some ``n_r`` is 0 every ``D`` falls back to ``Y`` (or 0.5).
``discount=D`` instead uses one absolute discount (original interpolated Kneser-Ney).

Training text is one stream of integer ids ``(N,)``: no sentence markers. The first ``k - 1``
tokens of an evaluated stream have shorter contexts and are scored by the lower orders.

Storage: the k-grams are integer-encoded hierarchically, ``key = index(prefix (k-1)-gram) * V +
last token``, kept sorted in one int64 array per order and looked up with ``searchsorted``; all
counting is ``np.unique`` / ``np.bincount`` over the whole stream, so fitting 4.5M tokens takes
seconds.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rnnkit.errors import ConfigError, DataError

__all__ = [
    "KneserNey",
    "NgramResult",
    "fit_baselines",
    "modified_kn_discounts",
    "bits_per_char",
    "perplexity",
]


def modified_kn_discounts(count_of_counts: Sequence[int]) -> tuple[float, float, float]:
    """``(D1, D2, D3+)`` from ``(n1, n2, n3, n4)``, the numbers of n-grams seen 1..4 times.

    Chen & Goodman's estimates: ``Y = n1 / (n1 + 2 n2)``, ``D_r = r - (r + 1) Y n_{r+1} / n_r``,
    each clipped to ``[0, r]`` so that no discounted count goes negative. Where a needed
    ``n_r`` is 0 (tiny corpora, or character unigrams that are all frequent) the three fall
    back to the single Ney discount ``Y``, or 0.5 when ``Y`` cannot be estimated either.
    """
    n1, n2, n3, n4 = (float(n) for n in count_of_counts)
    y = n1 / (n1 + 2 * n2) if n1 > 0 and n2 > 0 else 0.5
    if min(n1, n2, n3, n4) <= 0:
        return (y, y, y)
    d1 = 1 - 2 * y * n2 / n1
    d2 = 2 - 3 * y * n3 / n2
    d3 = 3 - 4 * y * n4 / n3
    return (min(max(d1, 0.0), 1.0), min(max(d2, 0.0), 2.0), min(max(d3, 0.0), 3.0))


def bits_per_char(nats_per_token: float, chars_per_token: float = 1.0) -> float:
    """Nats per token -> bits per character: ``nats / (chars_per_token * ln 2)``."""
    return nats_per_token / (chars_per_token * math.log(2))


def perplexity(nats_per_token: float) -> float:
    """Nats per token -> perplexity ``exp(nats)``."""
    return math.exp(nats_per_token)


def _discount_of(counts: np.ndarray, discounts: tuple[float, float, float]) -> np.ndarray:
    """``D(c)`` elementwise: ``D1`` for c = 1, ``D2`` for 2, ``D3`` for 3+, 0 for unseen."""
    table = np.array([0.0, *discounts])
    return table[np.minimum(counts, 3)]


class KneserNey:
    """An interpolated (modified) Kneser-Ney model of ``order`` n over ids ``0 .. V - 1``.

    ``discount=None`` estimates three discounts per order from count-of-counts (modified KN);
    a float ``D`` in ``(0, 1]`` or a triple ``(D1, D2, D3)`` fixes them for every order.
    Call :meth:`fit` before anything else; ``order=1`` is the unigram model interpolated with
    the uniform distribution.
    """

    def __init__(self, order: int, discount: float | Sequence[float] | None = None) -> None:
        if not isinstance(order, int) or order < 1:
            raise ConfigError(f"n-gram order must be an integer >= 1, got {order!r}")
        self.order = order
        self.fixed_discounts = _check_discount(discount)
        self.vocab_size = 0
        self.discounts: list[tuple[float, float, float]] = []  # per order 1..n
        self._keys: list[np.ndarray] = []  # per order: sorted k-gram keys (order 1: arange(V))
        self._disc: list[np.ndarray] = []  # per order: max(c - D(c), 0), then a sentinel 0
        self._inv_total: list[np.ndarray] = []  # per order k >= 2, by (k-1)-gram: 1 / T_k(h)
        self._backoff: list[np.ndarray] = []  # per order k >= 2, by (k-1)-gram: gamma_k(h)
        self._unigram = np.zeros(0)  # P_1(w), (V,)

    # ----------------------------------------------------------------------------- fitting
    def fit(self, ids: Sequence[int] | np.ndarray, vocab_size: int) -> KneserNey:
        """Count every k-gram (k <= order) of the stream ``ids`` ``(N,)`` and set the model."""
        ids = _as_ids(ids, vocab_size, "training")
        if ids.size == 0:
            raise DataError("n-gram training text is empty; give at least one token")
        V = self.vocab_size = int(vocab_size)
        n = self.order
        keys = [np.arange(V, dtype=np.int64)]
        counts = [np.bincount(ids, minlength=V)]  # raw counts, replaced by continuation below
        starts = ids  # index of the (k-1)-gram starting at each position
        for k in range(2, n + 1):
            m = ids.size - k + 1
            if m <= 0:  # stream shorter than k: no k-grams, so no left extensions either
                counts[k - 2] = np.zeros_like(counts[k - 2])
                keys.append(np.zeros(0, np.int64))
                counts.append(np.zeros(0, np.int64))
                continue
            uniq, first, inverse, raw = np.unique(
                starts[:m] * V + ids[k - 1 :],
                return_index=True,
                return_inverse=True,
                return_counts=True,
            )
            # Each distinct k-gram is one distinct left extension of its suffix (k-1)-gram.
            counts[k - 2] = np.bincount(starts[first + 1], minlength=keys[k - 2].size)
            keys.append(uniq)
            counts.append(raw)
            starts = inverse.reshape(-1)
        self._keys = keys
        self._set_probabilities(counts)
        return self

    def _set_probabilities(self, counts: list[np.ndarray]) -> None:
        """Discounts, discounted counts and per-context totals / backoff weights, per order."""
        V = self.vocab_size
        self.discounts, self._disc, self._inv_total, self._backoff = [], [], [], []
        for k, c in enumerate(counts, start=1):
            seen = c[c > 0]
            d = self.fixed_discounts or modified_kn_discounts(
                [np.count_nonzero(seen == r) for r in (1, 2, 3, 4)]
            )
            self.discounts.append(d)
            disc_c = _discount_of(c, d)
            self._disc.append(np.append(np.maximum(c - disc_c, 0.0), 0.0))
            if k == 1:
                total, gamma = float(c.sum()), float(disc_c.sum())
                inv = 1.0 / total if total > 0 else 0.0
                backoff = gamma * inv if total > 0 else 1.0
                self._unigram = self._disc[0][:V] * inv + backoff / V
                continue
            context = self._keys[k - 1] // V  # index of the (k-1)-gram prefix
            size = self._keys[k - 2].size
            total = np.bincount(context, weights=c, minlength=size)
            gamma = np.bincount(context, weights=disc_c, minlength=size)
            has = total > 0
            inv = np.divide(1.0, total, out=np.zeros(size), where=has)
            # Sentinel last entry (index -1 = unseen context): no own mass, all to lower order.
            self._inv_total.append(np.append(inv, 0.0))
            self._backoff.append(np.append(np.where(has, gamma * inv, 1.0), 1.0))

    # -------------------------------------------------------------------------- querying
    def _lookup(self, k: int, prefix: np.ndarray, tokens: np.ndarray) -> np.ndarray:
        """Index of the k-gram (prefix (k-1)-gram index, last token) in order k's table, or -1."""
        table = self._keys[k - 1]
        key = prefix * self.vocab_size + tokens
        pos = np.searchsorted(table, key)
        found = (prefix >= 0) & (pos < table.size)
        found[found] = table[pos[found]] == key[found]
        return np.where(found, pos, -1)

    def token_log_probs(self, ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """``log P(ids[i] | ids[:i])`` in nats for every position, ``(N,)``.

        Position ``i`` uses the last ``min(i, n - 1)`` tokens as context.
        """
        self._check_fitted()
        ids = _as_ids(ids, self.vocab_size, "evaluation")
        prob = self._unigram[ids]
        gram = ids  # index of the (k-1)-gram ending at each position
        for k in range(2, self.order + 1):
            context = np.full(ids.size, -1, np.int64)
            context[1:] = gram[:-1]
            gram = self._lookup(k, context, ids)
            i = k - 2  # order k's arrays are stored from order 2
            prob = self._disc[k - 1][gram] * self._inv_total[i][context] + (
                self._backoff[i][context] * prob
            )
        return np.log(prob)

    def evaluate(self, ids: Sequence[int] | np.ndarray) -> float:
        """Mean negative log-likelihood of the stream ``ids`` in nats per token."""
        log_probs = self.token_log_probs(ids)
        if log_probs.size == 0:
            raise DataError("n-gram evaluation text is empty; give at least one token")
        return float(-log_probs.mean())

    def log_prob(self, context: Sequence[int], token: int) -> float:
        """``log P(token | context)`` in nats; only the last ``order - 1`` context tokens count."""
        return float(self.token_log_probs([*self._tail(context), token])[-1])

    def distribution(self, context: Sequence[int]) -> np.ndarray:
        """``P(. | context)`` over the whole vocabulary, ``(V,)``, summing to 1."""
        self._check_fitted()
        context = _as_ids(context, self.vocab_size, "context")
        prob = self._unigram.copy()
        V = self.vocab_size
        for k in range(2, min(self.order, context.size + 1) + 1):
            h = context[context.size - k + 1 :]  # the last k-1 tokens
            index = h[:1]
            for j in range(2, k):
                index = self._lookup(j, index, h[j - 1 : j])
            if index[0] < 0 or self._inv_total[k - 2][index[0]] == 0:
                continue  # unseen context: P_k = P_{k-1}
            ctx = int(index[0])
            lo, hi = np.searchsorted(self._keys[k - 1], [ctx * V, (ctx + 1) * V])
            tokens = self._keys[k - 1][lo:hi] - ctx * V
            prob *= self._backoff[k - 2][ctx]
            prob[tokens] += self._disc[k - 1][lo:hi] * self._inv_total[k - 2][ctx]
        return prob

    def sample(
        self,
        context: Sequence[int],
        length: int,
        rng: np.random.Generator,
        temperature: float = 1.0,
    ) -> list[int]:
        """``length`` new ids continuing ``context``; ``temperature=0`` is greedy (argmax).

        With temperature ``t > 0`` each token is drawn from ``P^(1/t)`` renormalised.
        """
        if temperature < 0:
            raise ConfigError(f"temperature must be >= 0, got {temperature}")
        history = [int(t) for t in context]
        out: list[int] = []
        for _ in range(length):
            prob = self.distribution(self._tail(history))
            if temperature == 0:
                token = int(np.argmax(prob))
            else:
                logits = np.log(np.maximum(prob, 1e-300)) / temperature
                weights = np.exp(logits - logits.max())
                token = int(rng.choice(prob.size, p=weights / weights.sum()))
            history.append(token)
            out.append(token)
        return out

    def greedy(self, context: Sequence[int], length: int) -> list[int]:
        """``length`` new ids, each the most probable next token (a unigram model repeats one)."""
        return self.sample(context, length, np.random.default_rng(0), temperature=0.0)

    def _tail(self, context: Sequence[int]) -> list[int]:
        """The last ``order - 1`` tokens of ``context`` (all that an order-n model reads)."""
        return [int(t) for t in context][max(len(context) - self.order + 1, 0) :]

    def _check_fitted(self) -> None:
        if not self._keys:
            raise ConfigError("the n-gram model is not fitted; call fit(ids, vocab_size) first")


@dataclass(frozen=True)
class NgramResult:
    """One fitted order: validation loss in nats per token and the wall-clock seconds it took."""

    order: int
    nats_per_token: float
    train_seconds: float
    eval_seconds: float

    @property
    def perplexity(self) -> float:
        return perplexity(self.nats_per_token)

    def bits_per_char(self, chars_per_token: float = 1.0) -> float:
        return bits_per_char(self.nats_per_token, chars_per_token)


def fit_baselines(
    train_ids: Sequence[int] | np.ndarray,
    valid_ids: Sequence[int] | np.ndarray,
    vocab_size: int,
    orders: Sequence[int] = (1, 2, 3, 4, 5),
    discount: float | Sequence[float] | None = None,
) -> list[NgramResult]:
    """Fit one Kneser-Ney model per order on ``train_ids`` and score each on ``valid_ids``.

    Returns one :class:`NgramResult` per order, in the order given; the best is
    ``min(results, key=lambda r: r.nats_per_token)``.
    """
    train = _as_ids(train_ids, vocab_size, "training")
    valid = _as_ids(valid_ids, vocab_size, "validation")
    results = []
    for order in orders:
        start = time.perf_counter()
        model = KneserNey(order, discount).fit(train, vocab_size)
        fitted = time.perf_counter()
        nats = model.evaluate(valid)
        results.append(NgramResult(order, nats, fitted - start, time.perf_counter() - fitted))
    return results


def _check_discount(
    discount: float | Sequence[float] | None,
) -> tuple[float, float, float] | None:
    """A fixed ``(D1, D2, D3)`` from the user's discount, or None to estimate; validated."""
    if discount is None:
        return None
    triple = (discount,) * 3 if np.isscalar(discount) else tuple(discount)
    if len(triple) != 3:
        raise ConfigError(f"discount must be one number or three (D1, D2, D3), got {discount!r}")
    d = tuple(float(x) for x in triple)
    if not (0 < d[0] <= 1 and 0 <= d[1] <= 2 and 0 <= d[2] <= 3):
        raise ConfigError(
            f"discounts must satisfy 0 < D1 <= 1, 0 <= D2 <= 2, 0 <= D3 <= 3, got {d}"
        )
    return d  # type: ignore[return-value]


def _as_ids(ids: Sequence[int] | np.ndarray, vocab_size: int, what: str) -> np.ndarray:
    """``ids`` as a flat int64 array, each in ``[0, vocab_size)``."""
    array = np.asarray(ids, dtype=np.int64).reshape(-1)
    if array.size and (array.min() < 0 or array.max() >= vocab_size):
        bad = int(array.min() if array.min() < 0 else array.max())
        raise DataError(
            f"{what} token id {bad} is outside the vocabulary of {vocab_size}; "
            "encode all text with the same vocabulary"
        )
    return array
