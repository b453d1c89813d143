"""11. The gates at work: an LSTM character model of Shakespeare read over held-out text; its
forget gate and cell state per unit over the characters, and a search for units that track a
property of the text (Karpathy, Johnson & Fei-Fei 2015), reported only when one is found."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from rnnkit.experiments.base import (
    Context,
    Experiment,
    Figure,
    Result,
    Table,
    Verdict,
    clearly_apart,
    mean_pm,
)
from rnnkit.experiments.common import (
    bits,
    char_corpus,
    char_model,
    held_out_loss,
    new_figure,
    save,
    train_lm,
)
from rnnkit.inspect import gate_statistics
from rnnkit.layers.recurrent import Trajectory
from rnnkit.tasks.lm.model import LanguageModel

THRESHOLD = 0.5  # |Pearson r| on the test text for a unit to count as tracking a feature
WARMUP = 200  # characters read before a stream's states enter the statistics
SHOWN_UNITS, PASSAGE = 20, 110  # the heatmaps' rows and characters


def text_features(text: str) -> dict[str, np.ndarray]:
    """Properties of the text at every character (the state after reading it is compared to
    them), each a float array of ``len(text)``:

    - ``position in line``: characters since the last newline (0 at the newline);
    - ``position in word``: letters since the last non-letter (0 at a non-letter);
    - ``position in sentence``: characters since the last ``.``, ``!`` or ``?``;
    - ``speaker-name line``: 1 on a line that names a speaker (``OTHELLO:``, upper case,
      ending in a colon), its newline included;
    - ``lines into the speech``: lines since the last speaker-name line.
    """
    n = len(text)
    line, word, sentence, speaker, speech = (np.zeros(n) for _ in range(5))
    pos_line = pos_word = pos_sentence = lines = 0
    start = 0  # where the current line starts
    naming = False
    for t, ch in enumerate(text):
        if t == start:
            end = text.find("\n", t)
            current = text[t:] if end < 0 else text[t:end]
            naming = current.endswith(":") and current.isupper()
        pos_line = 0 if ch == "\n" else pos_line + 1
        pos_word = pos_word + 1 if ch.isalpha() else 0
        pos_sentence = 0 if ch in ".!?" else pos_sentence + 1
        line[t], word[t], sentence[t] = pos_line, pos_word, pos_sentence
        speaker[t], speech[t] = float(naming), lines
        if ch == "\n":
            start = t + 1
            lines = 0 if naming else lines + 1
    return {"position in line": line, "position in word": word,
            "position in sentence": sentence, "speaker-name line": speaker,
            "lines into the speech": speech}


def correlations(values: np.ndarray, features: np.ndarray) -> np.ndarray:
    """Pearson's r between each column of ``values (N, U)`` and each of ``features (N, K)``:
    ``(U, K)``; a 1-D ``features (N,)`` gives ``(U,)``. A constant column correlates 0."""
    v = values - values.mean(0)
    f = features - features.mean(0)
    scale = np.sqrt(np.multiply.outer((v ** 2).sum(0), (f ** 2).sum(0)))
    return np.divide(v.T @ f, scale, out=np.zeros_like(scale), where=scale > 0)


def streams(ids: Tensor, count: int) -> Tensor:
    """``ids`` cut into ``count`` contiguous rows of equal length: ``(count, L)``."""
    length = ids.numel() // count
    return ids[: count * length].view(count, length)


@torch.no_grad()
def read(model: LanguageModel, rows: Tensor) -> Trajectory:
    """The first layer's trajectory over ``rows (B, L)`` from a zero state: cell states ``c``,
    outputs ``h`` and gates ``i, f, g, o``, each ``(B, L, H)``."""
    model.eval()
    _, _, paths = model.rnn(model.embedding(rows), trajectories=True)
    return paths[0]


def unit_table(path: Trajectory) -> np.ndarray:
    """The candidates for an interpretable unit, one column each: every unit's cell state,
    then every unit's output, after the warm-up: ``(N, 2H)``."""
    c, h = (path.states[k][:, WARMUP:].reshape(-1, path.states[k].size(-1)) for k in "ch")
    return torch.cat([c, h], 1).double().numpy()


def features_of(rows: Tensor, decode) -> dict[str, np.ndarray]:
    """:func:`text_features` of every row, after the warm-up, concatenated."""
    per_row = [text_features(decode(r.tolist())) for r in rows]
    return {k: np.concatenate([f[k][WARMUP:] for f in per_row]) for k in per_row[0]}


def after_warmup(path: Trajectory) -> Tensor:
    """The mask ``(B, L)`` of the steps that enter the statistics (after the warm-up)."""
    B, L, _ = path.gates["f"].shape
    mask = torch.ones(B, L, dtype=torch.bool)
    mask[:, :WARMUP] = False
    return mask


def forget_profile(path: Trajectory) -> dict[str, float]:
    """How structured the forget gate is: its saturation (below 0.1 or above 0.9); how much it
    differs from unit to unit (the standard deviation of the units' means) and moves within a
    unit from character to character (each unit's standard deviation over the steps,
    averaged over units); the share of units that mostly keep (mean above 0.9) or mostly
    forget (mean below 0.5)."""
    f = path.gates["f"][:, WARMUP:]
    f = f.reshape(-1, f.size(-1)).double()  # (steps, H)
    units = f.mean(0)  # (H,)
    saturated = gate_statistics(path, mask=after_warmup(path), gates=["f"])["f"]["saturated"]
    return {"saturated": saturated, "unit_spread": units.std().item(),
            "time_spread": f.std(0).mean().item(),
            "keeping_units": (units > 0.9).double().mean().item(),
            "forgetting_units": (units < 0.5).double().mean().item()}


def best_units(model: LanguageModel, chosen_rows: Tensor, chosen_features: dict,
               on_test: Trajectory, test_features: dict) -> dict[str, tuple[int, float]]:
    """For each feature, the candidate (:func:`unit_table`) with the largest |r| on the
    ``chosen_rows`` (validation text) and its r on the test text, over which the model's
    trajectory is ``on_test``: ``{feature: (column, r)}``. Choosing on one text and judging on
    another keeps the search from flattering itself."""
    chosen = unit_table(read(model, chosen_rows))
    tested = unit_table(on_test)
    names = list(chosen_features)
    on_chosen = correlations(chosen, np.stack([chosen_features[k] for k in names], 1))
    units = np.abs(on_chosen).argmax(0)  # (K,)
    judged = correlations(tested[:, units], np.stack([test_features[k] for k in names], 1))
    return {k: (int(units[i]), float(judged[i, i])) for i, k in enumerate(names)}


def run(context: Context) -> Result:
    steps = context.size(60, 1200)
    batch, bptt, hidden = 32, 64, 128
    seeds = context.seed_list()
    corpus = char_corpus(train_chars=steps * batch * bptt + 1,
                         eval_chars=context.size(6_000, 24_000))
    decode = corpus.vocab.decode
    chosen_rows, test_rows = streams(corpus.valid, 8), streams(corpus.test, 8)
    chosen_features = features_of(chosen_rows, decode)
    test_features = features_of(test_rows, decode)
    names = list(test_features)
    profiles: dict[str, list[dict]] = {"init": [], "trained": []}
    gates: dict[str, list[dict]] = {"init": [], "trained": []}
    found: list[dict] = []
    test_bits, best_r, control_r = [], {k: [] for k in names}, {k: [] for k in names}
    first: dict = {}
    for seed in seeds:
        model = char_model(corpus, "lstm", hidden=hidden, embedding=32, seed=seed)
        before = read(model, test_rows)
        profiles["init"].append(forget_profile(before))
        gates["init"].append(gate_statistics(before, mask=after_warmup(before)))
        # the control: the same search in the untrained model, whose units see the characters
        # but have learnt nothing about the text
        for name, (_, r) in best_units(model, chosen_rows, chosen_features, before,
                                       test_features).items():
            control_r[name].append(abs(r))
        train_lm(model, corpus.train, steps, context, name=f"LSTM, seed {seed}", batch=batch,
                 bptt=bptt, lr=3e-3, seed=seed)
        test_bits.append(bits(held_out_loss(model, corpus.test)))
        path = read(model, test_rows)
        profiles["trained"].append(forget_profile(path))
        gates["trained"].append(gate_statistics(path, mask=after_warmup(path)))
        for name, (unit, r) in best_units(model, chosen_rows, chosen_features, path,
                                          test_features).items():
            best_r[name].append(abs(r))
            if abs(r) > THRESHOLD:
                found.append({"seed": seed, "feature": name, "r": r,
                              "unit": _unit_name(unit, hidden), "column": unit})
        if not first:
            first = {"model": model, "path": path}

    passage = _passage(corpus.test, decode)
    _draw_heatmaps(context, first["model"], passage, decode)
    figures = [Figure(context.figure("gates_over_text"),
                      f"Forget gate and cell state of {SHOWN_UNITS} of the {hidden} LSTM units "
                      f"(seed {seeds[0]}) over a test passage, one column per character; units "
                      "chosen evenly by their mean forget gate over the passage.")]
    seed0 = [f for f in found if f["seed"] == seeds[0]]
    if seed0:
        _draw_units(context, first["model"], passage, decode, seed0)
        figures.append(Figure(context.figure("interpretable_units"),
                              f"Units whose state tracks a feature of the text (|r| > "
                              f"{THRESHOLD} on the test text), seed {seeds[0]}, over the same "
                              "passage, beside the feature."))

    def pm(when: str, key: str) -> str:
        return mean_pm([p[key] for p in profiles[when]], 3)

    gate_rows = [[gate, when, mean_pm([g[gate]["mean"] for g in gates[when]], 3),
                  mean_pm([g[gate]["saturated"] for g in gates[when]], 3),
                  mean_pm([g[gate]["low"] for g in gates[when]], 3),
                  mean_pm([g[gate]["high"] for g in gates[when]], 3)]
                 for gate in ("i", "f", "o") for when in ("init", "trained")]
    forget_rows = [[when, pm(when, "saturated"), pm(when, "unit_spread"),
                    pm(when, "time_spread"), pm(when, "keeping_units"),
                    pm(when, "forgetting_units")]
                   for when in ("init", "trained")]
    unit_rows = [[name, mean_pm(best_r[name], 3), mean_pm(control_r[name], 3),
                  f"{sum(abs(r) > THRESHOLD for r in best_r[name])}/{len(seeds)}",
                  ", ".join(f"seed {f['seed']}: {f['unit']}" for f in found
                            if f["feature"] == name) or "none"] for name in names]

    def values(when: str, key: str) -> list[float]:
        return [p[key] for p in profiles[when]]

    saturates = clearly_apart(values("trained", "saturated"), values("init", "saturated"))
    spreads = clearly_apart(values("trained", "unit_spread"), values("init", "unit_spread"))
    moves = clearly_apart(values("trained", "time_spread"), values("init", "time_spread"))
    held = saturates and spreads and moves
    tracked = sorted({f["feature"] for f in found})
    one_seed = " One seed: the noise is unknown." if len(seeds) == 1 else ""
    text = (f"Trained {steps} steps ({mean_pm(test_bits, 3)} test bits/char), the forget gate "
            f"is saturated (below 0.1 or above 0.9) on a fraction {pm('trained', 'saturated')} "
            f"of unit-steps against {pm('init', 'saturated')} at initialisation "
            f"({'clearly' if saturates else 'not clearly'} more); the units' mean forget "
            f"gates differ by {pm('trained', 'unit_spread')} (standard deviation across "
            f"units) against {pm('init', 'unit_spread')} "
            f"({'clearly' if spreads else 'not clearly'} more); within a unit it moves "
            f"from character to character by {pm('trained', 'time_spread')} (standard "
            f"deviation over the steps) against {pm('init', 'time_spread')} "
            f"({'clearly' if moves else 'not clearly'} more). Of the units, a fraction "
            f"{pm('trained', 'keeping_units')} mostly keep (mean f > 0.9) and "
            f"{pm('trained', 'forgetting_units')} mostly forget (mean f < 0.5). "
            + (f"Units tracking a feature (|r| > {THRESHOLD} on the test text, chosen on the "
               "validation text): "
               + "; ".join(f"{k} in {sum(f['feature'] == k for f in found)}/{len(seeds)} "
                           f"seeds (|r| = {mean_pm(best_r[k], 2)}; the untrained model's "
                           f"best unit: {mean_pm(control_r[k], 2)}"
                           + (", over the threshold too: read off the characters, not learnt"
                              if any(r > THRESHOLD for r in control_r[k]) else "") + ")"
                           for k in tracked) + "."
               if tracked else f"No unit tracks any of the features with |r| > {THRESHOLD}.")
            + one_seed)
    return Result(
        setup=(f"Character language model of Shakespeare (rnnkit data shakespeare): embedding "
               f"32 -> one LSTM layer of {hidden} units -> linear, {steps} steps of truncated "
               f"BPTT ({batch} streams x {bptt} characters, Adam 3e-3, clipped at norm 1), "
               f"seeds {seeds}. It then reads 8 contiguous streams of the validation part and "
               f"of the test part ({test_rows.numel():,} characters each, from a zero state, "
               f"the first {WARMUP} characters of each stream left out of the statistics) with "
               "trajectories (every gate and state at every step). Gate statistics: "
               "rnnkit.inspect.gate_statistics on the test text, before and after training. "
               f"Unit search: for each feature of the text, the unit (cell state c or output h) "
               f"with the largest |Pearson r| on the validation text is chosen, and its r on "
               f"the test text is reported; it counts as tracking the feature when |r| > "
               f"{THRESHOLD}."),
        verdict=Verdict(held, text),
        tables=[
            Table("Sigmoid gates on the test text", ["gate", "when", "mean",
                  "saturated (<0.1 or >0.9)", "below 0.1", "above 0.9"], gate_rows),
            Table("Structure of the forget gate", ["when", "saturated", "spread across units",
                  "spread across characters", "units keeping (mean > 0.9)",
                  "units forgetting (mean < 0.5)"], forget_rows,
                  note=("Across units: the standard deviation of the units' mean forget gate; "
                        "across characters: each unit's standard deviation over the steps, "
                        "averaged over units.")),
            Table("Search for interpretable units", ["feature of the text",
                  "abs(r) on the test text (best unit on validation)",
                  "same, untrained model (control)", f"seeds with abs(r) > "
                  f"{THRESHOLD}", "units found"], unit_rows,
                  note=("A unit named c17 is the 17th unit's cell state; h17 its output. The "
                        "control runs the same search in the model before training: a feature "
                        "an untrained unit already follows is read off the current "
                        "character, not learnt.")),
        ],
        figures=figures,
        metrics={"steps": steps, "hidden": hidden, "seeds": seeds, "threshold": THRESHOLD,
                 "test_bits": test_bits, "gates": gates, "forget_profile": profiles,
                 "best_r": best_r, "control_r": control_r,
                 "found": [{k: v for k, v in f.items() if k != "column"} for f in found]},
    )


def _unit_name(column: int, hidden: int) -> str:
    return f"c{column}" if column < hidden else f"h{column - hidden}"


def _passage(ids: Tensor, decode) -> Tensor:
    """:data:`PASSAGE` characters of ``ids`` from the first speaker's name after 2,000
    characters in: a passage that shows a speech starting."""
    text = decode(ids[2000:2000 + 4000].tolist())
    start = 2000 + next((i + 1 for i in range(len(text) - 1) if text[i] == "\n"
                         and text[i + 1].isupper() and text[i + 1:].split("\n", 1)[0].isupper()),
                        0)
    return ids[start - WARMUP:start + PASSAGE]  # the warm-up is read, not shown


def _labels(text: str) -> list[str]:
    return [{"\n": "⏎", " ": "␣"}.get(ch, ch) for ch in text]


def _draw_heatmaps(context: Context, model: LanguageModel, passage: Tensor, decode) -> None:
    path = read(model, passage.unsqueeze(0))
    f = path.gates["f"][0, WARMUP:].numpy()  # (PASSAGE, H)
    c = path.states["c"][0, WARMUP:].numpy()
    order = np.argsort(f.mean(0))
    units = order[np.linspace(0, order.size - 1, SHOWN_UNITS).round().astype(int)]
    labels = _labels(decode(passage[WARMUP:].tolist()))
    fig, axes = new_figure(15, 8, rows=2)
    limit = float(np.quantile(np.abs(c[:, units]), 0.98)) or 1.0
    for ax, values, title, cmap, (lo, hi), bar in (
            (axes[0][0], f, "forget gate f (0: forget, 1: keep)", "viridis", (0, 1), "f"),
            (axes[1][0], c, "cell state c", "RdBu_r", (-limit, limit), "c")):
        image = ax.imshow(values[:, units].T, aspect="auto", cmap=cmap, vmin=lo, vmax=hi,
                          interpolation="nearest")
        ax.set_xticks(range(len(labels)))
        ax.set_xticklabels(labels, fontsize=6, fontfamily="monospace")
        ax.set_yticks(range(len(units)))
        ax.set_yticklabels([str(u) for u in units], fontsize=6)
        ax.set_ylabel("unit (top: lowest mean f)")
        ax.set_xlabel("character read (test text)")
        ax.set_title(f"LSTM {f.shape[1]} on Shakespeare: {title}")
        fig.colorbar(image, ax=ax, fraction=0.02, pad=0.01, label=bar)
    save(fig, context.figure("gates_over_text"))


def _draw_units(context: Context, model: LanguageModel, passage: Tensor, decode,
                found: list[dict]) -> None:
    path = read(model, passage.unsqueeze(0))
    table = torch.cat([path.states["c"][0, WARMUP:], path.states["h"][0, WARMUP:]], 1).numpy()
    features = text_features(decode(passage.tolist()))
    labels = _labels(decode(passage[WARMUP:].tolist()))
    fig, axes = new_figure(15, 1.9 * len(found) + 0.6, rows=len(found))
    for ax, item in zip((row[0] for row in axes), found):
        state = table[:, item["column"]]
        ax.plot(state, color="C0", label=f"unit {item['unit']} (r = {item['r']:+.2f})")
        ax.set_ylabel("state")
        twin = ax.twinx()
        twin.plot(features[item["feature"]][WARMUP:], color="C1", linestyle="--",
                  label=item["feature"])
        twin.set_ylabel(item["feature"], fontsize=8)
        ax.set_xticks(range(len(labels)))
        ax.set_xticklabels(labels, fontsize=6, fontfamily="monospace")
        ax.set_xlim(-0.5, len(labels) - 0.5)
        ax.set_title(f"Unit {item['unit']} against {item['feature']} (test text)", fontsize=9)
        lines = ax.get_legend_handles_labels()
        extra = twin.get_legend_handles_labels()
        ax.legend(lines[0] + extra[0], lines[1] + extra[1], fontsize=7, loc="upper left")
    axes[-1][0].set_xlabel("character read")
    save(fig, context.figure("interpretable_units"))


EXPERIMENT = Experiment(
    name="gates",
    number=11,
    title="The gates at work",
    claim=("A trained LSTM's gates are not uniform: the forget gate saturates, differs from "
           "unit to unit and moves with the characters read; some units track a property of "
           "the text, such as the position in the line."),
    run=run,
    minutes=1.6,
    quick_seconds=10,
    data="shakespeare",
)
