"""Language models, the Python API the ``rnnkit lm`` commands mirror.

``fit`` trains into a model directory; ``load`` opens one; ``evaluate``, ``generate`` and
``predict`` use it. The vocabulary is built from the whole corpus (as nanoGPT and char-rnn do;
at word level ``max_vocab`` caps it and the rest become ``<unk>``); the token stream is then cut
into contiguous train/validation/test parts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from rnnkit.baselines.ngram import KneserNey
from rnnkit.data.registry import resolve_text
from rnnkit.data.streams import split_stream
from rnnkit.data.vocab import Vocabulary
from rnnkit.decode.sampling import check_sampling, sample_next
from rnnkit.errors import ConfigError, DataError
from rnnkit.tasks.lm_model import LanguageModel, LMConfig, default_train_config
from rnnkit.tasks.lm_task import LMTask, metrics_from_loss, stream_loss
from rnnkit.train import checkpoint as ckpt
from rnnkit.train.logs import write_csv
from rnnkit.train.loop import TrainConfig, Trainer, TrainState


@dataclass
class Corpus:
    """A corpus as token ids, split, with the vocabulary that encodes it."""

    vocab: Vocabulary
    train: torch.Tensor
    valid: torch.Tensor
    test: torch.Tensor
    chars_per_token: float


def prepare(
    data: str, config: LMConfig, split=(0.9, 0.05, 0.05), encoding: str = "utf-8"
) -> Corpus:
    text = resolve_text(data, encoding)
    vocab = Vocabulary.build(
        text, level=config.level, lower=config.lower, max_size=config.max_vocab or None
    )
    ids = vocab.encode(text)
    train, valid, test = split_stream(ids, split)
    return Corpus(vocab, train, valid, test, len(text) / max(1, ids.numel()))


@dataclass
class LoadedLM:
    model: LanguageModel
    vocab: Vocabulary
    config: LMConfig
    directory: Path


def load(directory: str | Path) -> LoadedLM:
    directory = Path(directory)
    if not directory.is_dir():
        raise ckpt.CheckpointError(
            f"no model directory at {directory}; train one with rnnkit lm train"
        )
    saved = ckpt.read_json(directory / ckpt.CONFIG)
    task = saved.get("task") if isinstance(saved, dict) else None
    if task != "lm":
        raise ckpt.CheckpointError(
            f"{directory}/config.json describes a {task!r} model, not a language model; "
            "give a directory written by rnnkit lm train"
        )
    try:
        config = LMConfig.from_dict(saved["model"])
    except (KeyError, TypeError, AttributeError) as bad:
        raise ckpt.CheckpointError(
            f"{directory}/config.json is damaged (model settings: {bad!r}); retrain or restore it"
        ) from None
    vocab = Vocabulary.from_dict(saved.get("vocabulary") or {})
    model = LanguageModel(config)
    ckpt.load_weights(model, directory / ckpt.WEIGHTS)
    model.eval()
    return LoadedLM(model, vocab, config, directory)


def save(lm: LoadedLM, directory: str | Path) -> Path:
    """Write ``lm`` as a model directory (``config.json`` + ``model.safetensors``) that
    :func:`load` and every ``rnnkit lm`` command read."""
    directory = Path(directory)
    saved = {}
    if (lm.directory / ckpt.CONFIG).is_file():
        saved = ckpt.read_json(lm.directory / ckpt.CONFIG)
    saved.update({"task": "lm", "model": lm.config.to_dict(), "vocabulary": lm.vocab.to_dict()})
    ckpt.write_json(directory / ckpt.CONFIG, saved)
    ckpt.write_tensors(directory / ckpt.WEIGHTS, lm.model.state_dict())
    return directory


def fit(
    data: str | None,
    out: str | Path,
    model_config: LMConfig | None = None,
    train_config: TrainConfig | None = None,
    *,
    split=(0.9, 0.05, 0.05),
    encoding: str = "utf-8",
    mode: str = "carry",
    resume: bool = False,
    baseline: bool = True,
    callback: Callable[[str, dict], bool | None] | None = None,
) -> dict:
    """Train a language model on ``data`` (a dataset name or a file) into the directory ``out``.

    Returns the metrics also written to ``out/metrics.json``. With ``resume=True`` the model,
    split and options come from ``out/config.json`` (``train_config`` may extend the budget).
    """
    out = Path(out)
    if resume:
        saved = ckpt.read_json(out / ckpt.CONFIG)
        if data is not None and str(data) != saved.get("data"):
            raise ConfigError(
                f"{out} was trained on {saved.get('data')!r}, not {str(data)!r}: --resume "
                "continues with the saved data and model (drop --data, or use a new --out)"
            )
        model_config = LMConfig.from_dict(saved["model"])
        stored = TrainConfig(**saved["train"])
        if train_config is not None:
            stored.steps, stored.time = train_config.steps, train_config.time
        train_config, split, mode = stored, tuple(saved["split"]), saved["mode"]
        data, encoding = saved["data"], saved["encoding"]
    model_config = model_config or LMConfig()
    train_config = train_config or default_train_config()
    model_config.check()
    train_config.check()
    corpus = prepare(data, model_config, split, encoding)
    model_config.vocab_size = len(corpus.vocab)
    torch.manual_seed(train_config.seed)
    model = LanguageModel(model_config)
    task = LMTask(
        model,
        corpus.train,
        corpus.valid,
        model_config.batch,
        model_config.bptt,
        mode,
        train_config.seed,
    )
    if not resume:
        out.mkdir(parents=True, exist_ok=True)
        ckpt.write_json(
            out / ckpt.CONFIG,
            {
                "task": "lm",
                "data": str(data),
                "encoding": encoding,
                "split": list(split),
                "mode": mode,
                "model": model_config.to_dict(),
                "train": asdict(train_config),
                "vocabulary": corpus.vocab.to_dict(),
            },
        )
    trainer = Trainer(task, train_config, out, callback)
    state = trainer.run(resume=resume)
    return summarise(out, corpus, model, state, baseline)


def summarise(
    out: Path, corpus: Corpus, model: LanguageModel, state: TrainState, baseline: bool
) -> dict:
    """Score the best weights on validation and test, beside the n-gram baseline; write reports."""
    config = model.config
    ckpt.load_weights(model, out / ckpt.WEIGHTS)
    valid = metrics_from_loss(
        stream_loss(model, corpus.valid), config.level, corpus.chars_per_token
    )
    test = None
    if corpus.test.numel() >= 4:
        test_loss = stream_loss(model, corpus.test)
        test = metrics_from_loss(test_loss, config.level, corpus.chars_per_token)
    per_epoch = LMTask(model, corpus.train, corpus.valid, config.batch, config.bptt).per_epoch
    metrics = {
        "task": "lm",
        "level": config.level,
        "status": state.status,
        "steps": state.step,
        "epochs": round(state.epoch + state.batch / per_epoch, 3),
        "train_seconds": round(state.elapsed, 2),
        "tokens_per_second": round(state.tokens / max(state.step_seconds, 1e-9)),
        "clipped_fraction": state.clipped_steps / max(1, state.step),
        "parameters": sum(p.numel() for p in model.parameters()),
        "best_step": state.best_step,
        "valid": valid,
        "test": test,
        "vocabulary": len(corpus.vocab),
    }
    if baseline:
        metrics["baseline"] = ngram_baseline(corpus, config.level)
    ckpt.write_json(out / "metrics.json", metrics)
    write_csv(state.history, out / "metrics.csv")
    from rnnkit import plots  # matplotlib costs a second to import: only when plotting

    best = metrics.get("baseline", {}).get("best")
    plots.training_curves(
        state.history,
        out / "curves.png",
        f"{config.cell} {config.level}-level LM",
        "loss",
        baseline=best["loss"] if best else None,
        baseline_label=f"{best['order']}-gram Kneser-Ney" if best else "",
    )
    return metrics


def ngram_baseline(
    corpus: Corpus, level: str, orders=(1, 2, 3, 4, 5), sample_length: int = 0
) -> dict:
    """Kneser-Ney n-grams on the same split and tokens: validation loss and bpc/perplexity.

    With ``sample_length``, each order also writes greedily from the start of the validation
    text: the unigram model can only repeat its most frequent token ("the the the").
    """
    train, valid = corpus.train.numpy(), corpus.valid.numpy()
    prompt = valid[:8].tolist()
    rows = []
    for order in orders:
        started = time.perf_counter()
        model = KneserNey(order).fit(train, len(corpus.vocab))
        row = {
            "order": order,
            **metrics_from_loss(model.evaluate(valid), level, corpus.chars_per_token),
            "seconds": round(time.perf_counter() - started, 2),
        }
        if sample_length:
            row["prompt"] = corpus.vocab.decode(prompt)
            row["greedy"] = corpus.vocab.decode(prompt + model.greedy(prompt, sample_length))[
                len(row["prompt"]) :
            ]
        rows.append(row)
    return {"orders": rows, "best": min(rows, key=lambda r: r["loss"])}


def evaluate(lm: LoadedLM, text: str) -> dict:
    """Loss in nats per token and bits per character (char) or perplexity (word) on ``text``."""
    ids = lm.vocab.encode(text)
    if ids.numel() < 4:
        raise DataError(f"the text has {ids.numel()} tokens; give at least 4 to evaluate")
    loss = stream_loss(lm.model, ids)
    return {
        **metrics_from_loss(loss, lm.config.level, len(text) / ids.numel()),
        "tokens": ids.numel(),
    }


def _prompt_state(lm: LoadedLM, prompt: str):
    """Read the whole prompt in one pass: the logits after it, the state, and its last token id."""
    ids = lm.vocab.encode(prompt) if prompt else torch.zeros(0, dtype=torch.long)
    eos = lm.vocab.eos_id
    if ids.numel() and eos is not None and int(ids[-1]) == eos and not prompt.endswith("\n"):
        ids = ids[:-1]  # the word tokenizer ends every text with <eos>; a prompt goes on
    last = int(ids[-1]) if ids.numel() else None
    if ids.numel() == 0:
        # no prompt: start after a line end, the most neutral context a corpus has
        start = lm.vocab.eos_id if lm.vocab.eos_id is not None else lm.vocab.index.get("\n", 0)
        ids = torch.tensor([start])
    with torch.no_grad():
        logits, state = lm.model(ids.unsqueeze(0))
    return logits[0, -1:], state, last


def generate(
    lm: LoadedLM,
    prompt: str = "",
    length: int = 200,
    temperature: float = 1.0,
    top_k: int = 0,
    top_p: float = 1.0,
    seed: int | None = None,
) -> Iterator[str]:
    """The text each new token adds, yielded as it is made (temperature 0 = greedy).

    Options and the prompt are checked before this returns, so nothing is printed in vain.
    """
    if length < 0:
        raise ConfigError(f"--length must be >= 0, got {length}")
    check_sampling(temperature, top_k, top_p)
    generator = torch.Generator().manual_seed(seed) if seed is not None else None
    logits, state, previous = _prompt_state(lm, prompt)

    def pieces() -> Iterator[str]:
        nonlocal logits, state, previous
        for _ in range(length):
            token = sample_next(logits, temperature, top_k, top_p, generator)
            current = int(token)
            yield lm.vocab.decode_next(previous, current)
            previous = current
            logits, state = lm.model.step(token, state)

    return pieces()


def predict(lm: LoadedLM, prompt: str, top: int = 5) -> list[tuple[str, float]]:
    """The ``top`` most likely next tokens after ``prompt`` with their probabilities."""
    if top <= 0:
        raise ConfigError(f"--top must be positive, got {top}")
    logits, _, _ = _prompt_state(lm, prompt)
    probs = logits[0].softmax(-1)
    values, ids = probs.topk(min(top, probs.numel()))
    return [(lm.vocab.tokens[i], v) for i, v in zip(ids.tolist(), values.tolist())]
