"""Writing text one token at a time: tokens per second of three ways to step a character LSTM,
side by side in one run, on one thread (issue 15, goal 2).

- ``naive``: what a user writes with torch.nn: one ``nn.LSTM`` call per token on the same
  weights, then the linear decoder, softmax and ``torch.multinomial``;
- ``rnnkit step``: ``LanguageModel.step`` (the cells' own step, no layer machinery);
- ``rnnkit fast``: :mod:`rnnkit.decode.fast_step` (weights laid out once, the first layer's input
  projection a table lookup, buffers and views reused) with :class:`rnnkit.decode.Sampler`
  (Gumbel-max, noise drawn in blocks: no allocation per token), what ``rnnkit lm generate``
  uses;
- ``rnnkit fast bf16``: the same with its matrix products in bfloat16 on oneDNN's packed
  kernels (``rnnkit lm generate --precision bf16``): half the bytes read per token, not exact;
- ``rnnkit generate (text)``: the whole API call, ``rnnkit.tasks.lm.generate`` on a loaded
  model, decoding every token to text as the command line streams it;
- ``control``: the naive loop raced a second time: its ratio to the first is the noise.

Each contender samples at temperature 1 for ``--tokens`` tokens; rounds are interleaved and the
table gives the median and the range over ``--rounds`` rounds, and the ratio of medians to the
naive loop. Batched generation (32 rows at once) is measured too, in tokens/s over all rows.

    python bench/generation.py [--tokens 600] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch
from torch import nn

from rnnkit.data.vocab import Vocabulary
from rnnkit.decode import Sampler
from rnnkit.decode.fast_step import stepper_for
from rnnkit.tasks.lm.generate import LoadedLM, generate, generate_samples
from rnnkit.tasks.lm.model import LanguageModel, LMConfig

VOCAB = 65  # Tiny Shakespeare's characters


def build(layers: int, hidden: int) -> tuple[LanguageModel, nn.LSTM]:
    torch.manual_seed(0)
    model = LanguageModel(LMConfig(hidden=hidden, layers=layers, vocab_size=VOCAB)).eval()
    native = nn.LSTM(model.config.embedding_size, hidden, layers, batch_first=True).eval()
    with torch.no_grad():
        for k, layer in enumerate(model.rnn.layers):
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(native, f"{name}_l{k}").copy_(getattr(layer.cell, name))
    return model, native


@torch.no_grad()
def naive(model: LanguageModel, native: nn.LSTM, batch: int, tokens: int, gen) -> None:
    token = torch.zeros(batch, 1, dtype=torch.long)
    state = None
    for _ in range(tokens):
        out, state = native(model.embedding(token), state)
        probs = model.decoder(out[:, -1]).softmax(-1)
        token = torch.multinomial(probs, 1, generator=gen)


@torch.no_grad()
def reference(model: LanguageModel, batch: int, tokens: int, gen) -> None:
    token = torch.zeros(batch, dtype=torch.long)
    state = None
    for _ in range(tokens):
        logits, state = model.step(token, state)
        token = torch.multinomial(logits.softmax(-1), 1, generator=gen).squeeze(1)


def fast(stepper, batch: int, tokens: int, gen) -> None:
    stepper = stepper.fresh(batch)
    sampler = Sampler(1.0, generator=gen)
    token = torch.zeros(batch, dtype=torch.long)
    for _ in range(tokens):
        token = sampler(stepper.step(token))


def text(lm: LoadedLM, batch: int, tokens: int, seed: int) -> None:
    if batch == 1:
        for _ in generate(lm, "", tokens, temperature=1.0, seed=seed):
            pass
    else:
        generate_samples(lm, "", tokens, batch, temperature=1.0, seed=seed)


def race(layers: int, hidden: int, batch: int, tokens: int, rounds: int) -> dict[str, list]:
    model, native = build(layers, hidden)
    stepper = stepper_for(model)
    half = stepper_for(model, precision="bf16")
    vocab = Vocabulary.build("".join(chr(33 + k) for k in range(VOCAB)), level="char")
    lm = LoadedLM(model, vocab, model.config, directory=None)
    contenders = {
        "naive (torch.nn.LSTM per token)": lambda g: naive(model, native, batch, tokens, g),
        "rnnkit step": lambda g: reference(model, batch, tokens, g),
        "rnnkit fast": lambda g: fast(stepper, batch, tokens, g),
        "rnnkit generate (text)": lambda g: text(lm, batch, tokens, 0),
        "rnnkit fast bf16": lambda g: fast(half, batch, tokens, g),
        "control": lambda g: naive(model, native, batch, tokens, g),
    }
    rates: dict[str, list] = {name: [] for name in contenders}
    for run in contenders.values():  # warm up every path once
        run(torch.Generator().manual_seed(0))
    for _ in range(rounds):
        for name, run in contenders.items():
            started = time.perf_counter()
            run(torch.Generator().manual_seed(0))
            rates[name].append(batch * tokens / (time.perf_counter() - started))
    return rates


def rows(quick: bool = False, tokens: int | None = None, rounds: int | None = None):
    """One row per contender, model and batch, as a dict, yielded as each race ends."""
    tokens = tokens or (300 if quick else 600)
    rounds = rounds or (3 if quick else 5)
    for layers, hidden in ((1, 256), (2, 512)):
        for batch in (1, 32):
            steps = tokens if batch == 1 else max(20, tokens // 8)
            rates = race(layers, hidden, batch, steps, rounds)
            base = statistics.median(next(iter(rates.values())))
            for name, values in rates.items():
                med = statistics.median(values)
                yield {"group": f"generate {layers}x{hidden} batch {batch}", "contender": name,
                       "baseline": "naive", "rate": med, "unit": "tokens/s",
                       "ratio": med / base, "low": min(values), "high": max(values),
                       "noise": (max(values) - min(values)) / med, "n": len(values)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tokens", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"generation, tokens/s (median [min-max] of {args.rounds} rounds, {args.tokens} steps "
          f"each); torch {torch.__version__}, {args.threads} thread(s), load average {load}")
    print(f"{'model / batch':<26} {'contender':<32} {'tokens/s':>26}  {'x naive':>7}")
    for row in rows(tokens=args.tokens, rounds=args.rounds):
        spread = f"{row['rate']:,.0f} [{row['low']:,.0f}-{row['high']:,.0f}]"
        print(f"{row['group'][9:]:<26} {row['contender']:<32} {spread:>26}  "
              f"{row['ratio']:>6.2f}x", flush=True)


if __name__ == "__main__":
    main()
