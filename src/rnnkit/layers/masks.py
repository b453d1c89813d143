"""Which steps of a padded batch are real: lengths and masks, checked and normalised."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class Steps:
    """The real steps of a ``(B, T)`` batch.

    ``mask`` is ``(B, T)`` bool (True = real step); ``lengths`` ``(B,)`` counts real steps;
    ``starts`` ``(B,)`` is each row's first real step. ``contiguous`` is True when every row's
    real steps form one block (right or left padding), which the native kernels can run.
    """

    mask: Tensor
    lengths: Tensor
    starts: Tensor
    contiguous: bool

    @property
    def right_padded(self) -> bool:
        return self.contiguous and not bool(self.starts.any())


def lengths_to_mask(lengths: Tensor, total: int) -> Tensor:
    """``(B,)`` lengths -> ``(B, total)`` right-padded boolean mask."""
    return torch.arange(total, device=lengths.device) < lengths.unsqueeze(1)


def resolve_steps(
    batch: int, total: int, lengths: Tensor | None, mask: Tensor | None, device: torch.device
) -> Steps | None:
    """Check ``lengths`` or ``mask`` for a ``(batch, total)`` input; None if every step is real."""
    if lengths is not None and mask is not None:
        raise ValueError("give lengths or mask, not both")
    if lengths is not None:
        lengths = torch.as_tensor(lengths)
        if lengths.dim() != 1 or lengths.size(0) != batch:
            raise ValueError(
                f"lengths must have shape ({batch},) (one per batch row), "
                f"got {tuple(lengths.shape)}"
            )
        if lengths.dtype.is_floating_point or lengths.dtype == torch.bool:
            raise ValueError(f"lengths must be an integer tensor, got {lengths.dtype}")
        if batch and (int(lengths.min()) < 0 or int(lengths.max()) > total):
            raise ValueError(
                f"lengths must lie in [0, {total}] (the input has {total} steps), "
                f"got min {int(lengths.min())} and max {int(lengths.max())}"
            )
        lengths = lengths.to(device=device, dtype=torch.long)
        if batch == 0 or bool((lengths == total).all()):
            return None
        mask = lengths_to_mask(lengths, total)
        return Steps(mask, lengths, torch.zeros_like(lengths), True)
    if mask is None:
        return None
    mask = torch.as_tensor(mask)
    if mask.shape != (batch, total):
        raise ValueError(f"mask must have shape ({batch}, {total}), got {tuple(mask.shape)}")
    if mask.dtype != torch.bool:
        raise ValueError(f"mask must be a bool tensor (True = real step), got {mask.dtype}")
    mask = mask.to(device)
    if bool(mask.all()):
        return None
    lengths = mask.sum(1)
    starts = torch.where(lengths > 0, mask.int().argmax(1), torch.zeros_like(lengths))
    steps = torch.arange(total, device=device)
    block = (steps >= starts.unsqueeze(1)) & (steps < (starts + lengths).unsqueeze(1))
    return Steps(mask, lengths, starts, bool((block == mask).all()))


def last_valid(outputs: Tensor, steps: Steps | None, reverse: bool) -> Tensor:
    """Each row's output at its last processed step: ``(B, T, H) -> (B, H)``; zeros if empty."""
    if steps is None:
        return outputs[:, 0] if reverse else outputs[:, -1]
    if reverse:
        index = steps.starts
    else:
        # the last True of each row, also for masks with holes
        t = torch.arange(outputs.size(1), device=outputs.device)
        index = torch.where(steps.mask, t, -1).max(1).values.clamp(min=0)
    picked = outputs.gather(1, index.view(-1, 1, 1).expand(-1, 1, outputs.size(2))).squeeze(1)
    return picked * (steps.lengths > 0).unsqueeze(1).to(picked.dtype)
