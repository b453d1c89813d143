"""Drop-ins for torch.nn.RNN, LSTM and GRU that can also run through rnnkit's own layers.

Each class *is* its torch.nn counterpart (a subclass): same constructor, parameters (names,
shapes, registration order, initialisation, random stream), ``state_dict``, forward signature,
return values and ``isinstance``. One keyword is added, ``backend``, also a settable attribute:

- ``"native"`` (and ``"auto"``): torch.nn's own forward, i.e. one call of the fused kernel
  ``torch._VF.lstm / gru / rnn_tanh / rnn_relu`` for all layers and directions at once, padded
  or packed, so the speed is torch.nn's;
- ``"reference"``: rnnkit's cells (:mod:`rnnkit.cells`) unrolled step by step by
  :class:`~rnnkit.layers.Recurrent` (``backend="reference"``), stacked by
  :class:`~rnnkit.layers.Stack` with torch.nn's inter-layer dropout. It equals the native path
  to rounding, and it is differentiable twice.

The rnnkit cells hold the very ``Parameter`` objects the module registers under torch.nn's names
(``weight_ih_l0``, ``bias_hh_l1_reverse``...); they are kept in plain attributes, not submodules,
so ``named_parameters()`` and ``state_dict()`` list torch.nn's names only. The cells re-bind to
the module's current tensors before every reference call, which keeps them right after
``load_state_dict(..., assign=True)``, conversions that replace parameters and
``torch.func.functional_call``.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence

from rnnkit.cells import Cell, ElmanCell, GRUCell, LSTMCell
from rnnkit.layers import Bidirectional, Recurrent, Stack
from rnnkit.nn.packing import packed_positions, repack, unpack

BACKENDS = ("auto", "native", "reference")
_PARAMETER_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")

Hidden = Tensor | tuple[Tensor, Tensor]


class _Backends:
    """What RNN, LSTM and GRU add to their torch.nn base: the backend switch and the cells.

    Mixed in before the torch.nn class, so ``super().forward`` is torch.nn's forward.
    """

    mode: str
    input_size: int
    hidden_size: int
    num_layers: int
    bias: bool
    batch_first: bool
    dropout: float
    bidirectional: bool
    proj_size: int
    training: bool
    _parameters: dict[str, Tensor | None]

    # -- construction ------------------------------------------------------------------
    def _attach_cells(self, backend: str) -> None:
        """Build one rnnkit cell per layer and direction over this module's parameters."""
        self.backend = backend
        directions = 2 if self.bidirectional else 1
        cells: list[Cell] = []
        bindings: list[tuple[str, Cell, str]] = []
        for layer in range(self.num_layers):
            for direction in range(directions):
                size = self.input_size if layer == 0 else self._state_size("h") * directions
                # on the meta device: no memory, no draw from the random stream; the cell's
                # own parameters are replaced by the module's right below
                with torch.device("meta"):
                    cell = self._make_cell(size)
                suffix = "_reverse" if direction else ""
                for attr in _PARAMETER_NAMES:
                    if cell._parameters.get(attr) is not None:
                        bindings.append((f"{attr}_l{layer}{suffix}", cell, attr))
                cells.append(cell)
        # plain attributes (a list, and object.__setattr__ for the Stack), not submodules:
        # named_parameters() and state_dict() must show torch.nn's names only
        self._cells = cells
        self._bindings = bindings
        self._sync_cells()
        object.__setattr__(self, "_reference_stack", self.as_stack("reference"))

    def _make_cell(self, input_size: int) -> Cell:
        if self.mode == "LSTM":
            return LSTMCell(input_size, self.hidden_size, self.bias, proj_size=self.proj_size)
        if self.mode == "GRU":
            return GRUCell(input_size, self.hidden_size, self.bias)
        return ElmanCell(input_size, self.hidden_size, self.bias, self.mode[4:].lower())

    def _sync_cells(self) -> None:
        params = self._parameters
        for name, cell, attr in self._bindings:
            current = params[name]
            if cell._parameters[attr] is not current:
                # the same slot torch.func.functional_call swaps: plain tensors are allowed
                cell._parameters[attr] = current

    # -- the backend switch ------------------------------------------------------------
    @property
    def backend(self) -> str:
        """``"auto"`` / ``"native"``: torch's fused kernel; ``"reference"``: rnnkit's cells."""
        return self._backend

    @backend.setter
    def backend(self, value: str) -> None:
        if value not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {value!r}")
        self._backend = value

    @property
    def cells(self) -> list[Cell]:
        """The rnnkit cells, layer by layer, forward direction first; they share the parameters."""
        self._sync_cells()
        return list(self._cells)

    def as_stack(self, backend: str = "auto") -> Stack:
        """An rnnkit :class:`~rnnkit.layers.Stack` over the same cells (so the same parameters).

        It is batch-first and takes ``lengths=`` or ``mask=`` (left padding, empty rows...),
        which torch.nn cannot; its states are per layer: see :meth:`to_stack_state`. Parameters
        replaced later (``load_state_dict(..., assign=True)``) reach its cells at this module's
        next call or ``.cells`` access.
        """
        self._sync_cells()
        directions = 2 if self.bidirectional else 1
        layers: list[nn.Module] = []
        for layer in range(self.num_layers):
            pair = self._cells[layer * directions : (layer + 1) * directions]
            runs = [Recurrent(c, reverse=bool(d), backend=backend) for d, c in enumerate(pair)]
            layers.append(Bidirectional(*runs) if len(runs) == 2 else runs[0])
        stack = Stack(layers)
        stack.dropout = self.dropout  # torch.nn allows dropout=1.0, which Stack's check refuses
        return stack

    # -- states ------------------------------------------------------------------------
    def _state_size(self, name: str) -> int:
        return self.proj_size if name == "h" and self.proj_size else self.hidden_size

    def _state_names(self) -> tuple[str, ...]:
        return ("h", "c") if self.mode == "LSTM" else ("h",)

    def to_stack_state(self, hx: Hidden) -> list:
        """torch.nn's ``hx`` (``(L*D, B, size)`` tensors) -> a :class:`Stack`'s per-layer states."""
        state = tuple(hx) if self.mode == "LSTM" else (hx,)
        directions = 2 if self.bidirectional else 1
        per_run = [tuple(s[k] for s in state) for k in range(self.num_layers * directions)]
        if directions == 1:
            return per_run
        return [(per_run[2 * k], per_run[2 * k + 1]) for k in range(self.num_layers)]

    def from_stack_state(self, states: list) -> Hidden:
        """A :class:`Stack`'s per-layer final states -> torch.nn's ``h_n`` or ``(h_n, c_n)``."""
        per_run = [s for layer in states for s in layer] if self.bidirectional else list(states)
        state = tuple(torch.stack([run[i] for run in per_run]) for i in range(len(per_run[0])))
        return state if self.mode == "LSTM" else state[0]

    # -- forward -----------------------------------------------------------------------
    def forward(self, input, hx=None):
        """torch.nn's forward: ``(output, h_n)`` or, for the LSTM, ``(output, (h_n, c_n))``."""
        self._check_forward(input, hx)
        if self._backend == "reference":
            return self._reference_forward(input, hx)
        return super().forward(input, hx)

    def _reference_forward(self, input, hx):
        packed = isinstance(input, PackedSequence)
        lengths = None
        batched = packed or input.dim() == 3
        if packed:
            rows, steps = packed_positions(input)
            x, lengths = unpack(input, rows, steps)
        elif not batched:
            x = input.unsqueeze(0)
        else:
            x = input if self.batch_first else input.transpose(0, 1)
        if hx is None:
            directions = 2 if self.bidirectional else 1
            state = tuple(
                x.new_zeros(self.num_layers * directions, x.size(0), self._state_size(name))
                for name in self._state_names()
            )
            hx = state if self.mode == "LSTM" else state[0]
        elif not batched:
            hx = tuple(s.unsqueeze(1) for s in hx) if self.mode == "LSTM" else hx.unsqueeze(1)

        self._sync_cells()
        stack = self._reference_stack
        stack.dropout = self.dropout  # a settable attribute in torch.nn too
        stack.train(self.training)
        out, finals = stack(x, self.to_stack_state(hx), lengths=lengths)
        hidden = self.from_stack_state(finals)

        if packed:
            return repack(out, input, rows, steps), hidden
        if not batched:
            if self.mode == "LSTM":
                hidden = (hidden[0].squeeze(1), hidden[1].squeeze(1))
            else:
                hidden = hidden.squeeze(1)
            return out.squeeze(0), hidden
        if not self.batch_first:
            out = out.transpose(0, 1).contiguous()  # torch.nn's output is contiguous
        return out, hidden

    def _check_forward(self, input, hx) -> None:
        """ValueErrors naming what was expected and what was given; nothing is broadcast."""
        name = type(self).__name__
        features = self.input_size
        layout = "(batch, seq_len, {})" if self.batch_first else "(seq_len, batch, {})"
        layout = layout.format(features)
        if isinstance(input, PackedSequence):
            data, batch, batched = input.data, int(input.batch_sizes[0]), True
            if data.dim() != 2:
                raise ValueError(f"{name}: a PackedSequence's data must be 2-D (steps, "
                                 f"{features}), got shape {tuple(data.shape)}")
        elif isinstance(input, Tensor):
            if input.dim() not in (2, 3):
                raise ValueError(f"{name} expects input of shape {layout} or unbatched "
                                 f"(seq_len, {features}), got shape {tuple(input.shape)}")
            data, batched = input, input.dim() == 3
            batch = input.size(0 if self.batch_first else 1) if batched else 1
        else:
            raise ValueError(f"{name} expects a Tensor or a PackedSequence, got "
                             f"{type(input).__name__}")
        if data.size(-1) != features:
            raise ValueError(f"{name} was built for input_size={features} but the input has "
                             f"{data.size(-1)} features (shape {tuple(data.shape)})")
        weight = self._parameters["weight_ih_l0"]
        if data.dtype != weight.dtype:
            raise ValueError(f"{name}: input dtype {data.dtype} differs from the weights' "
                             f"{weight.dtype}; convert one with .to()")
        if hx is None:
            return
        names = self._state_names()
        if self.mode == "LSTM":
            if not (isinstance(hx, (tuple, list)) and len(hx) == 2
                    and all(isinstance(s, Tensor) for s in hx)):
                raise ValueError(f"{name}: hx must be a pair of tensors (h_0, c_0), got "
                                 f"{type(hx).__name__}")
            given = tuple(hx)
        elif isinstance(hx, Tensor):
            given = (hx,)
        else:
            raise ValueError(f"{name}: hx must be a tensor h_0, got {type(hx).__name__}")
        runs = self.num_layers * (2 if self.bidirectional else 1)
        for state_name, state in zip(names, given):
            size = self._state_size(state_name)
            expected = (runs, batch, size) if batched else (runs, size)
            if tuple(state.shape) != expected:
                what = "(num_layers * num_directions, batch, {})" if batched else \
                       "(num_layers * num_directions, {}) for unbatched input"
                raise ValueError(f"{name}: {state_name}_0 must have shape {expected} "
                                 f"{what.format(size)}, got {tuple(state.shape)}")
            if state.dtype != data.dtype:
                raise ValueError(f"{name}: {state_name}_0 has dtype {state.dtype} but the input "
                                 f"has {data.dtype}")

    def extra_repr(self) -> str:
        text = super().extra_repr()
        return text if self._backend == "auto" else f"{text}, backend={self._backend!r}"


class RNN(_Backends, nn.RNN):
    r"""torch.nn.RNN (Elman, tanh or relu), with ``backend``. For each layer and step::

        h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)

    ``input (T, B, F)`` (``(B, T, F)`` with ``batch_first``, ``(T, F)`` unbatched, or a
    PackedSequence), ``h_0 (L*D, B, H)`` -> ``output (T, B, D*H)``, ``h_n (L*D, B, H)``.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device=None, dtype=None,
                 *, backend: str = "auto") -> None:
        super().__init__(input_size, hidden_size, num_layers, nonlinearity=nonlinearity,
                         bias=bias, batch_first=batch_first, dropout=dropout,
                         bidirectional=bidirectional, device=device, dtype=dtype)
        self._attach_cells(backend)


class LSTM(_Backends, nn.LSTM):
    r"""torch.nn.LSTM (gates i, f, g, o; optional projection ``proj_size``), with ``backend``.

    ``input (T, B, F)`` (or batch-first, unbatched, packed), ``(h_0 (L*D, B, P), c_0 (L*D, B,
    H))`` with ``P = proj_size or H`` -> ``output (T, B, D*P)``, ``(h_n, c_n)``. The equations
    are in :class:`rnnkit.cells.LSTMCell`.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None, dtype=None,
                 *, backend: str = "auto") -> None:
        super().__init__(input_size, hidden_size, num_layers, bias=bias, batch_first=batch_first,
                         dropout=dropout, bidirectional=bidirectional, proj_size=proj_size,
                         device=device, dtype=dtype)
        self._attach_cells(backend)


class GRU(_Backends, nn.GRU):
    r"""torch.nn.GRU (gates r, z, n; reset applied after the recurrent matmul), with ``backend``.

    ``input (T, B, F)`` (or batch-first, unbatched, packed), ``h_0 (L*D, B, H)`` ->
    ``output (T, B, D*H)``, ``h_n (L*D, B, H)``. The equations are in :class:`rnnkit.cells.GRUCell`.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, device=None, dtype=None,
                 *, backend: str = "auto") -> None:
        super().__init__(input_size, hidden_size, num_layers, bias=bias, batch_first=batch_first,
                         dropout=dropout, bidirectional=bidirectional, device=device, dtype=dtype)
        self._attach_cells(backend)
