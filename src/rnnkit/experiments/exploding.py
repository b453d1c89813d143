"""3. Exploding gradients and clipping: an Elman RNN trained by SGD at a large learning rate,
without clipping, clipped by norm and clipped by value, on Shakespeare's characters."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from matplotlib.ticker import FormatStrFormatter

from rnnkit.experiments.base import (
    Context,
    Experiment,
    Figure,
    Result,
    Table,
    Verdict,
    mean_pm,
)
from rnnkit.experiments.common import (
    Run,
    char_corpus,
    char_model,
    held_out_loss,
    new_figure,
    save,
    train_lm,
)

CELL, HIDDEN = "rnn", 128
# a learning rate found by one search (SGD, Elman tanh 128, 300 steps, seed 0): at 1 the
# unclipped run trains smoothly, at 2 and 3 its loss spikes far above the uniform guess and
# does not come back; at 5 its gradient norm reaches 1e7
LARGE_LR, SMALL_LR = 3.0, 1.0
CLIP_NORM, CLIP_VALUE = 0.5, 0.01
BLOW_UP = 0.5  # nats above the uniform guess's loss: a step where the model is worse than guessing


@dataclass(frozen=True)
class Setting:
    """One way to train: its label, learning rate and clipping."""

    label: str
    lr: float
    clip_norm: float | None = None
    clip_value: float | None = None


SETTINGS = (
    Setting(f"no clipping, lr {LARGE_LR:g}", LARGE_LR),
    Setting(f"clip norm {CLIP_NORM:g}, lr {LARGE_LR:g}", LARGE_LR, clip_norm=CLIP_NORM),
    Setting(f"clip value {CLIP_VALUE:g}, lr {LARGE_LR:g}", LARGE_LR, clip_value=CLIP_VALUE),
    Setting(f"no clipping, lr {SMALL_LR:g} (reference)", SMALL_LR),
)
UNCLIPPED, BY_NORM, BY_VALUE, REFERENCE = SETTINGS


def blow_up_steps(losses: list[float], vocab_size: int) -> int:
    """Steps whose training loss is non-finite or more than :data:`BLOW_UP` nats above
    ``ln V``, the loss of guessing every character uniformly (where training starts)."""
    limit = math.log(vocab_size) + BLOW_UP
    return sum(1 for v in losses if not math.isfinite(v) or v > limit)


def clipped_fraction(run: Run) -> float:
    """The fraction of the run's steps where clipping changed the gradient."""
    return float(np.mean(run.clipped)) if run.clipped else 0.0


def stable(run: Run, vocab_size: int) -> bool:
    """No divergence, and at most 1% of the steps blown up."""
    return run.diverged_at is None and blow_up_steps(run.losses, vocab_size) <= 0.01 * len(
        run.losses)


def every_seed_better(losses: list[float], than: list[float]) -> bool:
    """True when the worst of ``losses`` is below the best of ``than``: the ranges over seeds
    do not overlap. (The unclipped runs' spread is that of runs blown to different places,
    so a mean-and-spread test would ask the clipped runs to beat the noise of a failure.)"""
    return max(losses) < min(than)


def run(context: Context) -> Result:
    steps = context.size(60, 500)
    batch, bptt = 32, 64
    seeds = context.seed_list()
    corpus = char_corpus(train_chars=steps * batch * bptt + 1, eval_chars=50_000)
    V = len(corpus.vocab)
    runs: dict[Setting, list[Run]] = {s: [] for s in SETTINGS}
    test: dict[Setting, list[float]] = {s: [] for s in SETTINGS}
    for seed in seeds:
        for setting in SETTINGS:
            model = char_model(corpus, CELL, hidden=HIDDEN, embedding=32, seed=seed)
            record = train_lm(model, corpus.train, steps, context,
                              name=f"{setting.label}, seed {seed}", batch=batch, bptt=bptt,
                              lr=setting.lr, optimizer="sgd", clip_norm=setting.clip_norm,
                              clip_value=setting.clip_value, seed=seed)
            runs[setting].append(record)
            test[setting].append(held_out_loss(model, corpus.test)
                                 if record.diverged_at is None else math.inf)

    rows = []
    for s in SETTINGS:
        rs = runs[s]
        rows.append([s.label, f"{sum(r.diverged_at is not None for r in rs)}/{len(rs)}",
                     mean_pm([blow_up_steps(r.losses, V) for r in rs], 1),
                     mean_pm([max(r.grad_norms) for r in rs], 3),
                     mean_pm([clipped_fraction(r) for r in rs], 3),
                     _loss_pm(test[s])])
    _draw(context, runs, V, steps)

    unstable = all(not stable(r, V) for r in runs[UNCLIPPED])
    kept = {s: all(stable(r, V) for r in runs[s]) for s in (BY_NORM, BY_VALUE)}
    better = {s: every_seed_better(test[s], test[UNCLIPPED]) for s in (BY_NORM, BY_VALUE)}
    held = unstable and all(kept.values()) and all(better.values())
    one_seed = " One seed: the noise is unknown." if len(seeds) == 1 else ""
    blown = [blow_up_steps(r.losses, V) for r in runs[UNCLIPPED]]
    text = (f"SGD at learning rate {LARGE_LR:g} without clipping was "
            f"{'unstable in every seed' if unstable else 'stable in at least one seed'}: "
            f"{sum(r.diverged_at is not None for r in runs[UNCLIPPED])} of {len(seeds)} runs "
            f"diverged to NaN and {mean_pm(blown, 1)} of {steps} steps had a loss above "
            f"ln V + {BLOW_UP} = {math.log(V) + BLOW_UP:.2f} nats (worse than guessing); "
            f"test loss {_loss_pm(test[UNCLIPPED])} nats/char. "
            + " ".join(f"Clipped by {name}, the same rate was "
                       f"{'stable in every seed' if kept[s] else 'NOT stable in every seed'} "
                       f"(test loss {_loss_pm(test[s])}, "
                       + ("every seed below every unclipped seed" if better[s] else
                          "NOT below the unclipped runs in every seed")
                       + f"; {np.mean([clipped_fraction(r) for r in runs[s]]):.0%} of "
                       "steps clipped)."
                       for name, s in (("norm", BY_NORM), ("value", BY_VALUE)))
            + (" No unclipped run turned NaN (tanh bounds the state): its loss spiked "
               "instead." if not any(r.diverged_at is not None for r in runs[UNCLIPPED])
               else "")
            + f" The reference at learning rate {SMALL_LR:g} without clipping reached "
            f"{_loss_pm(test[REFERENCE])}.{one_seed}")
    return Result(
        setup=(f"Character language models of Shakespeare (rnnkit data shakespeare): embedding "
               f"32 -> one Elman tanh layer of {HIDDEN} units -> linear, trained {steps} steps "
               f"of truncated BPTT ({batch} streams x {bptt} characters) by plain SGD, seeds "
               f"{seeds}: at learning rate {LARGE_LR:g} without clipping, clipped by global "
               f"norm {CLIP_NORM:g}, clipped by value {CLIP_VALUE:g} (every gradient element "
               f"into [-{CLIP_VALUE:g}, {CLIP_VALUE:g}]), and at learning rate {SMALL_LR:g} "
               f"without clipping as a reference. A blown-up step: a training loss above "
               f"ln V + {BLOW_UP} nats (V = {V} characters) or not finite; a run is stable "
               "when it never diverges and at most 1% of its steps blow up. Test loss on the "
               f"first {corpus.test.numel():,} characters of the test part."),
        verdict=Verdict(held, text),
        tables=[Table("Training stability by clipping",
                      ["setting", "diverged (NaN)", f"blown-up steps of {steps}",
                       "largest gradient norm", "steps clipped", "test loss (nats/char)"], rows,
                      note=("Gradient norms are taken before clipping. Clipping by value "
                            "counts a step as clipped when any element exceeds the bound."))],
        figures=[Figure(context.figure("loss_and_gradient"),
                        "Training loss and gradient norm (before clipping) per step, every "
                        "seed, log scale; the dashed line is the loss of a uniform guess.")],
        metrics={"steps": steps, "seeds": seeds, "vocab_size": V,
                 "settings": {s.label: {
                     "lr": s.lr, "clip_norm": s.clip_norm, "clip_value": s.clip_value,
                     "diverged_at": [r.diverged_at for r in runs[s]],
                     "blow_up_steps": [blow_up_steps(r.losses, V) for r in runs[s]],
                     "max_grad_norm": [max(r.grad_norms) for r in runs[s]],
                     "clipped_fraction": [clipped_fraction(r) for r in runs[s]],
                     "test_loss": [v if math.isfinite(v) else None for v in test[s]],
                     "seconds": [r.seconds for r in runs[s]]} for s in SETTINGS},
                 "unclipped_unstable": unstable, "clipped_stable": {
                     s.label: kept[s] for s in kept}},
    )


def _loss_pm(values: list[float]) -> str:
    """``mean ± spread`` over the runs that did not diverge, saying how many did."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return "none (every run diverged)"
    lost = len(values) - len(finite)
    return mean_pm(finite, 3) + (f", {lost} diverged" if lost else "")


def _draw(context: Context, runs: dict, vocab_size: int, steps: int) -> None:
    fig, axes = new_figure(11, 4.4, cols=2)
    loss_ax, norm_ax = axes[0]
    for k, (setting, records) in enumerate(runs.items()):
        for i, r in enumerate(records):
            label = setting.label if i == 0 else None
            loss_ax.plot(r.losses, color=f"C{k}", linewidth=0.8, alpha=0.75, label=label)
            norm_ax.plot(r.grad_norms, color=f"C{k}", linewidth=0.8, alpha=0.75, label=label)
    loss_ax.axhline(math.log(vocab_size), color="0.3", linestyle="--", linewidth=1,
                    label="uniform guess (ln V)")
    norm_ax.axhline(CLIP_NORM, color="0.3", linestyle=":", linewidth=1,
                    label=f"clip norm {CLIP_NORM:g}")
    for ax, what in ((loss_ax, "training loss (nats/char)"), (norm_ax, "gradient norm")):
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.set_xlabel(f"training step (of {steps})")
        ax.set_ylabel(what)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    loss_ax.set_title(f"Elman tanh {HIDDEN}, SGD, Shakespeare: loss")
    norm_ax.set_title("Gradient norm before clipping")
    save(fig, context.figure("loss_and_gradient"))


EXPERIMENT = Experiment(
    name="exploding",
    number=3,
    title="Exploding gradients and clipping",
    claim=("Without clipping, an Elman RNN at a large learning rate blows up (its loss spikes "
           "or turns NaN); clipping the gradient by norm or by value keeps the same training "
           "stable."),
    run=run,
    minutes=1.3,
    quick_seconds=10,
    data="shakespeare",
)
