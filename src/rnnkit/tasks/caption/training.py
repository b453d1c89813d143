"""Training a captioner into a directory and scoring it (validation: greedy; test: greedy and
beam search, which takes minutes on 1,000 images) beside its baseline: the same network without
attention (the context-vector model: the decoder sees only the mean of the image's memory),
trained on the same split with the same budget."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import torch

from rnnkit.errors import ConfigError, DataError
from rnnkit.tasks import base
from rnnkit.tasks.caption.loaded import TASK, LoadedCaptioner
from rnnkit.tasks.caption.model import CaptionConfig, Captioner
from rnnkit.tasks.caption.task import CaptionTask, build_vocab, caption_scores, encode, to_words
from rnnkit.tasks.ctc.parts import Parts, ReadOptions, read_parts
from rnnkit.tasks.ctc.task import Example
from rnnkit.tasks.seq2seq.decoding import DecodeOptions
from rnnkit.tasks.seq2seq.task import teacher_forced
from rnnkit.tasks.seq2seq.tokens import Vocab
from rnnkit.train.loop import TrainConfig

PARTS = ("train", "valid", "test")
DATASETS = ("mnist-strings", "digits-strings")
BASELINE = "context-vector"  # the baseline's name in metrics.json and under baselines/
BASELINE_SHARE = 0.5  # of the budget: the baseline trains as long as the model
BEAM = 4  # the beam scored beside greedy decoding


def default_train_config() -> TrainConfig:
    return TrainConfig(time=600.0, lr=2e-3, eval_every=200, checkpoint_every=200)


def _share(train_config: TrainConfig, share: float) -> TrainConfig:
    steps = max(1, round(train_config.steps * share)) if train_config.steps else None
    time = train_config.time * share if train_config.time else None  # a budget, or a cap
    return dataclasses.replace(train_config, steps=steps, time=time,
                               warmup=min(train_config.warmup, max(1, (steps or 10**9) // 10)))


def _parts(data: str, read: ReadOptions, height: int, valid: str | None, test: str | None
           ) -> Parts:
    parts = read_parts(str(data), read, height, valid, test)
    if parts.modality != "image":
        raise DataError(f"{data} is {parts.modality} data; the captioner reads images: give "
                        f"{' or '.join(DATASETS)} or a listing of image files")
    return parts


def fit(data: str | None, out: str | Path, config: CaptionConfig | None = None,
        train_config: TrainConfig | None = None, *, read: ReadOptions | None = None,
        valid: str | None = None, test: str | None = None, baseline: bool = True,
        callback: base.Callback | None = None, progress=None, resume: bool = False,
        force: bool = False) -> dict:
    """Train a captioner on ``data`` (``mnist-strings``, ``digits-strings`` or a CSV listing of
    ``file,text`` images) into ``out``; return the metrics also written to ``out/metrics.json``.
    With ``baseline`` the budget is split evenly between the model and the context-vector
    baseline (written to ``out/baselines/context-vector``, a model directory too).
    ``progress(name, train_config)``, when given, makes the callback of each run."""
    out = Path(out)
    saved = None
    if resume:
        saved = base.resume_settings(out, TASK, data)
        data, valid, test = saved["data"], saved["valid"], saved["test"]
        read = ReadOptions.from_dict(saved["read"])
        config = CaptionConfig.from_dict(saved["model"])
        baseline = False
        train_config = base.resumed_train_config(saved, train_config)
    elif data is None:
        raise ConfigError(f"data is missing: give {', '.join(DATASETS)} or a CSV listing of "
                          "file,text images", "data")
    config = dataclasses.replace(config) if config is not None else CaptionConfig()
    config.check()
    train_config = train_config or default_train_config()
    train_config.check()
    read = read or ReadOptions(seed=train_config.seed)
    parts = _parts(str(data), read, config.height, valid, test)
    first = parts.train(0)
    vocab = (build_vocab([to_words(e.text) for e in first]) if saved is None
             else Vocab.from_dict(saved["vocab"]))
    config.tgt_vocab = len(vocab)
    encoded = lambda examples: encode([e.input for e in examples],  # noqa: E731
                                      [to_words(e.text) for e in examples], vocab,
                                      config.max_length)
    train_first = encoded(first)
    compose = lambda epoch: train_first if epoch == 0 else encoded(parts.train(epoch))  # noqa: E731
    held = encoded(parts.valid)
    _check_widths(first + parts.valid, config)
    main_config = (_share(train_config, 1 - BASELINE_SHARE) if baseline and saved is None
                   else train_config)
    torch.manual_seed(train_config.seed)
    model = Captioner(config)
    with base.claim(out, resume, force):
        sizes = {"train": len(first), "valid": len(parts.valid), "test": len(parts.test)}
        if saved is None:
            base.write_config(out, TASK, {
                "model": config.to_dict(), "vocab": vocab.to_dict(), "data": str(data),
                "valid": valid, "test": test, "read": read.to_dict(),
                "train": dataclasses.asdict(main_config), "sizes": sizes,
                "baseline": BASELINE if baseline else None})
        task = CaptionTask(model, compose, held, vocab, train_config.seed)
        if progress is not None:
            callback = progress("rnnkit", main_config)
        state = base.train(task, main_config, out, callback, resume, progress_hook=True)
        loaded = LoadedCaptioner(model, config, vocab, out)
        notes = dict(parts.notes, **{"training captions cut to max_length": train_first.cut,
                                     "validation words unknown": held.unknown})
        metrics = {"task": TASK, "data": parts.source, "split": parts.split, "sizes": sizes,
                   **base.run_summary(state, model), "epochs": state.epoch, "notes": notes,
                   "model": describe(config), "vocabulary": len(vocab),
                   "valid": score_systems(loaded, parts.valid, beam=False),
                   "test": score_systems(loaded, parts.test)}
        base.write_metrics(out, metrics)
        if baseline and saved is None:
            trained = _train_baseline(config, train_config, vocab, parts, compose, held,
                                      out / "baselines" / BASELINE, progress)
            metrics["valid"].update(score_systems(trained, parts.valid, BASELINE, False))
            metrics["test"].update(score_systems(trained, parts.test, BASELINE))
            metrics["baseline"] = {"name": BASELINE, "model": describe(trained.config),
                                   "budget": "the same as the model's"}
            base.write_metrics(out, metrics)
        _pictures(loaded, parts, state.history, out)
        return metrics


def _check_widths(examples: Sequence[Example], config: CaptionConfig) -> None:
    """Refuse images too narrow to give a single column after the front end."""
    narrowest = 1
    for _, pw in config.blocks()[1]:
        narrowest *= pw
    for e in examples:
        if e.size < narrowest:
            where = f"{e.name}: " if e.name else ""
            raise DataError(f"{where}an image {e.size} pixels wide gives no column after the "
                            f"front end (it needs {narrowest}); give wider images or pool less")


def _train_baseline(config: CaptionConfig, train_config: TrainConfig, vocab, parts: Parts,
                    compose, held, out: Path, progress) -> LoadedCaptioner:
    bconfig = dataclasses.replace(config, attention="none")
    budget = _share(train_config, BASELINE_SHARE)
    torch.manual_seed(train_config.seed)
    model = Captioner(bconfig)
    with base.claim(out, False, True):
        base.write_config(out, TASK, {"model": bconfig.to_dict(), "vocab": vocab.to_dict(),
                                      "data": parts.source, "train": dataclasses.asdict(budget),
                                      "baseline": BASELINE})
        task = CaptionTask(model, compose, held, vocab, train_config.seed)
        base.train(task, budget, out, progress(BASELINE, budget) if progress else None,
                   progress_hook=True)
    return LoadedCaptioner(model, bconfig, vocab, out)


def describe(c: CaptionConfig) -> str:
    front = f"image front end {'-'.join(map(str, c.blocks()[0]))}"
    encoder = (f", bidirectional {c.cell} {c.encoder_layers}x{c.hidden} encoder"
               if c.encoder_layers else "")
    attention = ("no attention (the context vector)" if c.attention == "none"
                 else f"attention {c.attention}")
    return f"{front}{encoder}, {c.cell} {c.layers}x{c.hidden} decoder, {attention}"


@torch.no_grad()
def score(loaded: LoadedCaptioner, examples: Sequence[Example],
          options: DecodeOptions | None = None) -> dict:
    """BLEU, word accuracy, exact match, WER and chrF of the captions of ``examples`` (decoded
    as ``options`` say, greedy by default), and the teacher-forced loss, perplexity and word
    accuracy given the true previous words (``token_accuracy``)."""
    references = [to_words(e.text) for e in examples]
    outputs = loaded.predict([e.input for e in examples], options)
    data = encode([e.input for e in examples], references, loaded.vocab,
                  loaded.config.max_length)
    forced = teacher_forced(loaded.model, data, loaded.vocab.bos)
    return {**caption_scores(outputs, references), **forced,
            "decoding": (options or DecodeOptions()).method + (f" {options.beam}" if options
                                                               and options.beam > 1 else ""),
            "examples": [{"reference": r, "output": o}
                         for r, o in list(zip(references, outputs))[:5]]}


def score_systems(loaded: LoadedCaptioner, examples: Sequence[Example], name: str = "rnnkit",
                  beam: bool = True) -> dict:
    """``name`` scored with greedy decoding and (``beam``) with beam search (``BEAM``)."""
    if not examples:
        return {}
    scores = {name: score(loaded, examples)}
    if beam:
        scores[f"{name} beam {BEAM}"] = score(loaded, examples, DecodeOptions(beam=BEAM))
    return scores


def _pictures(loaded: LoadedCaptioner, parts: Parts, history: list[dict], out: Path) -> None:
    from rnnkit import plots

    plots.training_curves(history, out / "curves.png", f"captioning {parts.source}")
    if loaded.config.attention != "none":
        shown = (parts.test or parts.valid)[0]
        explain_picture(loaded.caption([shown.input], attention=True)[0], out / "attention.png",
                        f"attention ({loaded.config.attention}); truth: {to_words(shown.text)}")


def explain_picture(caption, path: Path, title: str) -> Path:
    """The attention of each written word (rows) over the image's memory columns (numbered
    from the left; each is ``prod(width pools)`` pixels of the image), saved at ``path``."""
    from rnnkit import plots

    if caption.attention is None:
        raise ConfigError("this model has no attention (attention none): no map to draw")
    weights = caption.attention.numpy()
    source = [str(i) for i in range(weights.shape[1])]
    return plots.attention_map(path, source, caption.words, weights, title)


def evaluate(loaded: LoadedCaptioner, data: str, part: str | None = None,
             read: ReadOptions | None = None, options: DecodeOptions | None = None) -> dict:
    """Scores of the model (and of its baseline, when its directory holds one) on ``part`` of
    ``data``: its own split when ``data`` is what it was trained on (part ``test`` by default),
    else the test part of a named dataset or all of a listing."""
    saved = base.read_config(loaded.directory, TASK) if loaded.directory else {}
    same = str(data) == str(saved.get("data"))
    if part is not None and part not in PARTS:
        raise ConfigError.bad("part", f"must be one of {', '.join(PARTS)}")
    read = ReadOptions.from_dict(saved["read"]) if same else (read or ReadOptions())
    parts = _parts(str(data), read, loaded.config.height,
                   saved.get("valid") if same else None, saved.get("test") if same else None)
    part = part or "test"
    chosen = {"valid": parts.valid, "test": parts.test}  # train: composed only if asked
    examples = (chosen[part] if part in chosen else parts.train(0)) or parts.valid
    result = {"data": parts.source, "part": part, "examples": len(examples),
              "rnnkit": score(loaded, examples, options)}
    folder = loaded.directory / "baselines" / BASELINE if loaded.directory else None
    if folder is not None and (folder / base.WEIGHTS).is_file():
        from rnnkit.tasks.caption.loaded import load

        result[BASELINE] = score(load(folder), examples, options)
    if loaded.directory is not None:
        base.add_evaluation(loaded.directory, f"{Path(str(data)).name}:{part}", result)
    return result
