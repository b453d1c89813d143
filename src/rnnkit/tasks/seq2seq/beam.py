"""Batched beam search over :class:`~rnnkit.tasks.seq2seq.model.Seq2Seq`.

Every source keeps ``beam`` hypotheses; each step scores all ``beam x V`` one-token
extensions of the live ones by their summed log-probability and keeps the best ``beam``. A
hypothesis ends at ``eos`` (or at ``max_length``); among the ended ones the best by
``score / penalty(length)`` wins, with GNMT's penalty ``((5 + length) / 6) ** alpha`` (``alpha
= 0``: raw log-probability; 1: per-token average, roughly). ``block_ngrams = n`` forbids a
hypothesis to repeat any n-gram of itself. ``beam = 1`` is greedy decoding (tested).
"""

from __future__ import annotations

import torch
from torch import Tensor

from rnnkit.tasks.seq2seq.model import Seq2Seq, State


def _select(state: State, rows: Tensor) -> State:
    """The decoder state of the hypotheses ``rows`` (indices into the flat batch)."""
    stack = [tuple(s[rows] for s in layer) for layer in state.stack]
    keys = None
    if state.keys is not None:
        keys = type(state.keys)(*(t[rows] for t in state.keys))
    return State(stack, state.feed[rows], keys)


def penalty(length: Tensor, alpha: float) -> Tensor:
    return ((5.0 + length) / 6.0) ** alpha if alpha else torch.ones_like(length)


def _blocked(history: list[list[int]], n: int, vocab: int) -> list[list[int]]:
    """For each hypothesis, the tokens that would repeat one of its n-grams."""
    banned = []
    for tokens in history:
        if len(tokens) < n - 1 or n <= 0:
            banned.append([])
            continue
        prefix = tuple(tokens[len(tokens) - n + 1:]) if n > 1 else ()
        seen = [tokens[i + n - 1] for i in range(len(tokens) - n + 1)
                if tuple(tokens[i:i + n - 1]) == prefix]
        banned.append(seen)
    return banned


@torch.no_grad()
def beam_search(model: Seq2Seq, src: Tensor, lengths: Tensor, bos: int, eos: int, beam: int,
                max_length: int, alpha: float = 0.0, block_ngrams: int = 0
                ) -> tuple[list[list[int]], list[float]]:
    """Per source row the best hypothesis (tokens without ``eos``) and its log-probability."""
    if beam < 1 or max_length < 1:
        raise ValueError(f"beam and max_length must be at least 1, got {beam} and {max_length}")
    B = src.size(0)
    state = model.encode(src, lengths)
    state = _select(state, torch.arange(B, device=src.device).repeat_interleave(beam))
    scores = torch.full((B, beam), float("-inf"), dtype=state.feed.dtype, device=src.device)
    scores[:, 0] = 0.0  # one live hypothesis per source to begin with
    tokens = torch.full((B * beam,), bos, dtype=torch.long, device=src.device)
    history: list[list[int]] = [[] for _ in range(B * beam)]
    ended: list[list[tuple[float, list[int], float]]] = [[] for _ in range(B)]
    for step in range(max_length):
        logits, state, _ = model.step(tokens, state)
        logp = torch.log_softmax(logits.to(scores.dtype), -1)  # (B * beam, V)
        V = logp.size(-1)
        if block_ngrams:
            for row, banned in enumerate(_blocked(history, block_ngrams, V)):
                if banned:
                    logp[row, banned] = float("-inf")
        total = (scores.reshape(-1, 1) + logp).reshape(B, beam * V)
        best, index = total.topk(beam, dim=-1)  # (B, beam)
        origin, token = index // V, index % V
        rows = (torch.arange(B, device=src.device)[:, None] * beam + origin).reshape(-1)
        state = _select(state, rows)
        history = [history[r] + [t] for r, t in zip(rows.tolist(), token.reshape(-1).tolist())]
        scores = best.clone()
        last = step == max_length - 1
        ending = torch.isfinite(best) & ((token == eos) | last)
        for b, k in torch.nonzero(ending).tolist():  # only the hypotheses that end here
            flat = b * beam + k
            words = history[flat][:-1] if token[b, k] == eos else history[flat]
            length = torch.tensor(float(len(history[flat])))
            normalised = float(best[b, k] / penalty(length, alpha))
            ended[b].append((normalised, words, float(best[b, k])))
            scores[b, k] = float("-inf")  # ended: no longer extended
        # stop when no live hypothesis can beat the best ended one: log-probabilities only
        # fall, and no length penalty exceeds that of max_length (so a live score divided by
        # it bounds what the hypothesis can still reach)
        most = float(penalty(torch.tensor(float(max_length)), alpha))
        if all(ended[b] and max(e[0] for e in ended[b]) >= float(scores[b].max()) / most
               for b in range(B)):
            break
        if not torch.isfinite(scores).any():
            break
        tokens = token.reshape(-1)
    results, logprobs = [], []
    for b in range(B):
        score, words, logprob = max(ended[b], key=lambda e: e[0])
        results.append(words)
        logprobs.append(logprob)
    return results, logprobs
