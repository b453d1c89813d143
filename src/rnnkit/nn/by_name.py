"""A torch.nn-style recurrent module for ANY cell by name, a registered one of your own included.

``CellRNN("ln-lstm", 32, 64, num_layers=2, bidirectional=True)`` is called as torch.nn.LSTM is:
``output, h_n = rnn(input, hx)`` with ``input (T, B, F)`` (``(B, T, F)`` with
``batch_first=True``, ``(T, F)`` unbatched) or a ``PackedSequence``, ``hx`` and ``h_n`` of shape
``(num_layers * directions, B, H)``, a tuple of them for cells with several states (the LSTM's
``(h, c)``). Its parameters are the cells' (``layers.0.cell.weight_ih``...), not torch.nn's
flat names: for the standard cells with torch.nn's names use :class:`rnnkit.nn.LSTM` and kin.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence

from rnnkit.layers import build_stack
from rnnkit.nn.packing import packed_positions, repack, unpack


class CellRNN(nn.Module):
    """Layers of the cell ``cell`` (a name of :func:`rnnkit.cells.cell_names`) behind torch.nn's
    recurrent interface; the sequence runs through :class:`rnnkit.layers.Stack`."""

    def __init__(self, cell: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 *, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, **cell_options) -> None:
        super().__init__()
        self.cell, self.batch_first = cell, batch_first
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bidirectional = bidirectional
        self.stack = build_stack(cell, input_size, hidden_size, num_layers,
                                 bidirectional=bidirectional, dropout=dropout,
                                 cell_options=cell_options)
        first = self.stack.layers[0]
        self.state_names = (first.forward_layer if bidirectional else first).cell.state_names

    def _runs(self, states: list) -> list:
        """Per-layer states -> one state tuple per (layer, direction), torch.nn's order."""
        return [s for layer in states for s in layer] if self.bidirectional else list(states)

    def forward(self, input: Tensor | PackedSequence, hx: Tensor | tuple | None = None):
        packed = isinstance(input, PackedSequence)
        lengths = None
        if packed:
            rows, steps = packed_positions(input)
            x, lengths = unpack(input, rows, steps)
        elif input.dim() == 2:
            x = input.unsqueeze(0)
        else:
            x = input if self.batch_first else input.transpose(0, 1)
        states = None
        if hx is not None:
            parts = (hx,) if isinstance(hx, Tensor) else tuple(hx)
            if not packed and input.dim() == 2:
                parts = tuple(p.unsqueeze(1) for p in parts)
            runs = [tuple(p[k] for p in parts) for k in range(parts[0].size(0))]
            states = ([(runs[2 * k], runs[2 * k + 1]) for k in range(self.num_layers)]
                      if self.bidirectional else runs)
        out, finals = self.stack(x, states, lengths=lengths)
        per_run = self._runs(finals)
        hidden = tuple(torch.stack([run[i] for run in per_run]) for i in range(len(per_run[0])))
        if packed:
            out = repack(out, input, rows, steps)
        elif input.dim() == 2:
            out, hidden = out.squeeze(0), tuple(h.squeeze(1) for h in hidden)
        elif not self.batch_first:
            out = out.transpose(0, 1)
        return out, hidden if len(hidden) > 1 else hidden[0]

    def extra_repr(self) -> str:
        options = [repr(self.cell), str(self.input_size), str(self.hidden_size)]
        if self.num_layers != 1:
            options.append(f"num_layers={self.num_layers}")
        if self.batch_first:
            options.append("batch_first=True")
        if self.bidirectional:
            options.append("bidirectional=True")
        return ", ".join(options)
