"""Training a CRNN into a directory and scoring it (greedy, prefix beam, beam with the
character language model) beside its baselines: the front end alone (``conv``, a per-column
classifier) and a unidirectional RNN (``forward``), trained on the same split."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch

from rnnkit.errors import ConfigError
from rnnkit.tasks import base
from rnnkit.tasks.ctc.decoding import CharLM, DecodeOptions
from rnnkit.tasks.ctc.loaded import LM_TEXTS, TASK, LoadedCTC
from rnnkit.tasks.ctc.model import CRNN, CTCConfig
from rnnkit.tasks.ctc.parts import (
    NAMED,
    Parts,
    ReadOptions,
    alphabet_of,
    check_alphabet,
    check_lengths,
    outside,
    read_listing,
    read_parts,
)
from rnnkit.tasks.ctc.task import CTCTask, Example, collate, encode_text, score
from rnnkit.train.loop import TrainConfig

PARTS = ("train", "valid", "test", "all")
BASELINES = ("conv", "forward")
BEAM, LM_WEIGHT = 8, 0.5  # the beam decodings scored beside greedy
BASELINE_SHARE = 0.2  # of the budget, for each baseline


def default_train_config() -> TrainConfig:
    return TrainConfig(time=600.0, lr=2e-3, eval_every=200, checkpoint_every=200)


def _baseline_config(config: CTCConfig, name: str) -> CTCConfig:
    if name == "conv":
        return dataclasses.replace(config, rnn=False)
    return dataclasses.replace(config, bidirectional=False)


def _share(train_config: TrainConfig, share: float) -> TrainConfig:
    steps = max(1, round(train_config.steps * share)) if train_config.steps else None
    time = train_config.time * share if train_config.time else None  # a budget, or a cap
    return dataclasses.replace(train_config, steps=steps, time=time,
                               warmup=min(train_config.warmup, max(1, (steps or 10**9) // 10)))


def fit(data: str | None, out: str | Path, config: CTCConfig | None = None,
        train_config: TrainConfig | None = None, *, read: ReadOptions | None = None,
        valid: str | None = None, test: str | None = None, baselines=("conv",),
        callback: base.Callback | None = None, progress=None, resume: bool = False,
        force: bool = False) -> dict:
    """Train a CRNN with CTC on ``data`` (``mnist-strings``, ``digits-strings``,
    ``spoken-digits``, ``spoken-sentences`` or a CSV listing of ``file,text``) into ``out``;
    return the metrics also written to ``out/metrics.json``. Each baseline of ``baselines``
    (``conv``, ``forward``) takes a fifth of the budget and the CRNN the rest; they are written
    to ``out/baselines/NAME`` (model directories too). ``progress(name, train_config)``, when
    given, makes the callback of each run (``rnnkit`` and each baseline's)."""
    out = Path(out)
    saved = None
    if resume:
        saved = base.resume_settings(out, TASK, data)
        data, valid, test = saved["data"], saved["valid"], saved["test"]
        read = ReadOptions.from_dict(saved["read"])
        config = CTCConfig.from_dict(saved["model"])
        baselines = tuple(saved.get("baselines", ()))
        train_config = base.resumed_train_config(saved, train_config)
    elif data is None:
        raise ConfigError("data is missing: give mnist-strings, digits-strings, spoken-digits, "
                          "spoken-sentences or a CSV listing of file,text", "data")
    unknown = [b for b in baselines if b not in BASELINES]
    if unknown:
        raise ConfigError.bad("baselines", f"has {unknown[0]!r}; choose from "
                                           f"{', '.join(BASELINES)} (or none)")
    config = dataclasses.replace(config) if config is not None else CTCConfig()
    train_config = train_config or default_train_config()
    train_config.check()
    read = read or ReadOptions(seed=train_config.seed)
    parts = read_parts(str(data), read, config.height, valid, test)
    config.modality, config.sample_rate = parts.modality, parts.sample_rate
    first = parts.train(0)
    if config.alphabet and saved is None:
        check_alphabet(first, config.alphabet, "training")
    config.alphabet = config.alphabet or alphabet_of([e.text for e in first])
    config.check()
    torch.manual_seed(train_config.seed)
    model = CRNN(config)
    for what, examples in (("training", first), ("validation", parts.valid)):
        check_lengths(examples, model.lengths(collate_sizes(examples)),
                      model.front.minimum_width, what)
    main_config = (train_config if saved is not None or not baselines
                   else _share(train_config, 1 - BASELINE_SHARE * len(baselines)))
    with base.claim(out, resume, force):
        sizes = {"train": len(first), "valid": len(parts.valid), "test": len(parts.test)}
        if saved is None:
            base.write_config(out, TASK, {
                "model": config.to_dict(), "data": str(data), "valid": valid, "test": test,
                "read": read.to_dict(), "train": dataclasses.asdict(main_config),
                "sizes": sizes, "baselines": list(baselines)})
            (out / LM_TEXTS).write_text("\n".join(e.text for e in first), encoding="utf-8")
        task = CTCTask(model, parts.train, parts.valid, train_config.seed)
        if progress is not None:
            callback = progress("rnnkit", main_config)
        state = base.train(task, main_config, out, callback, resume)
        lm = CharLM(config.lm_order).fit([encode_text(e.text, config.alphabet) for e in first],
                                         len(config.alphabet))
        loaded = LoadedCTC(model, config, lm, out)
        notes = dict(parts.notes, **{
            "valid characters outside the alphabet": outside(parts.valid, config.alphabet),
            "test characters outside the alphabet": outside(parts.test, config.alphabet)})
        metrics = {"task": TASK, "data": parts.source, "split": parts.split, "sizes": sizes,
                   **base.run_summary(state, model), "epochs": state.epoch, "notes": notes,
                   "model": describe(config), "alphabet": config.alphabet,
                   "valid": {"rnnkit": score(model, parts.valid)},
                   "test": score_systems(loaded, parts.test)}
        base.write_metrics(out, metrics)
        for name in baselines:
            if saved is not None:
                break
            trained, run = _train_baseline(name, config, train_config, parts,
                                           out / "baselines" / name, progress)
            metrics["valid"][name] = score(trained, parts.valid)
            if parts.test:
                metrics["test"][name] = score(trained, parts.test)
            metrics.setdefault("baselines", {})[name] = run
            base.write_metrics(out, metrics)
        _pictures(loaded, parts, state.history, out)
        return metrics


def collate_sizes(examples: list[Example]) -> torch.Tensor:
    return torch.tensor([e.size for e in examples], dtype=torch.long)


def _train_baseline(name: str, config: CTCConfig, train_config: TrainConfig, parts: Parts,
                    out: Path, progress) -> tuple[CRNN, dict]:
    bconfig = _baseline_config(config, name)
    budget = _share(train_config, BASELINE_SHARE)
    torch.manual_seed(train_config.seed)
    model = CRNN(bconfig)
    with base.claim(out, False, True):
        base.write_config(out, TASK, {"model": bconfig.to_dict(), "data": parts.source,
                                      "train": dataclasses.asdict(budget), "baseline": name})
        task = CTCTask(model, parts.train, parts.valid, train_config.seed)
        state = base.train(task, budget, out, progress(name, budget) if progress else None)
    return model, {"model": describe(bconfig), **base.run_summary(state, model)}


def describe(c: CTCConfig) -> str:
    channels, pools = c.blocks()
    front = f"{c.modality} front end {'-'.join(map(str, channels))}"
    if not c.rnn:
        return f"{front}, no RNN (per-column classifier)"
    way = "bidirectional " if c.bidirectional else ""
    return f"{front}, {way}{c.cell} {c.layers}x{c.hidden}"


def score_systems(loaded: LoadedCTC, examples: list[Example]) -> dict:
    """The model's scores on ``examples`` with greedy decoding, prefix beam search and beam
    search with the character language model."""
    if not examples:
        return {}
    result = {"rnnkit": score(loaded.model, examples)}
    beam = DecodeOptions(beam=BEAM)
    result[f"rnnkit {beam.method}"] = score(loaded.model, examples, beam)
    fused = DecodeOptions(beam=BEAM, lm_weight=LM_WEIGHT)
    result[f"rnnkit {fused.method}"] = score(loaded.model, examples, fused, loaded.lm)
    return result


def _pictures(loaded: LoadedCTC, parts: Parts, history: list[dict], out: Path) -> None:
    from rnnkit import plots

    plots.training_curves(history, out / "curves.png", f"CTC on {parts.source}")
    shown = (parts.test or parts.valid)[0]
    explain_picture(loaded, shown, out / "example.png")


def explain_picture(loaded: LoadedCTC, item, path: Path, options: DecodeOptions | None = None
                    ) -> Path:
    """The input (image, or the wave's log-mel spectrogram) above the per-column label
    probabilities, with the text read, saved at ``path``."""
    from rnnkit import plots

    reading = loaded.read(item, options)
    example = reading.example
    if loaded.config.modality == "audio":
        inputs, sizes = collate([example])
        frames, _ = loaded.model.front.logmel(inputs, sizes)
        picture = frames[0].T
    else:
        picture = example.input
    labels = ["_", *loaded.config.alphabet]
    return plots.ctc_columns(path, picture.detach().numpy(), reading.probabilities.numpy(),
                             labels, f"read: {reading.text!r}")


def evaluate(loaded: LoadedCTC, data: str, part: str | None = None,
             read: ReadOptions | None = None, options: DecodeOptions | None = None) -> dict:
    """Scores of the model on ``part`` of ``data``: its own split when ``data`` is what it was
    trained on (part ``test`` by default), a named dataset's part (``test`` by default), or all
    the files of another listing (part ``all``)."""
    saved = base.read_config(loaded.directory, TASK) if loaded.directory else {}
    if part is not None and part not in PARTS:
        raise ConfigError.bad("part", f"must be one of {', '.join(PARTS)}")
    height = loaded.config.height
    if str(data) == str(saved.get("data")):
        parts = read_parts(str(data), ReadOptions.from_dict(saved["read"]), height,
                           saved.get("valid"), saved.get("test"))
        modality, part = parts.modality, part or "test"
        examples = parts.named()[part]
    elif str(data) in NAMED:
        parts = read_parts(str(data), read or ReadOptions(), height)
        modality, part = parts.modality, part or "test"
        examples = parts.named()[part]
    else:
        if part not in (None, "all"):
            raise ConfigError.bad("part", f"{data} is not the data the model was trained on: "
                                          "all of its files are scored (drop part)")
        examples, modality, _ = read_listing(data, height, loaded.config.sample_rate
                                             if loaded.config.modality == "audio" else None)
        part = "all"
    if modality != loaded.config.modality:
        raise ConfigError(f"{data} is {modality} data but the model reads "
                          f"{loaded.config.modality}; give {loaded.config.modality} data", "data")
    if not examples:
        raise ConfigError.bad("part", f"{part} of {data} is empty; choose another part")
    scored = score(loaded.model, examples, options, loaded.lm)
    result = {"data": str(data), "part": part, "examples": len(examples),
              "decoding": (options or DecodeOptions()).method,
              "characters outside the alphabet": outside(examples, loaded.config.alphabet),
              "rnnkit": scored}
    if loaded.directory is not None:
        base.add_evaluation(loaded.directory, f"{Path(str(data)).name}:{part}", result)
    return result
