"""1. Context beats counting: n-grams of growing order, then an LSTM, on the same characters."""

from __future__ import annotations

import math

from rnnkit.baselines.ngram import KneserNey
from rnnkit.experiments.base import Context, Experiment, Figure, Result, Table, Verdict
from rnnkit.experiments.common import (
    bits,
    char_corpus,
    char_model,
    greedy_text,
    held_out_loss,
    new_figure,
    save,
    train_lm,
)

PROMPT = "ROMEO:\n"
TIE = 0.05  # bits per character: closer than this, the LSTM and the n-gram tie
TRAIN_CHARS = 1_000_000  # a million characters, read about four times by the LSTM
LR = 1e-2  # Adam's rate, decayed by cosine to a tenth: rnnkit lm's tuned default


def run(context: Context) -> Result:
    steps = context.size(60, 2000)
    batch, bptt = 32, 64
    hidden = context.size(64, 256)
    orders = context.size([1, 2, 3, 5], [1, 2, 3, 4, 5, 6, 8, 10])
    # the same characters for every model; the LSTM reads them several times over (as any
    # network is trained), the n-grams count them once (counting more than once changes nothing)
    corpus = char_corpus(train_chars=context.size(steps * batch * bptt + 1, TRAIN_CHARS),
                         eval_chars=context.size(20_000, 200_000))
    train, test = corpus.train, corpus.test
    V = len(corpus.vocab)
    prompt_ids = corpus.vocab.encode(PROMPT).tolist()
    rows, curve = [], []
    for order in context.steps(orders, "n-gram orders"):
        model = KneserNey(order).fit(train.numpy(), V)
        nats = float(model.evaluate(test.numpy()))
        text = corpus.vocab.decode(model.greedy(prompt_ids, 60))
        rows.append([f"{order}-gram (Kneser-Ney)", bits(nats), math.exp(nats), _show(text)])
        curve.append((order, bits(nats)))

    lstm = char_model(corpus, "lstm", hidden=hidden, embedding=32, seed=0)
    run_ = train_lm(lstm, train, steps, context, name="LSTM", batch=batch, bptt=bptt, lr=LR,
                    cosine=True)
    rnn_nats = held_out_loss(lstm, test)
    rnn_text = greedy_text(lstm, corpus, PROMPT, 60)
    rows.append([f"LSTM {hidden}", bits(rnn_nats), math.exp(rnn_nats), _show(rnn_text)])

    ngram_bits = [b for _, b in curve]
    best_order, best_bits = min(curve, key=lambda c: c[1])
    falls = [a > b for a, b in zip(ngram_bits, ngram_bits[1:])]
    first_rise = next((orders[i + 1] for i, f in enumerate(falls) if not f), None)
    rnn_bits = bits(rnn_nats)
    passes = steps * batch * bptt / train.numel()
    unigram_text = rows[0][3]
    degenerate = _repetitive(corpus.vocab.decode(
        KneserNey(1).fit(train.numpy(), V).greedy(prompt_ids, 60)))

    fig, ax = new_figure(7, 4.2)
    ax = ax[0][0]
    ax.plot([o for o, _ in curve], ngram_bits, marker="o", label="Kneser-Ney n-gram")
    ax.axhline(rnn_bits, color="C3", linestyle="--", label=f"LSTM {hidden} ({steps} steps)")
    ax.set_xlabel("n-gram order (characters of context + 1)")
    ax.set_ylabel("test bits per character")
    ax.set_title(f"Shakespeare, the same {train.numel():,} training characters for every model")
    ax.grid(alpha=0.3)
    ax.legend()
    save(fig, context.figure("perplexity_by_order"))

    gap = best_bits - rnn_bits
    counting_falls = bool(falls[0] and (first_rise is None or first_rise > 3))
    if not counting_falls or gap < -TIE:
        held = False
    else:
        held = True if gap > TIE else None
    standing = ("better" if gap > TIE else "worse" if gap < -TIE else
                f"a tie: within {TIE} bits, about twice the spread between seeds of such runs")
    monotone = ("fell with every longer order" if first_rise is None else
                f"fell up to order {best_order} and rose from order {first_rise} (counts of "
                "long contexts grow too sparse)")
    text = (f"Bits per character {monotone}: {ngram_bits[0]:.2f} (unigram) to "
            f"{best_bits:.2f} ({best_order}-gram); the LSTM reached {rnn_bits:.2f}, "
            f"{gap:+.2f} bits below the best n-gram ({standing}). The unigram's greedy text is "
            f"{'degenerate' if degenerate else 'not repetitive'}: \"{unigram_text[:24]}\". "
            "One seed.")
    return Result(
        setup=(f"Character models of Shakespeare (rnnkit data shakespeare). Every model is "
               f"fitted to the same first {train.numel():,} characters of the training part "
               f"and scored on the first {test.numel():,} characters of the test part. "
               f"N-grams: interpolated modified Kneser-Ney, orders {orders}. RNN: one-layer "
               f"LSTM, hidden {hidden}, {steps} steps of truncated BPTT ({batch} streams x "
               f"{bptt} characters: {passes:.1f} passes over the same characters), Adam "
               f"{LR:g} decayed by cosine to a tenth, clipped at norm 1. Greedy continuation "
               f"of {PROMPT!r}, 60 characters, after reading 2,000 validation characters."),
        verdict=Verdict(held, text),
        seeds=[0],
        tables=[Table("Test bits per character and greedy continuation",
                      ["model", "bits/char", "perplexity/char", "greedy text"], rows,
                      digits=3)],
        figures=[Figure(context.figure("perplexity_by_order"),
                        "Test bits per character against n-gram order, with the LSTM trained "
                        "on the same characters (dashed).")],
        metrics={"train_chars": train.numel(), "test_chars": test.numel(),
                 "ngram_bits": dict(zip(map(str, orders), ngram_bits)),
                 "rnn_bits": rnn_bits, "rnn_steps": steps, "rnn_seconds": run_.seconds,
                 "best_order": best_order, "first_rise": first_rise,
                 "unigram_degenerate": degenerate},
    )


def _show(text: str) -> str:
    """A continuation on one line: newlines as ⏎."""
    return text.replace("\n", "⏎")


def _repetitive(text: str) -> bool:
    """True when a few characters' pattern repeats throughout (``"the the the"``, spaces)."""
    for period in range(1, 9):
        tail = text[-4 * period:]
        if len(tail) == 4 * period and tail == tail[:period] * 4:
            return True
    return False


EXPERIMENT = Experiment(
    name="context",
    number=1,
    title="Context beats counting",
    claim=("A unigram model's text degenerates; every longer n-gram context lowers the "
           "perplexity; a recurrent network lowers it further from the same data."),
    run=run,
    minutes=2.1,
    quick_seconds=10,
    data="shakespeare",
)
