"""Examples as tensors, the training task (bucketed batches, the CTC loss) and scoring."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor
from torch.nn import functional as F

from rnnkit.data.batching import bucket_batches
from rnnkit.tasks.ctc.decoding import CharLM, DecodeOptions, decode
from rnnkit.tasks.ctc.model import CRNN
from rnnkit.tasks.ctc.scores import text_scores

EVAL_BATCH = 64


@dataclass(frozen=True)
class Example:
    """One input and its text: an image ``(H, W)`` (ink 1 on 0) or a wave ``(N,)``."""

    input: Tensor
    text: str
    name: str = ""

    @property
    def size(self) -> int:
        """Its width (an image) or its samples (a wave): the axis that becomes time."""
        return int(self.input.shape[-1])


def collate(examples: Sequence[Example]) -> tuple[Tensor, Tensor]:
    """``(inputs (B, [H,] max size), sizes (B,))``, right-padded with zeros."""
    sizes = torch.tensor([e.size for e in examples], dtype=torch.long)
    first = examples[0].input
    batch = first.new_zeros((len(examples), *first.shape[:-1], int(sizes.max())))
    for i, e in enumerate(examples):
        batch[i, ..., : e.size] = e.input
    return batch, sizes


def encode_text(text: str, alphabet: str) -> list[int]:
    """Label ids (1-based: 0 is the blank) of the characters of ``text`` in ``alphabet``;
    characters outside it are dropped (the caller counts them)."""
    index = {ch: i + 1 for i, ch in enumerate(alphabet)}
    return [index[ch] for ch in text if ch in index]


def decode_text(ids: Sequence[int], alphabet: str) -> str:
    return "".join(alphabet[i - 1] for i in ids)


def augment_images(images: Tensor, shear: float = 0.3, squeeze: tuple = (0.8, 1.1),
                   shift: float = 2.0, thicken: float = 0.3) -> Tensor:
    """Training images ``(B, H, W)`` with random distortions per image: a shear of up to
    ``shear`` pixels per pixel of height (ink moves sideways by at most ``shear * H / 2``
    pixels, so characters stay in order and in their image), a height scale in ``squeeze``, a
    vertical shift of up to ``shift`` pixels, and with probability ``thicken`` strokes one
    pixel wider. Nothing scales the width, which would change the item's length. Drawn from
    torch's global generator, like dropout (so a resumed run draws the same)."""
    B, H, W = images.shape
    u = torch.rand(B, 4)
    theta = torch.zeros(B, 2, 3)
    theta[:, 0, 0] = 1.0
    theta[:, 0, 1] = (2 * u[:, 0] - 1) * shear * H / W  # x_in = x + s y, in [-1, 1] units
    theta[:, 1, 1] = 1.0 / (squeeze[0] + (squeeze[1] - squeeze[0]) * u[:, 1])
    theta[:, 1, 2] = (2 * u[:, 2] - 1) * shift * 2 / H
    grid = F.affine_grid(theta, [B, 1, H, W], align_corners=False)
    out = F.grid_sample(images.unsqueeze(1), grid, align_corners=False, padding_mode="zeros")
    thick = F.max_pool2d(F.pad(out, (0, 1, 0, 1)), 2, 1)
    out = torch.where((u[:, 3] < thicken).view(B, 1, 1, 1), thick, out)
    return out.squeeze(1)


def ctc_loss(model: CRNN, examples: Sequence[Example], alphabet: str, reduction: str = "mean",
             augment: bool = False) -> tuple[Tensor, int]:
    """The CTC loss of a batch (per item divided by its label length, then averaged, as
    ``torch.nn.CTCLoss`` does with ``reduction='mean'``; ``'sum'`` sums the per-item losses)
    and the number of label characters. ``augment`` distorts images (:func:`augment_images`)."""
    inputs, sizes = collate(examples)
    if augment and inputs.dim() == 3:
        inputs = augment_images(inputs)
    log_probs, lengths = model(inputs, sizes)
    labels = [encode_text(e.text, alphabet) for e in examples]
    targets = torch.tensor([i for label in labels for i in label], dtype=torch.long)
    target_lengths = torch.tensor([len(label) for label in labels], dtype=torch.long)
    loss = F.ctc_loss(log_probs.transpose(0, 1), targets, lengths, target_lengths, blank=0,
                      reduction=reduction, zero_infinity=True)
    return loss, int(target_lengths.sum())


@torch.no_grad()
def transcribe(model: CRNN, examples: Sequence[Example], options: DecodeOptions | None = None,
               lm: CharLM | None = None, batch: int = EVAL_BATCH) -> list[str]:
    """The text the model reads in each example (in their order)."""
    model.eval()
    alphabet = model.config.alphabet
    out: list[str] = [""] * len(examples)
    for pick in bucket_batches([e.size for e in examples], batch, shuffle=False):
        inputs, sizes = collate([examples[i] for i in pick])
        log_probs, lengths = model(inputs, sizes)
        for i, ids in zip(pick, decode(log_probs, lengths, options, lm)):
            out[int(i)] = decode_text(ids, alphabet)
    return out


@torch.no_grad()
def score(model: CRNN, examples: Sequence[Example], options: DecodeOptions | None = None,
          lm: CharLM | None = None) -> dict:
    """CTC loss per label character, CER, WER and whole-string accuracy on ``examples``."""
    model.eval()
    total, chars = 0.0, 0
    for pick in bucket_batches([e.size for e in examples], EVAL_BATCH, shuffle=False):
        loss, n = ctc_loss(model, [examples[i] for i in pick], model.config.alphabet, "sum")
        total, chars = total + float(loss), chars + n
    outputs = transcribe(model, examples, options, lm)
    return {"loss": total / max(1, chars),
            **text_scores(outputs, [e.text for e in examples])}


class CTCTask:
    """The :class:`~rnnkit.train.loop.TrainTask` of CTC: each epoch's training examples
    (composed afresh for the string datasets) in batches bucketed by width, the CTC loss;
    validation: the loss per character (which picks the best weights), CER and accuracy of
    greedy decoding."""

    def __init__(self, model: CRNN, train: Callable[[int], list[Example]],
                 valid: list[Example], seed: int = 0) -> None:
        self.model, self.train, self.valid, self.seed = model, train, valid, seed
        self._epoch: tuple[int, list[Example]] | None = None

    def examples(self, epoch: int) -> list[Example]:
        if self._epoch is None or self._epoch[0] != epoch:
            self._epoch = (epoch, self.train(epoch))
        return self._epoch[1]

    def batches(self, epoch: int, start: int) -> Iterator:
        examples = self.examples(epoch)
        order = bucket_batches([e.size for e in examples], self.model.config.batch,
                               shuffle=True, seed=self.seed * 100_003 + epoch)
        for pick in order[start:]:
            yield [examples[i] for i in pick]

    def initial_carry(self):
        return None

    def train_loss(self, batch, carry):
        loss, chars = ctc_loss(self.model, batch, self.model.config.alphabet,
                               augment=self.model.config.augment)
        return loss, None, chars

    def evaluate(self) -> dict[str, float]:
        metrics = score(self.model, self.valid)
        return {k: metrics[k] for k in ("loss", "cer", "exact")}
