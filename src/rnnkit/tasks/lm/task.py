"""Language modelling as a training task: contiguous streams, truncated BPTT, bpc/perplexity."""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch
from torch import Tensor
from torch.nn import functional as F

from rnnkit.data.streams import batchify
from rnnkit.errors import DataError
from rnnkit.tasks.lm.model import LanguageModel, detach_state


def metrics_from_loss(loss: float, level: str, chars_per_token: float = 1.0) -> dict[str, float]:
    """Mean nats per token -> bits per character (char level) or perplexity (word level)."""
    if level == "char":
        return {"loss": loss, "bpc": loss / math.log(2) / chars_per_token}
    return {"loss": loss, "ppl": math.exp(min(loss, 50.0))}


@torch.no_grad()
def stream_loss(model: LanguageModel, ids: Tensor, streams: int = 16, bptt: int = 256) -> float:
    """Mean nats per token of ``ids`` read as ``streams`` contiguous streams with carried state."""
    streams = max(1, min(streams, (ids.numel() - 1) // 2))
    if ids.numel() < 4:
        raise DataError(f"the text is too short to evaluate: {ids.numel()} tokens; give at least 4")
    data = batchify(ids, streams)
    was_training = model.training
    model.eval()
    state, total, count = None, 0.0, 0
    for start in range(0, data.size(1) - 1, bptt):
        end = min(start + bptt, data.size(1) - 1)
        logits, state = model(data[:, start:end], state)
        target = data[:, start + 1 : end + 1]
        total += F.cross_entropy(
            logits.reshape(-1, logits.size(-1)), target.reshape(-1), reduction="sum"
        ).item()
        count += target.numel()
    model.train(was_training)
    return total / count


class LMTask:
    """Truncated BPTT over contiguous streams (``mode="carry"``) or full BPTT on random windows.

    ``carry``: the training tokens are cut into ``batch`` streams; batch i is steps
    ``[i*bptt, (i+1)*bptt)`` of every stream; the final state of one batch starts the next
    (detached), and is reset every epoch. ``window``: each batch is ``batch`` windows of
    ``bptt`` tokens at positions drawn from the epoch's seed, each from a zero state.
    """

    def __init__(
        self,
        model: LanguageModel,
        train_ids: Tensor,
        valid_ids: Tensor,
        batch: int,
        bptt: int,
        mode: str = "carry",
        seed: int = 0,
    ) -> None:
        if mode not in ("carry", "window"):
            raise ValueError(f"mode must be carry or window, got {mode!r}")
        need = batch * (bptt + 1)
        if train_ids.numel() < need:
            raise DataError(
                f"the training split has {train_ids.numel()} tokens but one batch needs "
                f"{need} (batch {batch} x (bptt {bptt} + 1)): use more text or lower batch/bptt",
                parameters=("batch", "bptt"),
            )
        if valid_ids.numel() < 4:
            raise DataError(
                f"the validation split has {valid_ids.numel()} tokens, fewer than the 4 needed; "
                "use a longer text or a larger validation fraction (split)",
                parameters=("split",),
            )
        self.model, self.valid_ids, self.batch, self.bptt = model, valid_ids, batch, bptt
        self.mode, self.seed = mode, seed
        self.train_ids = train_ids
        self.streams = batchify(train_ids, batch)  # (B, N)
        self.per_epoch = (self.streams.size(1) - 1) // bptt
        if mode == "window":
            self.per_epoch = max(1, (train_ids.numel() - 1) // (batch * bptt))

    def batches(self, epoch: int, start: int) -> Iterator[Tensor]:
        if self.mode == "carry":
            for i in range(start, self.per_epoch):
                yield self.streams[:, i * self.bptt : (i + 1) * self.bptt + 1]
            return
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        starts = torch.randint(
            0, self.train_ids.numel() - self.bptt - 1, (self.per_epoch, self.batch), generator=g
        )
        offsets = torch.arange(self.bptt + 1)
        for i in range(start, self.per_epoch):
            yield self.train_ids[starts[i].unsqueeze(1) + offsets]

    def initial_carry(self):
        return self.model.initial_state(self.batch) if self.mode == "carry" else None

    def train_loss(self, chunk: Tensor, carry) -> tuple[Tensor, object, int]:
        x, y = chunk[:, :-1], chunk[:, 1:]
        logits, state = self.model(x, carry)
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1))
        carry = detach_state(state) if self.mode == "carry" else None
        return loss, carry, y.numel()

    def evaluate(self) -> dict[str, float]:
        loss = stream_loss(self.model, self.valid_ids)
        return metrics_from_loss(loss, self.model.config.level)
