"""Whole-sequence kernels for recurrences whose coefficients read only the input.

:func:`linear_scan` runs any ``h_t = a_t ⊙ h_{t-1} + b_t`` whose ``a`` and ``b`` were made with
ordinary torch ops (a cell of one's own: ``examples/custom_cell.py``). :func:`lerp_scan` runs
the built-in minGRU and minLSTM whole, gates included, as one autograd node::

    h_t = lerp(h_{t-1}, c_t, w_t) = h_{t-1} + w_t ⊙ (c_t - h_{t-1})       (B, H) per step

with the weight ``w_t = σ(u_t)`` and candidate ``c_t`` read from the projected input ``xp_t``
(:class:`MinGRUGates`, :class:`MinLSTMGates`). Its backward is derived by hand::

    g_t      = G_t + (1 - w_{t+1}) ⊙ g_{t+1}        the gradient reaching h_t (G: the output's)
    ∂L/∂c_t  = g_t ⊙ w_t
    ∂L/∂u_t  = g_t ⊙ (1 - w_t) ⊙ (h_t - h_{t-1})     (σ' = w (1 - w), h_t - h_{t-1} = w (c - h))
    ∂L/∂h_0  = (1 - w_1) ⊙ g_1

Both directions walk the sequence in chunks of a few steps: a chunk's gates are computed by
a handful of ops over ``(B, L, H)`` slices small enough to stay in cache, then one fused op
per step runs the recurrence over them. Nothing of size ``(B, T, H)`` is allocated but the
output and the input's gradient (on this machine a fresh 32 MiB tensor costs ~15 ms of page
faults, more than the op that fills it), and there are no transposes: the loops read and
write batch-first views directly.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.nn import functional as F

CHUNK_ELEMENTS = 1 << 18  # a chunk's (B, L, H) slice: 1 MiB in float32, cache-sized


def linear_scan(a: Tensor, b: Tensor, h0: Tensor, mask: Tensor | None = None) -> Tensor:
    """Every ``h_t = a_t ⊙ h_{t-1} + b_t`` at once: ``a, b (B, T, H)``, ``h0 (B, H)`` ->
    ``(B, T, H)``. A step where ``mask (B, T)`` is False carries the state unchanged.

    :class:`LinearRecurrence` runs the recurrence as one autograd node: forward and backward
    are loops of one fused elementwise op per step over ``(B, H)``, with no graph of T nodes.
    No logarithm and no division is taken, so candidates of any sign are exact and a product
    of gates that underflows to 0 is the right answer. Its backward is made of differentiable
    ops, so double backward works.
    """
    if mask is not None:
        keep = mask.unsqueeze(-1)
        a = torch.where(keep, a, torch.ones_like(a))
        b = torch.where(keep, b, torch.zeros_like(b))
    return LinearRecurrence.apply(a, b, h0)


class LinearRecurrence(torch.autograd.Function):
    """``h_t = a_t ⊙ h_{t-1} + b_t`` over ``t``: ``(a, b, h0) -> h (B, T, H)``.

    Backward: with ``g_t`` the gradient reaching ``h_t`` (its own plus ``a_{t+1} ⊙ g_{t+1}``),
    ``∂L/∂b_t = g_t``, ``∂L/∂a_t = g_t ⊙ h_{t-1}`` and ``∂L/∂h_0 = a_1 ⊙ g_1``.
    """

    @staticmethod
    def forward(ctx, a: Tensor, b: Tensor, h0: Tensor) -> Tensor:
        # time-major copies: every step then reads and writes contiguous (B, H) blocks
        a_t, b_t = a.transpose(0, 1).contiguous(), b.transpose(0, 1).contiguous()
        out = torch.empty_like(b_t)
        h = h0
        for t in range(a_t.size(0)):
            h = torch.addcmul(b_t[t], a_t[t], h, out=out[t])
        ctx.save_for_backward(a_t, h0, out)
        return out.transpose(0, 1)

    @staticmethod
    def backward(ctx, grad: Tensor):
        a_t, h0, out = ctx.saved_tensors  # time-major (T, B, H)
        grad = grad.transpose(0, 1)
        carried = torch.zeros_like(h0)
        grads = []
        for t in range(a_t.size(0) - 1, -1, -1):
            g = grad[t] + carried
            grads.append(g)
            carried = a_t[t] * g
        g_all = torch.stack(grads[::-1])  # (T, B, H): ∂L/∂b
        previous = torch.cat([h0.unsqueeze(0), out[:-1]])
        return (g_all * previous).transpose(0, 1), g_all.transpose(0, 1), carried


class MinGRUGates:
    """minGRU: ``xp = [k, c]`` (..., 2H) and ``w = z = σ(k)``, so ``∂L/∂k = ∂L/∂u``."""

    parts = 2
    keeps_weight = False  # backward recomputes σ(k): cheaper than storing (B, T, H)

    @staticmethod
    def weight(xp: Tensor) -> Tensor:
        return torch.sigmoid(xp[..., : xp.size(-1) // 2])

    @staticmethod
    def slot(dxp: Tensor) -> Tensor:
        """Where :class:`LerpScan` writes ``∂L/∂u`` (B, L, H) for :meth:`finish`."""
        return dxp[..., : dxp.size(-1) // 2]  # k's own gradient: nothing left to do

    @staticmethod
    def finish(xp: Tensor, du: Tensor, dxp: Tensor) -> None:
        """Write the gate pre-activations' gradients into ``dxp`` from ``du = ∂L/∂u``."""


class MinLSTMGates:
    """minLSTM: ``xp = [a_f, a_i, c]`` (..., 3H) and ``w = i' = i / (f + i)`` with ``f =
    σ(a_f)``, ``i = σ(a_i)``, computed as ``σ(u)``, ``u = log σ(a_i) - log σ(a_f)`` (no quotient
    of two numbers that may both underflow). ``∂u/∂a_i = σ(-a_i)``, ``∂u/∂a_f = -σ(-a_f)``."""

    parts = 3
    keeps_weight = True  # two log σ over (B, T, H) cost more than storing w for backward

    @staticmethod
    def weight(xp: Tensor) -> Tensor:
        H = xp.size(-1) // 3
        logs = F.logsigmoid(xp[..., : 2 * H])  # one op over [a_f, a_i]
        return torch.sub(logs[..., H:], logs[..., :H]).sigmoid_()

    @staticmethod
    def slot(dxp: Tensor) -> Tensor:
        return dxp.new_empty(dxp.shape[:-1] + (dxp.size(-1) // 3,))

    @staticmethod
    def finish(xp: Tensor, du: Tensor, dxp: Tensor) -> None:
        *batch, width = xp.shape
        H = width // 3
        slopes = torch.neg(xp[..., : 2 * H]).sigmoid_()  # [σ(-a_f), σ(-a_i)]
        slopes[..., :H].neg_()
        pair = (*batch, 2, H)  # [a_f, a_i] as two rows, each scaled by the same ∂L/∂u
        torch.mul(slopes.view(pair), du.unsqueeze(-2), out=dxp[..., : 2 * H].view(pair))


Gates = type[MinGRUGates] | type[MinLSTMGates]


def lerp_scan(gates: Gates, xp: Tensor, h0: Tensor, mask: Tensor | None = None) -> Tensor:
    """Every ``h_t = lerp(h_{t-1}, c_t, w_t)`` of ``xp (B, T, parts*H)``, ``h0 (B, H)`` ->
    ``(B, T, H)``; a step where ``mask (B, T)`` is False has ``w_t = 0`` (the state is carried,
    whatever its input holds: NaN included)."""
    training = torch.is_grad_enabled() and (xp.requires_grad or h0.requires_grad)
    return LerpScan.apply(xp, h0, mask, gates, training and gates.keeps_weight)


def _chunks(B: int, T: int, H: int) -> list[tuple[int, int]]:
    length = max(2, CHUNK_ELEMENTS // max(1, B * H))
    return [(s, min(s + length, T)) for s in range(0, T, length)]


class LerpScan(torch.autograd.Function):
    """``(xp, h0, mask, gates, keep_weight) -> h (B, T, H)``: see the module's docstring for the
    math; ``keep_weight`` stores every ``w_t`` for backward instead of recomputing it."""

    @staticmethod
    def forward(ctx, xp: Tensor, h0: Tensor, mask: Tensor | None, gates: Gates,
                keep_weight: bool) -> Tensor:
        B, T, width = xp.shape
        H = width // gates.parts
        dtype = torch.promote_types(xp.dtype, h0.dtype)  # under autocast xp is bf16, h0 not
        candidates = xp[..., -H:]
        out = xp.new_empty(B, T, H, dtype=dtype)
        kept = xp.new_empty(B, T, H, dtype=dtype) if keep_weight else None
        h = h0.to(dtype)
        for s, e in _chunks(B, T, H):
            w, c = gates.weight(xp[:, s:e]).to(dtype), candidates[:, s:e].to(dtype)
            if mask is not None:
                hole = ~mask[:, s:e, None]
                w.masked_fill_(hole, 0)
                c = c.masked_fill(hole, 0)  # lerp(h, NaN, 0) would be NaN
            if kept is not None:
                kept[:, s:e] = w
            for j in range(e - s):
                h = torch.lerp(h, c[:, j], w[:, j], out=out[:, s + j])
        ctx.gates = gates
        ctx.save_for_backward(xp, h0, out, mask, kept)
        return out

    @staticmethod
    def backward(ctx, grad: Tensor):
        xp, h0, out, mask, kept = ctx.saved_tensors
        if torch.is_grad_enabled():  # create_graph=True: a backward that is itself differentiable
            return _differentiable_backward(ctx, xp, h0, mask, grad)
        gates = ctx.gates
        B, T, width = xp.shape
        H = out.size(-1)
        dxp = xp.new_empty(xp.shape, dtype=out.dtype)
        g_all = dxp[..., -H:]  # g_t lives in the candidate's slot until multiplied by w_t
        carried = None  # (1 - w_s) ⊙ g_s of the chunk after this one
        for s, e in reversed(_chunks(B, T, H)):
            x, d = xp[:, s:e].to(out.dtype), dxp[:, s:e]
            if mask is not None:
                hole = ~mask[:, s:e, None]
            if kept is not None:
                w = kept[:, s:e]
            else:  # from xp itself, as forward did: under autocast σ of bf16 is not of float32
                w = gates.weight(xp[:, s:e]).to(out.dtype)
                if mask is not None:
                    w.masked_fill_(hole, 0)
            keep = torch.rsub(w, 1)
            g, G = g_all[:, s:e], grad[:, s:e]
            last = e - s - 1
            if carried is None:
                g[:, last].copy_(G[:, last])
            else:
                torch.add(G[:, last], carried, out=g[:, last])
            for j in range(last - 1, -1, -1):
                torch.addcmul(G[:, j], keep[:, j + 1], g[:, j + 1], out=g[:, j])
            carried = keep[:, 0] * g[:, 0]
            du = gates.slot(d)
            torch.sub(out[:, s + 1 : e], out[:, s : e - 1], out=du[:, 1:])
            torch.sub(out[:, s], out[:, s - 1] if s else h0, out=du[:, 0])
            du.mul_(keep).mul_(g)
            g.mul_(w)
            gates.finish(x, du, d)
            if mask is not None:
                d.masked_fill_(hole, 0)  # σ(NaN) in a padded gate must not reach its gradient
        return dxp.to(xp.dtype), carried.to(h0.dtype), None, None, None


def reference_lerp_scan(gates: Gates, xp: Tensor, h0: Tensor, mask: Tensor | None = None) -> Tensor:
    """:func:`lerp_scan` as plain differentiable torch ops, a step at a time (slow; any order of
    derivatives)."""
    H = h0.size(-1)
    w, c = gates.weight(xp), xp[..., -H:]
    if mask is not None:
        hole = ~mask.unsqueeze(-1)
        w, c = w.masked_fill(hole, 0), c.masked_fill(hole, 0)
    dtype = torch.promote_types(xp.dtype, h0.dtype)
    w, c, h = w.to(dtype), c.to(dtype), h0.to(dtype)
    steps = []
    for t in range(xp.size(1)):
        h = torch.lerp(h, c[:, t], w[:, t])
        steps.append(h)
    return torch.stack(steps, 1)


def _differentiable_backward(ctx, xp: Tensor, h0: Tensor, mask: Tensor | None, grad: Tensor):
    """The gradients as a graph of their own (for double backward), from the saved inputs."""
    wanted = [t for t, need in zip((xp, h0), ctx.needs_input_grad[:2]) if need]
    with torch.enable_grad():
        out = reference_lerp_scan(ctx.gates, xp, h0, mask)
        found = iter(torch.autograd.grad(out, wanted, grad, create_graph=True))
    return (*(next(found) if need else None for need in ctx.needs_input_grad[:2]), None, None,
            None)
