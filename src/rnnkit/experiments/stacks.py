"""9. Stacks, mixed or not: LSTM and GRU layers mixed in one stack against pure stacks.

Character language models of Shakespeare whose recurrent part is a stack of 1, 2 or 3 layers
of the same width, every layer an LSTM, every layer a GRU, or a mix (``lstm,gru`` is an LSTM
under a GRU). All train the same steps on the same characters with the same seeds; the question
is whether a mixed stack ever beats the better pure stack of its depth by more than the seeds'
noise.
"""

from __future__ import annotations

import time

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

BATCH, BPTT, LR, EMBEDDING = 32, 32, 5e-3, 32
FULL = (("lstm",), ("gru",),
        ("lstm", "lstm"), ("gru", "gru"), ("lstm", "gru"), ("gru", "lstm"),
        ("lstm", "lstm", "lstm"), ("gru", "gru", "gru"), ("lstm", "gru", "lstm"))
QUICK = (("lstm", "lstm"), ("gru", "gru"), ("lstm", "gru"))


def label(stack: tuple[str, ...]) -> str:
    """``("lstm", "gru")`` -> ``"lstm,gru"`` (bottom layer first)."""
    return ",".join(stack)


def is_mixed(stack: tuple[str, ...]) -> bool:
    return len(set(stack)) > 1


def run(context: Context) -> Result:
    stacks = context.size(QUICK, FULL)
    steps = context.size(30, 225)
    hidden = context.size(32, 64)
    seeds = context.seed_list()
    corpus = char_corpus(train_chars=one_pass_chars(steps, BATCH, BPTT),
                         eval_chars=context.size(10_000, 50_000))
    found: dict[tuple, list[dict]] = {stack: [] for stack in stacks}
    for seed in seeds:
        for stack in stacks:
            model = char_model(corpus, list(stack), hidden=hidden, embedding=EMBEDDING,
                               seed=seed)
            cpu = time.process_time()
            record = train_lm(model, corpus.train, steps, context, batch=BATCH, bptt=BPTT,
                              lr=LR, seed=seed, name=f"{label(stack)}, seed {seed}")
            found[stack].append({"bits": bits(held_out_loss(model, corpus.valid)),
                                 "seconds": record.seconds,
                                 "cpu_seconds": time.process_time() - cpu,
                                 "parameters": parameters(model)})

    def of(stack: tuple, key: str = "bits") -> list[float]:
        return [r[key] for r in found[stack]]

    rows = [[len(s), label(s), "mixed" if is_mixed(s) else "pure", found[s][0]["parameters"],
             mean_pm(of(s), 3), mean_spread(of(s, "cpu_seconds"))[0]] for s in stacks]

    fig, axes = new_figure(11, 4.4, cols=2)
    bar_ax, size_ax = axes[0]
    colours = {"lstm": "C0", "gru": "C1"}
    for k, stack in enumerate(stacks):
        mean, spread = mean_spread(of(stack))
        colour = "C2" if is_mixed(stack) else colours.get(stack[0], "C7")
        bar_ax.bar(k + len(stack) - 1, mean, yerr=spread, color=colour, capsize=3)
        size_ax.errorbar(found[stack][0]["parameters"], mean, yerr=spread, marker="o",
                         color=colour, capsize=3)
        size_ax.annotate(label(stack), (found[stack][0]["parameters"], mean), fontsize=7,
                         xytext=(4, 4), textcoords="offset points")
    positions = [k + len(s) - 1 for k, s in enumerate(stacks)]
    bar_ax.set_xticks(positions, [label(s).replace(",", "\n") for s in stacks], fontsize=7)
    means = [mean_spread(of(s)) for s in stacks]
    bar_ax.set_ylim(min(m - s for m, s in means) - 0.1, max(m + s for m, s in means) + 0.1)
    bar_ax.set_ylabel("held-out bits per character (lower is better)")
    bar_ax.set_xlabel("stack, bottom layer first (groups: depth 1, 2, 3)")
    bar_ax.set_title(f"{steps} steps, hidden {hidden}; mean ± spread over {len(seeds)} seed(s)")
    bar_ax.grid(alpha=0.3, axis="y")
    for name, colour in (("all LSTM", "C0"), ("all GRU", "C1"), ("mixed", "C2")):
        bar_ax.bar(0, 0, color=colour, label=name)
    bar_ax.legend(fontsize=8)
    size_ax.set_xlabel("parameters")
    size_ax.set_ylabel("held-out bits per character")
    size_ax.set_title("Quality against size")
    size_ax.grid(alpha=0.3)
    save(fig, context.figure("stacks"))

    findings, mixed_wins, depth_rows = [], [], []
    for depth in sorted({len(s) for s in stacks}):
        pure = [s for s in stacks if len(s) == depth and not is_mixed(s)]
        mixed = [s for s in stacks if len(s) == depth and is_mixed(s)]
        if not pure or not mixed:
            continue
        best_pure = min(pure, key=lambda s: mean_spread(of(s))[0])
        best_mixed = min(mixed, key=lambda s: mean_spread(of(s))[0])
        gap = mean_spread(of(best_mixed))[0] - mean_spread(of(best_pure))[0]
        wins = clearly_apart(of(best_pure), of(best_mixed))
        loses = clearly_apart(of(best_mixed), of(best_pure))
        if wins:
            mixed_wins.append(depth)
        word = "clearly better" if wins else "clearly worse" if loses else "within the noise"
        findings.append(f"depth {depth}: best mixed {label(best_mixed)} "
                        f"{mean_pm(of(best_mixed), 3)} vs best pure {label(best_pure)} "
                        f"{mean_pm(of(best_pure), 3)} ({gap:+.3f} bits, {word})")
        depth_rows.append([depth, label(best_pure), label(best_mixed), gap, word])
    held = not mixed_wins
    noise = ("" if len(seeds) > 1 else
             " One seed: the noise is unknown, so any gap counts as clear.")
    text = ("Mixing was " + ("never clearly better" if held else
                             f"clearly better at depth {', '.join(map(str, mixed_wins))}")
            + ": " + "; ".join(findings) + "." + noise)
    return Result(
        setup=(f"Character language models of Shakespeare: embedding {EMBEDDING}, a stack of "
               f"recurrent layers of width {hidden} (rnnkit build_stack, one cell kind per "
               f"layer, bottom first), linear decoder. Stacks: "
               f"{', '.join(label(s) for s in stacks)}. Each trains {steps} steps of truncated "
               f"BPTT ({BATCH} streams x {BPTT} characters, state carried, Adam {LR}, clipped "
               f"at norm 1), one pass over the first {corpus.train.numel():,} training "
               f"characters, seeds {seeds}; scored on the first {corpus.valid.numel():,} "
               "characters of the validation part. Mixed stacks have as many layers of the "
               "same width as the pure ones, so their size lies between them."),
        verdict=Verdict(held, text),
        tables=[Table("Held-out bits per character by stack",
                      ["depth", "stack (bottom first)", "kind", "parameters",
                       "held-out bits/char", "train CPU seconds"], rows, digits=1,
                      note="Bits: mean ± spread over seeds; CPU seconds of one thread "
                           "spent training: mean over seeds."),
                Table("Best mixed against best pure stack, per depth",
                      ["depth", "best pure", "best mixed", "mixed - pure (bits)", "verdict"],
                      depth_rows, digits=3)],
        figures=[Figure(context.figure("stacks"),
                        "Left: held-out bits per character for every stack (blue all LSTM, "
                        "orange all GRU, green mixed), grouped by depth. Right: the same "
                        "against the number of parameters.")],
        metrics={"steps": steps, "hidden": hidden, "seeds": seeds,
                 "results": {label(s): found[s] for s in stacks}, "mixed_better_at": mixed_wins},
    )


EXPERIMENT = Experiment(
    name="stacks",
    number=9,
    title="Stacks, mixed or not",
    claim=("Mixing LSTM and GRU layers in one stack is not better than a pure stack of the "
           "same depth and width: the better pure stack is at least as good."),
    run=run,
    minutes=2.1,
    quick_seconds=7,
    data="shakespeare",
)
