"""minLSTM: its parallel scan equals the step loop in float64 over masks, and stays finite and
equal to the loop in float32 on long sequences with saturated gates. (Every registered cell's
generic tests, scan against step included, run on it through conftest.)"""

from __future__ import annotations

import torch

from rnnkit.cells import MinLSTMCell
from rnnkit.cells.minimal import linear_scan
from rnnkit.layers import Recurrent


def test_linear_scan_is_the_recurrence_with_masked_steps_carried():
    torch.manual_seed(0)
    B, T, H = 3, 37, 5
    a, b = torch.rand(B, T, H, dtype=torch.float64), torch.randn(B, T, H, dtype=torch.float64)
    h0 = torch.randn(B, H, dtype=torch.float64)
    mask = torch.rand(B, T) > 0.3
    h, want = h0, []
    for t in range(T):
        h = torch.where(mask[:, t:t + 1], a[:, t] * h + b[:, t], h)
        want.append(h)
    got = linear_scan(a, b, h0, mask)
    torch.testing.assert_close(got, torch.stack(want, 1), atol=1e-12, rtol=0)


def test_normalised_gates_sum_to_one_and_match_the_quotients():
    cell = MinLSTMCell(4, 6).double()
    xp = cell.project(torch.randn(10, 4, dtype=torch.float64))
    keep, take, _, _ = cell._coefficients(xp)
    f, i = xp[:, :6].sigmoid(), xp[:, 6:12].sigmoid()
    torch.testing.assert_close(keep, f / (f + i), atol=1e-12, rtol=0)
    torch.testing.assert_close(keep + take, torch.ones_like(keep), atol=1e-12, rtol=0)


def test_scan_is_stable_on_long_sequences_with_saturated_gates():
    torch.manual_seed(0)
    cell = MinLSTMCell(2, 8)
    with torch.no_grad():
        cell.weight_ih.mul_(40)  # gates at 0 and 1 to float32's precision
    x = torch.randn(3, 3000, 2)
    scanned = Recurrent(cell)(x)
    looped = Recurrent(cell, backend="reference")(x)
    assert scanned[0].isfinite().all()
    torch.testing.assert_close(scanned[0], looped[0], atol=1e-5, rtol=1e-5)
