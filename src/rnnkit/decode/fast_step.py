"""Generation's step for a language model of plain LSTM layers, laid out once for speed.

Writing text calls the model once per token at batch 1, where a step is a few matrix-vector
products and the time goes to memory traffic and to per-call overheads, not to arithmetic.
:class:`LSTMStepper` reads a trained :class:`~rnnkit.tasks.lm.model.LanguageModel` once and then
steps it with:

- the first layer's input projection looked up, not computed: ``embedding @ W_ih^T + biases`` is
  a ``(V, 4H)`` table, so a token's projection is one row;
- every later layer's input and recurrent matrices fused and pre-transposed, ``[W_ih W_hh]^T``,
  read by one matrix product over ``[h_{k-1}, h_k]``; the layers' outputs live side by side in
  one buffer, so that pair is a contiguous slice and no concatenation is made;
- every intermediate written into buffers allocated once (``out=`` and in-place ops), without
  autograd.

It computes exactly the model's step (tested against :meth:`LanguageModel.step` to float
rounding); :func:`stepper_for` says whether a model qualifies (plain LSTM layers, no projection,
no weight dropout or zoneout) and returns None otherwise, so callers fall back to the reference.
"""

from __future__ import annotations

import copy

import torch
from torch import Tensor

from rnnkit.cells.lstm import LSTMCell
from rnnkit.layers.recurrent import Recurrent


class LSTMStepper:
    """``step(tokens (B,)) -> logits (B, V)`` for a language model of plain LSTM layers, its
    state kept inside (``reset``, ``load_state`` and ``state`` move it in and out in the
    model's own format)."""

    def __init__(self, model, batch: int = 1) -> None:
        cells = [layer.cell for layer in model.rnn.layers]
        H = cells[0].hidden_size
        dtype = model.decoder.weight.dtype
        # rows reordered from torch's (i, f, g, o) to (i, f, o, g): one sigmoid over the first
        # three quarters, one tanh over the last
        order = torch.cat([torch.arange(0, 2 * H), torch.arange(3 * H, 4 * H),
                           torch.arange(2 * H, 3 * H)])
        with torch.no_grad():
            first = cells[0]
            # (V, 4H): each token's input projection plus both biases, computed once
            self.table = torch.addmm(_bias(first, dtype)[order],
                                     _frozen(model.embedding.weight, dtype),
                                     _frozen(first.weight_ih, dtype)[order].t()).contiguous()
            self.first_hh = _frozen(first.weight_hh, dtype)[order].t().contiguous()  # (H, 4H)
            self.fused = [torch.cat([_frozen(c.weight_ih, dtype), _frozen(c.weight_hh, dtype)],
                                    1)[order].t().contiguous() for c in cells[1:]]  # (2H, 4H)
            self.biases = [_bias(c, dtype)[order].unsqueeze(0) for c in cells[1:]]
            self.decoder_t = _frozen(model.decoder.weight, dtype).t().contiguous()  # (H, V)
            self.decoder_b = _frozen(model.decoder.bias, dtype).unsqueeze(0)
        self.hidden, self.layers, self.dtype = H, len(cells), dtype
        self._allocate(batch)

    def _allocate(self, batch: int) -> None:
        H, L, dtype = self.hidden, self.layers, self.dtype
        self.batch = batch
        self.hs = torch.zeros(batch, L * H, dtype=dtype)  # [h_0 | h_1 | ... ]: layer outputs
        self.cs = [torch.zeros(batch, H, dtype=dtype) for _ in range(L)]
        self.gates = gates = torch.empty(batch, 4 * H, dtype=dtype)
        self.tanh_c = torch.empty(batch, H, dtype=dtype)
        self.logits = torch.empty(batch, self.decoder_t.shape[1], dtype=dtype)
        # every slice the step reads, made once: at batch 1 making a view costs as much as the
        # elementwise op on it
        self._sigmoid_part, self._tanh_part = gates[:, :3 * H], gates[:, 3 * H:]
        self._i, self._f, self._o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H]
        self._h = [self.hs[:, k * H:(k + 1) * H] for k in range(L)]
        self._pairs = [self.hs[:, (k - 1) * H:(k + 1) * H] for k in range(1, L)]  # [h_k-1, h_k]

    def fresh(self, batch: int = 1) -> LSTMStepper:
        """Another stepper on the same laid-out weights with a state of its own (zeros)."""
        other = copy.copy(self)
        other._allocate(batch)
        return other

    def reset(self, batch: int | None = None) -> None:
        """Zero the state (for ``batch`` rows, if given)."""
        if batch is not None and batch != self.batch:
            self._allocate(batch)
        self.hs.zero_()
        for c in self.cs:
            c.zero_()

    def load_state(self, state: list) -> None:
        """Take the model's state (a list of ``(h, c)`` per layer, as its forward returns)."""
        batch = state[0][0].shape[0]
        if batch != self.batch:
            self._allocate(batch)
        H = self.hidden
        for k, (h, c) in enumerate(state):
            self.hs[:, k * H:(k + 1) * H].copy_(h)
            self.cs[k].copy_(c)

    def state(self) -> list:
        """The state in the model's format (copies)."""
        H = self.hidden
        return [(self.hs[:, k * H:(k + 1) * H].clone(), self.cs[k].clone())
                for k in range(self.layers)]

    @torch.no_grad()
    def step(self, tokens: Tensor) -> Tensor:
        """Advance every layer by one token per row; the logits ``(B, V)`` (a buffer reused by
        the next call: copy it to keep it). Not under autocast (see :class:`BF16LSTMStepper`)."""
        gates, hs = self.gates, self._h
        torch.index_select(self.table, 0, tokens, out=gates)
        gates.addmm_(hs[0], self.first_hh)
        self._cell(0)
        for k in range(1, self.layers):
            torch.addmm(self.biases[k - 1], self._pairs[k - 1], self.fused[k - 1], out=gates)
            self._cell(k)
        return torch.addmm(self.decoder_b, hs[-1], self.decoder_t, out=self.logits)

    def _cell(self, k: int) -> None:
        """The LSTM update of layer ``k`` from the pre-activations in ``gates`` (i, f, o, g)."""
        self._sigmoid_part.sigmoid_()
        g = self._tanh_part.tanh_()
        c = self.cs[k]
        c.mul_(self._f).addcmul_(self._i, g)
        torch.mul(self._o, torch.tanh(c, out=self.tanh_c), out=self._h[k])


class BF16LSTMStepper(LSTMStepper):
    """The same step with its matrix products in bfloat16 (``--precision bf16``).

    A step at batch 1 reads every weight once, so it is bound by memory traffic: bf16 weights
    halve it. They are packed once for oneDNN's bf16 kernels (the AVX-512 BF16 instructions
    of this kind of CPU), which multiply bf16 inputs with fp32 accumulation; torch's own bf16
    matrix-vector product is slower than fp32 here. The gates, the cell update, the state and
    the decoder stay in fp32, as under autocast. Not equal to the fp32 step: close to it, as
    bf16 is (about 3 significant digits per product).
    """

    def __init__(self, model, batch: int = 1) -> None:
        super().__init__(model, batch)
        with torch.no_grad():
            self.first_hh_packed = _packed(self.first_hh.t())  # (4H, H) rows for oneDNN
            self.fused_packed = [_packed(w.t()) for w in self.fused]

    def _allocate(self, batch: int) -> None:
        super()._allocate(batch)
        H = self.hidden
        self.hs_bf16 = torch.zeros(batch, self.layers * H, dtype=torch.bfloat16)
        self._hb = [self.hs_bf16[:, k * H:(k + 1) * H] for k in range(self.layers)]
        self._pairs_bf16 = [self.hs_bf16[:, (k - 1) * H:(k + 1) * H]
                            for k in range(1, self.layers)]

    def load_state(self, state: list) -> None:
        super().load_state(state)
        self.hs_bf16.copy_(self.hs)

    def reset(self, batch: int | None = None) -> None:
        super().reset(batch)
        self.hs_bf16.zero_()

    @torch.no_grad()
    def step(self, tokens: Tensor) -> Tensor:
        if not torch.is_autocast_enabled("cpu"):
            return self._step(tokens)
        # under --precision bf16's autocast: off for the step (a tenth of the cost of a
        # ``torch.autocast(enabled=False)`` block, which matters at a few hundred µs a token)
        torch.set_autocast_enabled("cpu", False)
        try:
            return self._step(tokens)
        finally:
            torch.set_autocast_enabled("cpu", True)

    def _step(self, tokens: Tensor) -> Tensor:
        gates, hb = self.gates, self._hb
        torch.index_select(self.table, 0, tokens, out=gates)
        gates.add_(_linear_bf16(hb[0], self.first_hh_packed))
        self._cell(0)
        hb[0].copy_(self._h[0])
        for k in range(1, self.layers):
            torch.add(self.biases[k - 1], _linear_bf16(self._pairs_bf16[k - 1],
                                                       self.fused_packed[k - 1]), out=gates)
            self._cell(k)
            hb[k].copy_(self._h[k])
        return torch.addmm(self.decoder_b, self._h[-1], self.decoder_t, out=self.logits)


def bf16_kernels() -> bool:
    """Whether oneDNN's packed bf16 matrix products run on this machine."""
    try:
        return bool(torch.backends.mkldnn.is_available()
                    and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def _packed(weight: Tensor) -> Tensor:
    """``weight (out, in)`` in bf16, laid out once for oneDNN's kernel at batch 1."""
    return torch.ops.mkldnn._reorder_linear_weight(weight.to(torch.bfloat16).contiguous(), 1)


def _linear_bf16(x: Tensor, packed: Tensor) -> Tensor:
    return torch.ops.mkldnn._linear_pointwise(x, packed, None, "none", [], "")


def _frozen(tensor: Tensor, dtype) -> Tensor:
    """A copy detached from the model (later training does not change the stepper)."""
    return tensor.detach().to(dtype=dtype, copy=True)


def _bias(cell: LSTMCell, dtype) -> Tensor:
    hidden4 = 4 * cell.hidden_size
    total = torch.zeros(hidden4, dtype=dtype)
    for name in ("bias_ih", "bias_hh"):
        b = getattr(cell, name, None)
        if b is not None:
            total += b.detach().to(dtype)
    return total


def stepper_for(model, batch: int = 1, precision: str = "fp32") -> LSTMStepper | None:
    """A fast stepper for ``model`` when its stack is plain forward LSTM layers (no projection,
    no DropConnect or zoneout, no dropout in training), else None. ``precision="bf16"`` gives
    :class:`BF16LSTMStepper` for a float32 model where oneDNN's bf16 kernels run, else None
    (the caller then steps the model under autocast)."""
    layers = getattr(getattr(model, "rnn", None), "layers", None)
    if not layers or model.training:
        return None
    for layer in layers:
        if not isinstance(layer, Recurrent) or layer.reverse or type(layer.cell) is not LSTMCell:
            return None
        cell = layer.cell
        if getattr(cell, "proj_size", 0) or layer.dropconnect or layer.zoneout:
            return None
    sizes = {layer.cell.hidden_size for layer in layers}
    if len(sizes) != 1 or model.decoder.in_features != layers[-1].cell.hidden_size:
        return None
    with torch.autocast("cpu", enabled=False):  # the laid-out weights keep the model's dtype
        if precision == "bf16":
            if model.decoder.weight.dtype != torch.float32 or not bf16_kernels():
                return None
            return BF16LSTMStepper(model, batch)
        return LSTMStepper(model, batch)
