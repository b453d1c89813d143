"""Training a seq2seq model into a directory, then scoring it beside the copy and
nearest-neighbour baselines; and ``evaluate``, the same scores on other data."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch

from rnnkit.errors import ConfigError, RnnkitError
from rnnkit.tasks import base
from rnnkit.tasks.seq2seq.baselines import NearestNeighbour, copy_source
from rnnkit.tasks.seq2seq.data import read_pairs
from rnnkit.tasks.seq2seq.decoding import DecodeOptions
from rnnkit.tasks.seq2seq.loaded import TASK, LoadedSeq2Seq
from rnnkit.tasks.seq2seq.model import Seq2Seq, Seq2SeqConfig
from rnnkit.tasks.seq2seq.parts import Pair, Parts, ReadOptions, read_parts
from rnnkit.tasks.seq2seq.scores import text_scores
from rnnkit.tasks.seq2seq.task import Encoded, Seq2SeqTask, teacher_forced
from rnnkit.tasks.seq2seq.tokens import Tokeniser, Vocab
from rnnkit.train.loop import TrainConfig

PARTS = ("train", "valid", "test", "all")


def default_train_config() -> TrainConfig:
    return TrainConfig(time=600.0, lr=3e-3, eval_every=250, checkpoint_every=250)


def _vocabularies(config: Seq2SeqConfig, tokeniser: Tokeniser, train: list[Pair]
                  ) -> tuple[Vocab, Vocab]:
    size = config.vocab_size if config.level == "word" else 0
    count = config.min_count if config.level == "word" else 1
    sources = [tokeniser.split(s) for s, _ in train]
    targets = [tokeniser.split(t) for _, t in train]
    if config.share_embeddings:
        joint = Vocab.build(sources + targets, size, count)
        return joint, joint
    return Vocab.build(sources, size, count), Vocab.build(targets, size, count)


def fit(data: str | None, out: str | Path, config: Seq2SeqConfig | None = None,
        train_config: TrainConfig | None = None, *, read: ReadOptions | None = None,
        valid: str | None = None, test: str | None = None, callback: base.Callback | None = None,
        resume: bool = False, force: bool = False) -> dict:
    """Train an encoder-decoder on the pairs of ``data`` (a synthetic task, ``bible-en-es`` or
    a pairs file) into ``out``; return the metrics also written to ``out/metrics.json``:
    ``rnnkit``, ``copy`` and ``nearest`` (TF-IDF retrieval), each with BLEU, chrF and exact
    match on the validation and test parts (greedy decoding). ``resume=True`` continues the
    run saved in ``out`` with its own data, split, tokens and model."""
    out = Path(out)
    saved = None
    if resume:
        saved = base.resume_settings(out, TASK, data)
        data, valid, test = saved["data"], saved["valid"], saved["test"]
        read = ReadOptions.from_dict(saved["read"])
        config = Seq2SeqConfig.from_dict(saved["model"])
        train_config = base.resumed_train_config(saved, train_config)
    elif data is None:
        raise ConfigError("data is missing: give a pairs file, bible-en-es, or a synthetic "
                          "task (addition, reverse, sort)", "data")
    config = dataclasses.replace(config) if config is not None else Seq2SeqConfig()
    config.check()
    train_config = train_config or default_train_config()
    train_config.check()
    read = read or ReadOptions(seed=train_config.seed)
    parts = read_parts(str(data), read, valid, test)
    if saved is not None:
        tokeniser = Tokeniser.from_dict(saved["tokeniser"], out)
        src_vocab, tgt_vocab = Vocab.from_dict(saved["src_vocab"]), Vocab.from_dict(
            saved["tgt_vocab"])
    else:
        texts = [s for s, _ in parts.train] + [t for _, t in parts.train]
        tokeniser = Tokeniser.train(config.level, texts, config.vocab_size, config.subword)
        src_vocab, tgt_vocab = _vocabularies(config, tokeniser, parts.train)
    config.src_vocab, config.tgt_vocab = len(src_vocab), len(tgt_vocab)
    torch.manual_seed(train_config.seed)
    model = Seq2Seq(config)
    encode = lambda pairs: Encoded.build(pairs, tokeniser, src_vocab, tgt_vocab,  # noqa: E731
                                         config.max_length)
    train, held = encode(parts.train), encode(parts.valid)
    with base.claim(out, resume, force):
        sizes = {name: len(pairs) for name, pairs in parts.named().items()}
        if saved is None:
            base.write_config(out, TASK, {
                "model": config.to_dict(), "tokeniser": tokeniser.to_dict(),
                "src_vocab": src_vocab.to_dict(), "tgt_vocab": tgt_vocab.to_dict(),
                "data": str(data), "valid": valid, "test": test, "read": read.to_dict(),
                "train": dataclasses.asdict(train_config), "sizes": sizes})
            tokeniser.save(out)
        task = Seq2SeqTask(model, train, held, src_vocab, tgt_vocab, train_config.seed)
        state = base.train(task, train_config, out, callback, resume, progress_hook=True)
        loaded = LoadedSeq2Seq(model, config, tokeniser, src_vocab, tgt_vocab, out)
        notes = dict(parts.notes, **{"training tokens unknown": train.unknown,
                                     "training sides cut to max_length": train.cut})
        metrics = {"task": TASK, "data": parts.source, "split": parts.split, "sizes": sizes,
                   **base.run_summary(state, model), "epochs": state.epoch,
                   "notes": notes, "model": _describe(config),
                   "vocabulary": {"source": len(src_vocab), "target": len(tgt_vocab)},
                   "teacher": {"schedule": config.teacher_schedule, "floor": config.teacher,
                               "final": task.ratio()}}
        metrics.update(score_parts(loaded, parts, ("valid", "test")))
        base.write_metrics(out, metrics)
        _pictures(loaded, parts, state.history, out)
        return metrics


def _describe(c: Seq2SeqConfig) -> str:
    encoder = f"{'bidirectional ' if c.bidirectional else ''}{c.cell} {c.layers}x{c.hidden}"
    feeding = ", input feeding" if c.attention != "none" and c.input_feeding else ""
    return f"{encoder}, attention {c.attention}{feeding}, {c.level} tokens"


def score_parts(loaded: LoadedSeq2Seq, parts: Parts, names, options: DecodeOptions | None = None
                ) -> dict:
    """``rnnkit``, ``copy`` and ``nearest`` scores (and teacher-forced loss, perplexity and
    token accuracy for rnnkit) on the parts ``names`` that hold pairs."""
    nearest = NearestNeighbour().fit(parts.train)
    result: dict = {"rnnkit": {}, "copy": {}, "nearest": {}}
    for name in names:
        pairs = parts.named()[name]
        if not pairs:
            continue
        sources = [s for s, _ in pairs]
        references = [t for _, t in pairs]
        outputs = loaded.predict(sources, options)
        encoded = Encoded.build(pairs, loaded.tokeniser, loaded.src_vocab, loaded.tgt_vocab,
                                loaded.config.max_length)
        forced = teacher_forced(loaded.model, encoded, loaded.tgt_vocab.bos)
        result["rnnkit"][name] = {**text_scores(outputs, references), **forced,
                                  "decoding": (options or DecodeOptions()).method,
                                  "examples": [{"source": s, "target": t, "output": o}
                                               for s, t, o in list(zip(sources, references,
                                                                       outputs))[:5]]}
        result["copy"][name] = text_scores(copy_source(sources), references)
        result["nearest"][name] = text_scores(nearest.predict(sources), references)
    return result


def _pictures(loaded: LoadedSeq2Seq, parts: Parts, history: list[dict], out: Path) -> None:
    from rnnkit import plots

    plots.training_curves(history, out / "curves.png", f"seq2seq on {parts.source}")
    pairs = parts.test or parts.valid
    if loaded.config.attention != "none" and pairs:
        shown = loaded.translate([pairs[0][0]], attention=True)[0]
        plots.attention_map(out / "attention.png", shown.source_tokens, shown.tokens,
                            shown.attention.numpy(), f"attention ({loaded.config.attention})")


def evaluate(loaded: LoadedSeq2Seq, data: str, part: str | None = None,
             read: ReadOptions | None = None, valid: str | None = None,
             options: DecodeOptions | None = None) -> dict:
    """Scores (BLEU, chrF, exact match; teacher-forced loss) of the model and the baselines
    on ``part`` of ``data``. On the data the model was trained on, its own split is used (part
    ``test`` by default); on other data, all of its pairs (part ``all``)."""
    saved = base.read_config(loaded.directory, TASK) if loaded.directory else {}
    same = str(data) == str(saved.get("data"))
    if same:
        read = ReadOptions.from_dict(saved["read"])
        parts = read_parts(str(data), read, saved.get("valid"), saved.get("test"))
        part = part or "test"
    else:
        read = read or ReadOptions()
        pairs, skipped = read_pairs(data, read.src_col, read.tgt_col, read.encoding)
        if part not in (None, "all"):
            raise ConfigError.bad("part", f"{data} is not the data the model was trained on: "
                                          "only all of it can be scored (drop part)")
        part = "all"
        parts = Parts(pairs, [], [], str(data), "all", skipped)
        if saved.get("data"):
            try:  # the retrieval baseline needs training pairs: the model's own
                parts.train = read_parts(saved["data"], ReadOptions.from_dict(saved["read"]),
                                         saved.get("valid"), saved.get("test")).train
            except RnnkitError:  # the training data is gone: retrieval from the data itself
                parts.train = pairs
        parts.valid = pairs
    if part not in PARTS:
        raise ConfigError.bad("part", f"must be one of {', '.join(PARTS)}")
    name = "valid" if part == "all" else part
    report = score_parts(loaded, parts, (name,), options)
    result = {"data": parts.source, "part": part, "pairs": len(parts.named()[name]),
              **{system: scores[name] for system, scores in report.items() if name in scores}}
    if loaded.directory is not None:
        base.add_evaluation(loaded.directory, f"{Path(str(data)).name}:{part}", result)
    return result


def explain_picture(translation, path: Path, kind: str) -> Path:
    """The attention heatmap of one :class:`~rnnkit.tasks.seq2seq.loaded.Translation` (made
    with ``attention=True``), saved at ``path``."""
    from rnnkit import plots

    if translation.attention is None:
        raise ConfigError("this model has no attention (attention none): no heatmap to draw")
    return plots.attention_map(path, translation.source_tokens, translation.tokens,
                               translation.attention.numpy(), f"attention ({kind})")
