"""Pieces several experiments share: a real character corpus, a small language model trained
for a fixed number of steps (truncated BPTT, carried state, clipping), its held-out loss, and
matplotlib figures without pyplot.

Experiments train for a fixed number of *steps*, never for a time budget: the numbers (and so
the verdicts) are the same on a fast machine and a slow one; only the minutes differ.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from torch import Tensor, nn

from rnnkit.data.streams import batchify
from rnnkit.errors import DataError
from rnnkit.experiments.base import Context
from rnnkit.layers import build_stack
from rnnkit.tasks.lm.data import Corpus, prepare
from rnnkit.tasks.lm.model import LanguageModel, LMConfig, detach_state
from rnnkit.tasks.lm.task import stream_loss

CORPUS = "shakespeare"


def char_corpus(name: str = CORPUS, train_chars: int | None = None,
                eval_chars: int | None = None) -> Corpus:
    """A registered text (or a file) as characters, cut 90/5/5 into contiguous parts; the
    training part is cut to its first ``train_chars`` characters and the validation and test
    parts to ``eval_chars``, when given (the vocabulary is the whole text's)."""
    corpus = prepare(name, LMConfig(level="char"))
    if train_chars is not None:
        if corpus.train.numel() < train_chars:
            raise DataError(f"{name} has {corpus.train.numel():,} training characters, fewer "
                            f"than the {train_chars:,} the experiment needs")
        corpus.train = corpus.train[:train_chars]
    if eval_chars is not None:
        corpus.valid = corpus.valid[:eval_chars]
        corpus.test = corpus.test[:eval_chars]
    return corpus


def char_model(corpus: Corpus, cell="lstm", hidden: int = 128, layers: int = 1,
               embedding: int = 32, seed: int = 0, dropout: float = 0.0) -> LanguageModel:
    """A character language model (embedding -> rnnkit stack -> linear) with seeded
    weights; ``cell`` is a name or a list of names (a mixed stack); ``dropout`` on the
    embeddings, between layers and before the decoder."""
    torch.manual_seed(seed)
    mixed = not isinstance(cell, str)
    config = LMConfig(level="char", cell=cell[0] if mixed else cell,
                      hidden=hidden, layers=len(cell) if mixed else layers,
                      embedding=embedding, tie=False, vocab_size=len(corpus.vocab),
                      dropout=dropout)
    model = LanguageModel(config)
    if mixed:  # one cell kind per layer
        torch.manual_seed(seed)
        model.rnn = build_stack(list(cell), config.embedding_size, hidden, dropout=dropout)
    return model


def one_pass_chars(steps: int, batch: int, bptt: int) -> int:
    """The training characters that ``steps`` steps of ``batch`` streams x ``bptt`` characters
    read exactly once (each stream holds one more character: the last target)."""
    return batch * (steps * bptt + 1)


def parameters(model) -> int:
    """The number of trainable weights."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


@dataclass
class Run:
    """A training run's record: per step the loss, the gradient norm before clipping, and
    whether clipping changed the gradient; the seconds spent; the number of characters read."""

    losses: list[float] = field(default_factory=list)
    grad_norms: list[float] = field(default_factory=list)
    clipped: list[bool] = field(default_factory=list)
    seconds: float = 0.0
    tokens: int = 0
    diverged_at: int | None = None

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds > 0 else 0.0


def train_lm(model: nn.Module, ids: Tensor, steps: int, context: Context, *, name: str,
             batch: int = 32, bptt: int = 64, lr: float = 3e-3, optimizer: str = "adam",
             clip_norm: float | None = 1.0, clip_value: float | None = None,
             seed: int = 0, stop_on_nan: bool = True, cosine: bool = False) -> Run:
    """Train ``model`` (``ids (B, T) -> (logits, state)``) on the stream ``ids`` for ``steps``
    steps of truncated BPTT (``bptt`` characters, the state carried across segments, ``batch``
    parallel streams, wrapping around at the end). ``optimizer`` is ``adam`` or ``sgd``.
    Clipping by value happens before clipping by norm. A non-finite loss ends the run
    (``Run.diverged_at``) when ``stop_on_nan``. ``cosine`` decays the rate to a tenth along a
    cosine (what rnnkit's language models do)."""
    torch.manual_seed(seed)
    data = batchify(ids, batch)
    segments = max(1, (data.size(1) - 1) // bptt)
    make = torch.optim.Adam if optimizer == "adam" else torch.optim.SGD
    opt = make(model.parameters(), lr=lr)
    decay = (torch.optim.lr_scheduler.LambdaLR(
        opt, lambda k: 0.1 + 0.45 * (1 + math.cos(math.pi * min(k / steps, 1.0))))
        if cosine else None)
    params = [p for p in model.parameters() if p.requires_grad]
    run = Run()
    state = None
    model.train()
    started = time.perf_counter()
    for step in context.steps(steps, name):
        j = step % segments
        if j == 0:
            state = None
        x = data[:, j * bptt:(j + 1) * bptt]
        y = data[:, j * bptt + 1:(j + 1) * bptt + 1]
        logits, state = model(x, state)
        state = detach_state(state)
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        norm = grad_norm(params)
        run.losses.append(loss.item())
        run.grad_norms.append(norm)
        run.tokens += y.numel()
        if not math.isfinite(run.losses[-1]) or not math.isfinite(norm):
            run.diverged_at = step
            if stop_on_nan:
                break
        clipped = False
        if clip_value is not None:
            clipped = any(p.grad is not None and p.grad.abs().max().item() > clip_value
                          for p in params)
            torch.nn.utils.clip_grad_value_(params, clip_value)
        if clip_norm is not None:
            clipped = clipped or norm > clip_norm
            torch.nn.utils.clip_grad_norm_(params, clip_norm)
        run.clipped.append(clipped)
        opt.step()
        if decay is not None:
            decay.step()
        if step % 20 == 0:
            context.status(f"loss {run.losses[-1]:.3f}")
    run.seconds = time.perf_counter() - started
    return run


def grad_norm(params) -> float:
    """The global L2 norm of the parameters' gradients."""
    norms = [p.grad.detach().norm() for p in params if p.grad is not None]
    return torch.stack(norms).norm().item() if norms else 0.0


@torch.no_grad()
def held_out_loss(model: nn.Module, ids: Tensor, streams: int = 8, bptt: int = 128) -> float:
    """Nats per character on ``ids`` (contiguous streams, carried state), in eval mode."""
    return stream_loss(model, ids, streams=streams, bptt=bptt)


def bits(nats: float) -> float:
    """Nats per character -> bits per character."""
    return nats / math.log(2)


@torch.no_grad()
def greedy_text(model: LanguageModel, corpus: Corpus, prompt: str, length: int,
                warmup: int = 2000) -> str:
    """The model's most likely continuation of ``prompt`` (argmax at every step), after
    reading the first ``warmup`` characters of the validation part: a model trained with
    carried state has rarely started from a zero state, and from one it can write nonsense
    (seen here with a 256-unit LSTM after 300 steps at Adam 1e-2)."""
    model.eval()
    ids = torch.cat([corpus.valid[:warmup], corpus.vocab.encode(prompt)])
    logits, state = model(ids.unsqueeze(0))
    out = []
    token = logits[0, -1].argmax()
    for _ in range(length):
        out.append(int(token))
        logits, state = model.step(token.view(1), state)
        token = logits[0].argmax()
    return corpus.vocab.decode(out)


def new_figure(width: float = 7.0, height: float = 4.2, cols: int = 1, rows: int = 1):
    """``(figure, axes)`` of matplotlib's object API (no pyplot, no backend switched)."""
    fig = Figure(figsize=(width, height), dpi=110)
    axes = fig.subplots(rows, cols, squeeze=False)
    return fig, axes


def save(fig: Figure, path) -> None:
    fig.tight_layout()
    fig.savefig(path)
