"""5. GRU vs LSTM: the same steps on the same characters; speed, bits, parameters.

Three character language models of Shakespeare train for the same number of steps on the same
text, with the same seeds: an LSTM, a GRU of the same hidden size (a quarter fewer recurrent
parameters) and a GRU widened until it has as many parameters as the LSTM. Each reads its
training text once, so the loss of every step is on characters it has not seen yet: the
training curve is itself a held-out curve, drawn against the seconds spent.
"""

from __future__ import annotations

import time

import numpy as np

from rnnkit.experiments.base import (
    Context,
    Experiment,
    Figure,
    Result,
    Table,
    Verdict,
    clearly_apart,
    mean_pm,
    mean_spread,
)
from rnnkit.experiments.common import (
    bits,
    char_corpus,
    char_model,
    held_out_loss,
    new_figure,
    one_pass_chars,
    parameters,
    save,
    train_lm,
)
from rnnkit.tasks.lm.data import Corpus

BATCH, BPTT, LR, EMBEDDING = 32, 64, 3e-3, 32
SMOOTH = 25  # steps in the moving average of the training curve


def matching_hidden(corpus: Corpus, cell: str, target: int, start: int) -> int:
    """The hidden size from ``start`` up whose ``cell`` model's parameter count is closest to
    ``target``."""
    best, best_gap, size = start, None, start
    while True:
        count = parameters(char_model(corpus, cell, hidden=size, embedding=EMBEDDING))
        if best_gap is None or abs(count - target) < best_gap:
            best, best_gap = size, abs(count - target)
        if count >= target:
            return best
        size += 1


def smoothed_bits(losses: list[float], width: int) -> np.ndarray:
    """The moving average (trailing, ``width`` steps) of per-step losses, in bits."""
    nats = np.asarray(losses, dtype=float)
    cumulative = np.cumsum(np.insert(nats, 0, 0.0))
    counts = np.minimum(np.arange(1, len(nats) + 1), width)
    ends = np.arange(1, len(nats) + 1)
    return (cumulative[ends] - cumulative[ends - counts]) / counts / np.log(2)


def run(context: Context) -> Result:
    steps = context.size(40, 300)
    hidden = context.size(48, 128)
    seeds = context.seed_list()
    corpus = char_corpus(train_chars=one_pass_chars(steps, BATCH, BPTT),
                         eval_chars=context.size(10_000, 50_000))
    lstm_size = parameters(char_model(corpus, "lstm", hidden=hidden, embedding=EMBEDDING))
    wide = matching_hidden(corpus, "gru", lstm_size, hidden)
    models = {"LSTM": ("lstm", hidden), "GRU": ("gru", hidden),
              "GRU, LSTM's parameters": ("gru", wide)}
    found: dict[str, list[dict]] = {name: [] for name in models}
    for seed in seeds:
        for name, (cell, size) in models.items():
            model = char_model(corpus, cell, hidden=size, embedding=EMBEDDING, seed=seed)
            cpu = time.process_time()
            record = train_lm(model, corpus.train, steps, context, batch=BATCH, bptt=BPTT,
                              lr=LR, seed=seed, name=f"{name} {size}, seed {seed}")
            found[name].append({
                "bits": bits(held_out_loss(model, corpus.valid)),
                "seconds": record.seconds, "cpu_seconds": time.process_time() - cpu,
                "tokens_per_second": record.tokens_per_second,
                "parameters": parameters(model), "curve": smoothed_bits(record.losses, SMOOTH),
            })

    def of(name: str, key: str) -> list[float]:
        return [r[key] for r in found[name]]

    rows = [[name, size, found[name][0]["parameters"], mean_pm(of(name, "bits"), 3),
             mean_spread(of(name, "tokens_per_second"))[0], mean_spread(of(name, "seconds"))[0],
             mean_spread(of(name, "cpu_seconds"))[0]]
            for name, (_, size) in models.items()]

    fig, axes = new_figure(11, 4.2, cols=2)
    curve_ax, bar_ax = axes[0]
    curves, clocks = {}, {}
    for k, name in enumerate(models):
        curve = curves[name] = np.mean([r["curve"] for r in found[name]], axis=0)
        seconds = mean_spread(of(name, "cpu_seconds"))[0]
        clock = clocks[name] = np.arange(1, len(curve) + 1) * seconds / len(curve)
        curve_ax.plot(clock, curve, color=f"C{k}", label=f"{name} ({models[name][1]})")
        curve_ax.scatter([seconds], [mean_spread(of(name, "bits"))[0]], color=f"C{k}",
                         marker="*", s=90, zorder=3)
    curve_ax.set_xlabel("training CPU seconds, one thread (mean over seeds)")
    curve_ax.set_ylabel(f"bits per character (unseen text, {SMOOTH}-step average)")
    curve_ax.set_title("Loss on text not yet seen against time; ★ held-out")
    curve_ax.grid(alpha=0.3)
    curve_ax.legend(fontsize=8)
    names = list(models)
    means = [mean_spread(of(n, "bits")) for n in names]
    bar_ax.bar(range(len(names)), [m for m, _ in means], yerr=[s for _, s in means],
               color=[f"C{k}" for k in range(len(names))], capsize=4)
    bar_ax.set_xticks(range(len(names)),
                      [f"{n}\n{found[n][0]['parameters']:,} params" for n in names], fontsize=8)
    low = min(m - s for m, s in means)
    bar_ax.set_ylim(low - 0.15, max(m + s for m, s in means) + 0.1)
    bar_ax.set_ylabel("held-out bits per character (lower is better)")
    bar_ax.set_title(f"After {steps} steps, mean ± spread over {len(seeds)} seed(s)")
    bar_ax.grid(alpha=0.3, axis="y")
    save(fig, context.figure("gru_vs_lstm"))

    lstm, gru, gru_wide = (of(n, "bits") for n in names)
    speed = mean_spread(of("LSTM", "cpu_seconds"))[0] / mean_spread(
        of("GRU", "cpu_seconds"))[0]
    # per second: every curve read at the moment the fastest model finished
    first = min(names, key=lambda n: clocks[n][-1])
    at_time = {n: float(np.interp(clocks[first][-1], clocks[n], curves[n])) for n in names}

    def compare(gru_bits: list[float], label: str) -> tuple[bool, str]:
        gap = mean_spread(gru_bits)[0] - mean_spread(lstm)[0]
        worse, better = clearly_apart(gru_bits, lstm), clearly_apart(lstm, gru_bits)
        word = ("clearly worse than" if worse else "clearly better than" if better
                else "within the noise of")
        return worse, (f"{label} GRU {mean_pm(gru_bits, 3)} vs LSTM {mean_pm(lstm, 3)} bits "
                       f"({gap:+.3f}: {word} the LSTM)")

    worse_same, same_text = compare(gru, f"At hidden {hidden},")
    worse_wide, wide_text = compare(gru_wide, f"at the LSTM's parameter count (GRU {wide}),")
    held = not worse_same and not worse_wide
    noise = ("" if len(seeds) > 1 else
             " One seed: the noise is unknown, so any gap counts as clear.")
    text = (f"{same_text}; {wide_text}. The GRU of the same hidden size has "
            f"{found['GRU'][0]['parameters']:,} parameters against the LSTM's {lstm_size:,} and "
            f"trained at {speed:.2f}x the LSTM's speed (characters per CPU second). Per "
            f"second: after {clocks[first][-1]:.0f} CPU s (when {first} finished), the loss "
            f"on unseen text was " + ", ".join(f"{n} {b:.2f}" for n, b in at_time.items())
            + f" bits.{noise}")
    return Result(
        setup=(f"Character language models of Shakespeare: embedding {EMBEDDING}, one recurrent "
               f"layer, linear decoder. LSTM {hidden}, GRU {hidden} and GRU {wide} (the hidden "
               f"size whose parameter count is closest to the LSTM's). Each trains {steps} steps "
               f"of truncated BPTT ({BATCH} streams x {BPTT} characters, state carried, Adam "
               f"{LR}, clipped at norm 1), one pass over the first "
               f"{corpus.train.numel():,} training characters, seeds {seeds}; scored on the "
               f"first {corpus.valid.numel():,} characters of the validation part. Speed is "
               "measured in CPU seconds of one thread (wall-clock seconds, also listed, vary "
               "with the machine's load); the speed verdict is about torch's fused CPU kernels."),
        verdict=Verdict(held, text),
        tables=[Table("GRU vs LSTM after the same steps",
                      ["model", "hidden", "parameters", "held-out bits/char",
                       "tokens/s (wall)", "train seconds (wall)", "train CPU seconds"],
                      rows, digits=1,
                      note="Bits: mean ± spread over seeds; speed: mean over seeds. Wall "
                           "time varies with the machine's load; CPU time (one thread) "
                           "much less.")],
        figures=[Figure(context.figure("gru_vs_lstm"),
                        "Left: bits per character on text each model had not seen yet, "
                        "against training CPU seconds (mean over seeds); stars: held-out score at "
                        "the end. Right: held-out bits per character, with parameters.")],
        metrics={"steps": steps, "hidden": hidden, "matched_gru_hidden": wide, "seeds": seeds,
                 "results": {n: [{k: v for k, v in r.items() if k != "curve"}
                                 for r in found[n]] for n in names},
                 "gru_speed_ratio": speed, "unseen_bits_at_equal_time": at_time},
    )


EXPERIMENT = Experiment(
    name="gru-vs-lstm",
    number=5,
    title="GRU vs LSTM",
    claim=("A GRU is as good as an LSTM for fewer parameters: after the same steps, at the "
           "same hidden size and at the same parameter count, it is not worse."),
    run=run,
    minutes=1.6,
    quick_seconds=6,
    data="shakespeare",
)
