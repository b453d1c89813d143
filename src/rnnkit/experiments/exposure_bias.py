"""10. Teacher forcing and exposure bias: a decoder trained only on true prefixes (teacher
forcing, ratio 1) meets its own mistakes at test time; scheduled sampling (Bengio et al. 2015)
feeds it its own guesses during training, more of them as training goes on.

The measurement: the token error rate at each output position when the model runs free
(greedy, fed its own outputs) against the same model fed the true prefix (teacher-forced),
for both ways of training, on rnnkit's ``sort`` task (the letters of a string in order), where
each output letter depends on the ones already written. The position in the output is the
controlled property, so the data are synthetic.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from rnnkit.data.batching import bucket_batches
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
from rnnkit.experiments.common import new_figure, save
from rnnkit.experiments.encoder_decoder import (
    CharPairs,
    char_pairs,
    greedy,
    references,
    train_seq2seq,
)
from rnnkit.tasks.seq2seq.model import Seq2Seq, Seq2SeqConfig

TASK = "sort"
FLOOR = 0.5  # scheduled sampling: the teacher ratio falls linearly from 1 to this
METHODS = {"teacher forcing": {"teacher": 1.0, "teacher_schedule": "constant"},
           "scheduled sampling": {"teacher": FLOOR, "teacher_schedule": "linear"}}


def position_errors(outputs: Sequence[Sequence[int]], refs: Sequence[Sequence[int]],
                    positions: int) -> tuple[np.ndarray, np.ndarray]:
    """Per output position ``p < positions``: how many references reach ``p`` (``counts``) and
    at how many of those the output has another token there or none (``errors``). Tokens an
    output writes past its reference's end are not counted (its exact match is)."""
    errors, counts = np.zeros(positions), np.zeros(positions)
    for output, reference in zip(outputs, refs, strict=True):
        for p, token in enumerate(reference[:positions]):
            counts[p] += 1
            errors[p] += p >= len(output) or output[p] != token
    return errors, counts


def error_rates(errors: np.ndarray, counts: np.ndarray) -> list[float]:
    """``errors / counts`` per position, NaN where no reference reaches it."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return [float(x) for x in np.where(counts > 0, errors / np.maximum(counts, 1), np.nan)]


@torch.no_grad()
def teacher_forced(model: Seq2Seq, data: CharPairs) -> list[list[int]]:
    """Each test target's most likely token at every position given the true prefix (the
    view training has), as many tokens as the reference holds (without ``</s>``)."""
    model.eval()
    test, bos = data.test, data.vocab.bos
    outputs: list[list[int]] = [[] for _ in test.src]
    for pick in bucket_batches(test.lengths, 128, shuffle=False):
        src, lengths, tgt_in, _ = test.batch(pick, bos)
        best = model(src, lengths, tgt_in).argmax(-1)  # (B, T)
        for row, i in enumerate(pick):
            outputs[i] = best[row, : len(test.tgt[i]) - 1].tolist()
    return outputs


def run(context: Context) -> Result:
    lengths = context.size((5, 10), (5, 15))
    count = context.size(2000, 12_000)
    steps = context.size(60, 500)
    hidden = context.size(32, 64)
    seeds = context.seed_list()
    data = char_pairs(TASK, count, lengths, test_share=0.08)
    refs = references(data)
    positions = lengths[1]
    found = {method: [] for method in METHODS}
    runs = [(method, seed) for method in METHODS for seed in seeds]
    for method, seed in context.steps(runs, "decoders"):
        context.status(f"{method}, seed {seed}")
        config = Seq2SeqConfig(hidden=hidden, embedding=32, attention="general", dropout=0.0,
                               batch=64, eval_pairs=0, **METHODS[method])
        model = train_seq2seq(data, config, steps, seed)
        free, forced = greedy(model, data), teacher_forced(model, data)
        free_err, counts = position_errors(free, refs, positions)
        forced_err, _ = position_errors(forced, refs, positions)
        found[method].append({
            "free": error_rates(free_err, counts), "forced": error_rates(forced_err, counts),
            "free_error": float(free_err.sum() / counts.sum()),
            "forced_error": float(forced_err.sum() / counts.sum()),
            "exact": float(np.mean([o == r for o, r in zip(free, refs)])),
            "counts": counts.astype(int).tolist()})
    rows = []
    for method, runs_ in found.items():
        free = [r["free_error"] for r in runs_]
        forced = [r["forced_error"] for r in runs_]
        rows.append([method, mean_pm(free), mean_pm(forced),
                     mean_pm([a - b for a, b in zip(free, forced)]),
                     mean_pm([r["exact"] for r in runs_])])
    held, verdict = _verdict(found, len(seeds))
    _plot(context, found, steps, hidden)
    return Result(
        setup=(f"rnnkit's seq2seq task {TASK} (a string of {lengths[0]}-{lengths[1]} letters "
               f"from 10 -> its letters in order), {count:,} distinct pairs, "
               f"{len(refs):,} held out for the test. An LSTM encoder-decoder with Luong general "
               f"attention (bidirectional encoder {hidden // 2} units per direction, decoder "
               f"{hidden}, embedding 32), trained {steps} steps of 64 pairs (AdamW 3e-3, "
               f"cosine decay) either with teacher forcing (ratio 1) or with scheduled "
               f"sampling (the probability of feeding the true previous token falls linearly "
               f"from 1 to {FLOOR}; else the model's own best guess is fed), seeds {seeds}. "
               "Test: token error per output position, free running (greedy) and "
               "teacher-forced (the true prefix fed)."),
        verdict=Verdict(held, verdict),
        tables=[Table("Token error rate on the test targets, mean ± spread over seeds",
                      ["training", "free-running error", "teacher-forced error",
                       "exposure gap (free - forced)", "exact match (free)"], rows)],
        figures=[Figure(context.figure("error_by_position"),
                        "Token error rate against the position in the output: free running "
                        "(solid) and given the true prefix (dashed), for each way of training "
                        "(band: spread over seeds). Later positions exist only in longer "
                        "strings, which are harder in both views.")],
        metrics={"methods": found, "steps": steps, "hidden": hidden, "pairs": count,
                 "test_pairs": len(refs), "lengths": list(lengths), "floor": FLOOR,
                 "seeds": seeds},
    )


def _verdict(found: dict, seeds: int) -> tuple[bool | None, str]:
    """Held when scheduled sampling lowers the free-running token error beyond the seeds'
    noise (several seeds needed); not held when it does not lower it at all; else not
    settled."""
    forcing = [r["free_error"] for r in found["teacher forcing"]]
    sampling = [r["free_error"] for r in found["scheduled sampling"]]
    forced = [r["forced_error"] for r in found["teacher forcing"]]
    late = _late_gap(found["teacher forcing"])
    (tf_mean, _), (ss_mean, _) = mean_spread(forcing), mean_spread(sampling)
    text = (f"Exposure bias: trained by teacher forcing, the model's token error is "
            f"{tf_mean:.3f} running free against {mean_spread(forced)[0]:.3f} given the true "
            f"prefix ({100 * (tf_mean - mean_spread(forced)[0]):+.1f} points; "
            f"{100 * late:+.1f} points over the last third of the positions). Scheduled "
            f"sampling: free-running token error {mean_pm(sampling)} against "
            f"{mean_pm(forcing)} with teacher forcing, ")
    if ss_mean >= tf_mean:
        held = False
        worse = clearly_apart(sampling, forcing) and seeds > 1
        ss_forced = mean_spread([r["forced_error"] for r in found["scheduled sampling"]])[0]
        text += (f"{100 * (ss_mean - tf_mean):+.1f} points ({'beyond' if worse else 'within'} "
                 f"the seeds' noise): it did not help on this budget. Given the true prefix it "
                 f"errs more too ({ss_forced:.3f} against {mean_spread(forced)[0]:.3f}): in "
                 "the same steps it learned the task less well.")
    elif seeds > 1 and clearly_apart(forcing, sampling):
        held, text = True, text + "lower beyond the seeds' noise: it helped."
    else:
        held = None
        text += ("lower, but " + ("within the seeds' noise." if seeds > 1 else
                                  "with one seed the noise is unknown."))
    return held, text


def _late_gap(runs: list[dict]) -> float:
    """The mean over seeds of (free - forced) error over the last third of the positions,
    weighted by how many references reach each."""
    gaps = []
    for r in runs:
        counts = np.array(r["counts"], dtype=float)
        start = 2 * len(counts) // 3
        free = np.nan_to_num(np.array(r["free"][start:])) * counts[start:]
        forced = np.nan_to_num(np.array(r["forced"][start:])) * counts[start:]
        gaps.append(float((free - forced).sum() / max(counts[start:].sum(), 1)))
    return float(np.mean(gaps))


def _plot(context: Context, found: dict, steps: int, hidden: int) -> None:
    fig, axes = new_figure(7.2, 4.4)
    ax = axes[0][0]
    for k, (method, runs_) in enumerate(found.items()):
        for view, style in (("free", "-"), ("forced", "--")):
            curves = np.array([r[view] for r in runs_], dtype=float)
            x = np.arange(1, curves.shape[1] + 1)
            mean = np.nanmean(curves, 0)
            words = "free running" if view == "free" else "true prefix given"
            ax.plot(x, mean, style, marker="o" if view == "free" else None, color=f"C{k}",
                    label=f"{method}: {words}")
            if len(runs_) > 1:
                spread = np.nanstd(curves, 0, ddof=1)
                ax.fill_between(x, mean - spread, mean + spread, color=f"C{k}", alpha=0.15)
    ax.set_xlabel("position in the output (tokens)")
    ax.set_ylabel("token error rate (share of references)")
    ax.set_ylim(bottom=0)
    seeds = len(next(iter(found.values())))
    ax.set_title(f"Sorting letters: attention LSTM, {hidden} units, {steps} steps, "
                 f"{seeds} seed{'s' if seeds > 1 else ''}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    save(fig, context.figure("error_by_position"))


EXPERIMENT = Experiment(
    name="exposure-bias",
    number=10,
    title="Teacher forcing and exposure bias",
    claim=("A decoder trained by teacher forcing never sees its own mistakes, so running free "
           "its errors grow along the output (exposure bias); scheduled sampling, which feeds "
           "it its own guesses in training, reduces them."),
    run=run,
    minutes=1.1,
    quick_seconds=8,
    data="synthetic sort (lengths 5-15)",
)
