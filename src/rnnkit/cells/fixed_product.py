"""Products of many small batches with one fixed matrix, as a recurrence makes at every step.

At a recurrence's sizes (``B = 32`` rows against a ``(4H, H)`` matrix) ``torch.mm`` spends
much of its time re-reading the matrix in its plain layout. torch.nn.LSTM's oneDNN kernel
reorders the matrix once per sequence into oneDNN's blocked layout; :func:`fixed_product` does
the same through the ops torch's own compiler uses for float32 linear layers on CPU, and falls
back to ``torch.mm`` wherever they do not apply (float64, no oneDNN). Both are float32 matmuls
to full precision: results differ only by summation order.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor


def fixed_product(weight: Tensor, batch: int) -> Callable[[Tensor], Tensor]:
    """``x -> x @ weightᵀ``: ``x (batch, in)``, ``weight (out, in)`` -> ``(batch, out)``;
    ``weight`` is laid out for the product once, here."""
    if (weight.dtype == torch.float32 and weight.device.type == "cpu"
            and torch.backends.mkldnn.is_available()):
        try:
            packed = torch.ops.mkldnn._reorder_linear_weight(weight.contiguous(), batch)
            linear = torch.ops.mkldnn._linear_pointwise
        except (AttributeError, RuntimeError):  # a torch without these ops: the plain product
            pass
        else:
            return lambda x: linear(x, packed, None, "none", [], "")
    weight_t = weight.t()
    return lambda x: x.mm(weight_t)
