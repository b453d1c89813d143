"""Kneser-Ney n-gram baselines on a real text: validation loss and time per order, and samples.

    .venv/bin/python bench/ngram.py ../shared/data/tinyshakespeare.txt --level char
    .venv/bin/python bench/ngram.py alice29.txt --level word

The text is split by position (first 90% train, last 10% validation, as nanoGPT splits Tiny
Shakespeare). The vocabulary is every symbol of the whole text, so a validation token unseen in
training still has an id (it is scored by the uniform share of the unigram level). Word level:
lower-cased, words (with inner apostrophes) and single punctuation marks as tokens
(``--words-only`` drops the marks).
"""

from __future__ import annotations

import argparse
import math
import re
import time

import numpy as np

from rnnkit.baselines import KneserNey, fit_baselines

WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)*")
WORD_OR_MARK = re.compile(r"[a-z0-9]+(?:'[a-z]+)*|[^\sa-z0-9]")


def tokenize(text: str, level: str, words_only: bool = False) -> list[str]:
    if level == "char":
        return list(text)
    return (WORD if words_only else WORD_OR_MARK).findall(text.lower())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("path")
    parser.add_argument("--level", choices=("char", "word"), default="char")
    parser.add_argument("--split", type=float, default=0.9)
    parser.add_argument("--orders", default="1,2,3,4,5")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--words-only", action="store_true", help="word level: drop punctuation")
    args = parser.parse_args()

    with open(args.path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    tokens = tokenize(text, args.level, args.words_only)
    vocab = sorted(set(tokens))
    index = {t: i for i, t in enumerate(vocab)}
    ids = np.array([index[t] for t in tokens], dtype=np.int64)
    cut = int(args.split * ids.size)
    train, valid = ids[:cut], ids[cut:]
    unseen = np.mean(~np.isin(valid, np.unique(train)))
    print(
        f"{args.path}: {ids.size:,} {args.level} tokens, V={len(vocab):,}, "
        f"train {train.size:,} / valid {valid.size:,}, valid tokens unseen in train {unseen:.2%}"
    )
    orders = [int(o) for o in args.orders.split(",")]
    start = time.perf_counter()
    results = fit_baselines(train, valid, len(vocab), orders)
    total = time.perf_counter() - start
    unit = "bits/char" if args.level == "char" else "perplexity"
    print(f"order  nats/token  {unit:>10}  train s  eval s")
    for r in results:
        score = r.bits_per_char() if args.level == "char" else r.perplexity
        print(
            f"{r.order:5d}  {r.nats_per_token:10.4f}  {score:10.4f}  "
            f"{r.train_seconds:7.2f}  {r.eval_seconds:6.2f}"
        )
    best = min(results, key=lambda r: r.nats_per_token)
    print(f"best: order {best.order}; all orders fitted and evaluated in {total:.1f} s")
    if args.level == "word":
        chars_per_word = len(text[int(args.split * len(text)) :]) / max(valid.size, 1)
        print(f"(about {best.nats_per_token / math.log(2) / chars_per_word:.3f} bits/char)")

    joiner = "" if args.level == "char" else " "
    prompt = list(train[:4])
    rng = np.random.default_rng(args.seed)
    for order in sorted({1, *orders}):
        model = KneserNey(order).fit(train, len(vocab))
        greedy = joiner.join(vocab[i] for i in model.greedy(prompt, 30))
        sampled = joiner.join(vocab[i] for i in model.sample(prompt, 60, rng))
        print(f"\n{order}-gram greedy : {greedy!r}\n{order}-gram sampled: {sampled!r}")


if __name__ == "__main__":
    main()
