"""The layer-normalised LSTM and GRU over a whole sequence as one autograd node each.

Autograd's view of the step loop is ~15 small nodes per step, and in backward one
weight-gradient matmul per step. Here forward runs the recurrence with no graph, keeping in
time-major ``(T, B, ·)`` buffers what backward needs (pre-LayerNorm products ``z = W_hh h``, their
statistics, gate activations, states); backward walks the steps once in reverse doing only what
is sequential (each step's pre-activation gradients and ``δh_{t-1} = δz_t W_hh``), then gets
every parameter gradient from all steps at once, as oneDNN's RNN kernels do::

    ∂L/∂W_hh = Σ_t δz_tᵀ h_{t-1} = δZᵀ (G, T·B) @ H_prev (T·B, H)      one matmul
    ∂L/∂γ = Σ_t Σ_b δ(LN out) ⊙ ẑ,     ∂L/∂β = Σ_t Σ_b δ(LN out)         one sum each

A LayerNorm's input gradient is aten's fused ``native_layer_norm_backward`` (input only); the
rest is hand-derived elementwise math on coefficients computed for all steps before the loop.
A step whose mask is False carries the state: its pre-activation gradients are zero and the
state gradients pass through it. When backward itself must be differentiable (double backward,
``create_graph=True``) it recomputes the step loop from the saved inputs and differentiates that.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor
from torch.nn import functional as F

from rnnkit.cells.fixed_product import fixed_product

State = tuple[Tensor, ...]


def ln_lstm_step(xp, state, weights, gain_hh, gain_c, bias_c, eps_hh, eps_c, h_mask=None):
    """One LayerNorm-LSTM step (see :class:`~rnnkit.cells.LayerNormLSTMCell`): ``xp (B, 4H)``,
    ``state (h, c)``, ``weights = W_hhᵀ (H, 4H)`` -> ``((h', c'), (i, f, g, o))``."""
    h, c = state
    h_in = h if h_mask is None else h * h_mask
    # one chunk node instead of four slices (see LSTMCell)
    a = xp + F.layer_norm(h_in.mm(weights), (xp.size(-1),), gain_hh, None, eps_hh)
    i, f, g, o = a.chunk(4, 1)
    i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
    c_new = torch.addcmul(f * c, i, g)
    h_new = o * F.layer_norm(c_new, (c_new.size(-1),), gain_c, bias_c, eps_c).tanh()
    return (h_new, c_new), (i, f, g, o)


def ln_gru_step(xp, state, weights, gain, bias, eps, h_mask=None):
    """One LayerNorm-GRU step (see :class:`~rnnkit.cells.LayerNormGRUCell`): ``xp (B, 3H)``,
    ``state (h,)``, ``weights = W_hhᵀ (H, 3H)`` -> ``((h',), (r, z, n))``."""
    (h,) = state
    H = h.size(-1)
    h_in = h if h_mask is None else h * h_mask
    xp_rz, xp_n = xp.split(2 * H, 1)
    hh_rz, hh_n = F.layer_norm(h_in.mm(weights), (3 * H,), gain, bias, eps).split(2 * H, 1)
    r, z = (xp_rz + hh_rz).sigmoid().chunk(2, 1)
    n = torch.addcmul(xp_n, r, hh_n).tanh()
    # under autocast n may be bf16 beside a float32 h: the state keeps its dtype
    return (torch.lerp(n.to(h.dtype), h, z.to(h.dtype)),), (r, z, n)


def reference_scan(step: Callable, xp: Tensor, state: State, mask: Tensor | None,
                   weight_hh: Tensor, parameters: tuple) -> tuple[Tensor, State]:
    """``step`` at every step of ``xp (B, T, G)``, as the layer's loop runs it: ``(B, T, H)``
    outputs (the carried ``h`` at masked steps) and the final state."""
    weights = weight_hh.t()
    outputs = []
    for t in range(xp.size(1)):
        new, _ = step(xp[:, t], state, weights, *parameters)
        if mask is not None:
            keep = mask[:, t].unsqueeze(-1)
            new = tuple(torch.where(keep, n, s) for n, s in zip(new, state))
        state = new
        outputs.append(new[0])
    return torch.stack(outputs, 1), state


def _differentiable_backward(ctx, run: Callable, inputs: tuple, grads: tuple) -> tuple:
    """Double backward: the gradients of ``run(*inputs)`` (the step loop recomputed from the
    Function's saved inputs, in forward's argument order) with a graph (``create_graph``)."""
    wanted = [k for k, x in enumerate(inputs) if ctx.needs_input_grad[k]]
    with torch.enable_grad():
        got = torch.autograd.grad(run(*inputs), [inputs[k] for k in wanted], grads,
                                  create_graph=True, allow_unused=True)
    result: list = [None] * len(inputs)
    for k, g in zip(wanted, got):
        result[k] = g
    return tuple(result)


def _ln_core_grad(grad: Tensor, x_hat: Tensor, gain: Tensor, zero: Tensor, one: Tensor) -> Tensor:
    """``∂L/∂x ⊘ rstd`` of ``y = x̂ ⊙ gain (+ shift)``, ``x̂ = (x - mean) ⊙ rstd``, given
    ``grad = ∂L/∂y``: ``g' - mean(g') - x̂ ⊙ mean(g' ⊙ x̂)`` with ``g' = grad ⊙ gain``, all
    ``(B, N)``. aten's fused LayerNorm backward, fed ``x̂`` itself (mean ``zero``, rstd ``one``)."""
    return torch.ops.aten.native_layer_norm_backward(
        grad, x_hat, (x_hat.size(-1),), zero, one, gain, None, (True, False, False))[0]


def _normalised(x: Tensor, eps: float) -> tuple[Tensor, Tensor]:
    """``(x̂, rstd)``: ``x̂ = (x - mean) ⊙ rstd`` over the last dimension, ``rstd (B, 1)``."""
    x_hat, _, rstd = torch.native_layer_norm(x, (x.size(-1),), None, None, eps)
    return x_hat, rstd


def _time_major(xp: Tensor, mask: Tensor | None):
    """A copy of ``xp`` as a contiguous ``(T, B, G)`` block, and the mask as ``(T, B, 1)``
    floats."""
    xs = xp.transpose(0, 1).clone(memory_format=torch.contiguous_format)
    kept = None if mask is None else mask.t().unsqueeze(-1).to(xs.dtype)
    return xs, kept


def _tanh_of_half(s: Tensor, minus_one: Tensor) -> Tensor:
    """``tanh(x)`` from ``s = σ(2x)``: ``2s - 1``. On CPU ``torch.tanh`` costs ~5 sigmoids, and
    from 8K elements it starts a parallel region, which stalls for milliseconds on a loaded
    machine; the sigmoid form is exact to a few ulps (absolute)."""
    return torch.add(minus_one, s, alpha=2)


def _weight_grad(d_z: Tensor, h0: Tensor, hs: Tensor) -> Tensor:
    """``Σ_t δz_tᵀ h_{t-1}`` as one large matmul over steps 1.. plus step 0's (no copy of
    ``hs`` shifted by one): ``d_z (T, B, G)``, ``h0 (B, H)``, ``hs (T, B, H)`` -> ``(G, H)``."""
    T, B, G = d_z.shape
    later = d_z[1:].reshape((T - 1) * B, G).t().mm(hs[:-1].reshape((T - 1) * B, hs.size(-1)))
    return torch.addmm(later, d_z[0].t(), h0)


class LayerNormLSTMSequence(torch.autograd.Function):
    r"""The LayerNorm-LSTM over ``xp (B, T, 4H)`` from ``(h0, c0)``: ``hs (T, B, H)`` (the state
    ``h`` after every step, time-major) and the final ``c``. Per step, with ``x̂`` normalised::

        z = h W_hhᵀ    a = xp + γ ⊙ ẑ    i, f, g, o = σ(a_i), σ(a_f), tanh(a_g), σ(a_o)
        c' = f ⊙ c + i ⊙ g    y = γ_c ⊙ ĉ' + β_c    h' = o ⊙ tanh(y)

    Backward, from δh, δc reaching h', c' (their own gradient plus the next step's)::

        δy = δh ⊙ o ⊙ (1 - tanh²y)          δc += LN_c'(δy)
        δa = [δc ⊙ g, δc ⊙ c, δc ⊙ i, δh ⊙ tanh y] ⊙ [σ'_i, σ'_f, 1 - g², σ'_o]
        δz = LN_hh'(δa)    δh_prev = δz W_hh    δc_prev = δc ⊙ f

    ``δa`` is ``∂L/∂xp``. Every step's tensors stay in cache: computing the coefficients for all
    steps at once before the loop was slower (memory-bound passes over ``(T, B, 4H)``).
    """

    @staticmethod
    def forward(ctx, xp, h0, c0, weight_hh, mask, gain_hh, gain_c, bias_c, eps_hh, eps_c):
        xs, kept = _time_major(xp, mask)
        T, B, G = xs.shape
        H = G // 4
        # tanh(a_g) = 2σ(2a_g) - 1: the g block's input and gain doubled once, so one sigmoid
        # serves all four gates; likewise tanh(y) = 2σ(2y) - 1
        xs[..., 2 * H : 3 * H] *= 2
        gain_doubled, bias_c2 = gain_hh.clone(), bias_c * 2
        gain_doubled[2 * H : 3 * H] *= 2
        minus_one = xs.new_full((), -1.0)
        recurrent = fixed_product(weight_hh, B)
        hs = xs.new_empty(T, B, H)
        steps = []
        h, c = h0, c0
        for t in range(T):
            z_hat, rstd = _normalised(recurrent(h), eps_hh)
            act = torch.addcmul(xs[t], z_hat, gain_doubled).sigmoid_()  # g block: σ(2 a_g)
            i, f, g, o = act.chunk(4, 1)
            g = _tanh_of_half(g, minus_one)
            c_new = torch.addcmul(f * c, i, g)
            c_hat, rstd_c = _normalised(c_new, eps_c)
            y2 = torch.addcmul(bias_c2, c_hat, gain_c, value=2)
            tanh_y = _tanh_of_half(y2.sigmoid_(), minus_one)
            if kept is None:
                h = torch.mul(o, tanh_y, out=hs[t])
            else:
                keep = mask[:, t].unsqueeze(-1)
                h = torch.where(keep, o * tanh_y, h, out=hs[t])
                c_new = torch.where(keep, c_new, c)
            steps.append((z_hat, rstd, act, g, c, c_hat, rstd_c, tanh_y))
            c = c_new
        ctx.save_for_backward(xp, h0, c0, weight_hh, mask, gain_hh, gain_c, bias_c, hs)
        ctx.steps, ctx.eps = steps, (eps_hh, eps_c)
        return hs, c.clone()  # the clone: an output must not be a saved step's tensor

    @staticmethod
    def backward(ctx, grad_hs, grad_c):
        xp, h0, c0, weight_hh, mask, gain_hh, gain_c, bias_c, hs = ctx.saved_tensors
        if torch.is_grad_enabled():
            def run(xp, h0, c0, weight_hh, mask, *parameters):
                out, (_, c) = reference_scan(ln_lstm_step, xp, (h0, c0), mask, weight_hh,
                                             parameters)
                return out.transpose(0, 1), c
            inputs = (xp, h0, c0, weight_hh, mask, gain_hh, gain_c, bias_c, *ctx.eps)
            return _differentiable_backward(ctx, run, inputs, (grad_hs, grad_c))
        T, B, H = hs.shape
        G = 4 * H
        kept = None if mask is None else mask.t().unsqueeze(-1).to(hs.dtype)
        d_a, d_z = hs.new_empty(T, B, G), hs.new_empty(T, B, G)
        d_gain_hh, d_gain_c, d_bias_c = hs.new_zeros(B, G), hs.new_zeros(B, H), hs.new_zeros(B, H)
        one, zero, one_row = hs.new_ones(B, H), hs.new_zeros(B, 1), hs.new_ones(B, 1)
        dh, dc = torch.zeros_like(h0), grad_c.clone()
        back = fixed_product(weight_hh.t(), B)  # δz -> δz W_hh
        for t in range(T - 1, -1, -1):
            z_hat, rstd, act, g, c, c_hat, rstd_c, tanh_y = ctx.steps[t]
            i, f, _, o = act.chunk(4, 1)
            dh = dh + grad_hs[t]
            if kept is not None:  # a skipped step: nothing of its own, the state passes through
                dh_through, dc_through = dh * (1 - kept[t]), dc * (1 - kept[t])
                dh, dc = dh * kept[t], dc * kept[t]
            dy = dh * o
            dy *= torch.addcmul(one, tanh_y, tanh_y, value=-1)
            d_gain_c.addcmul_(dy, c_hat)
            d_bias_c += dy
            dc = torch.addcmul(dc, _ln_core_grad(dy, c_hat, gain_c, zero, one_row), rstd_c)
            da = d_a[t]
            torch.mul(dc, g, out=da[:, :H])
            torch.mul(dc, c, out=da[:, H : 2 * H])
            torch.mul(dc, i, out=da[:, 2 * H : 3 * H])
            torch.mul(dh, tanh_y, out=da[:, 3 * H :])
            slope = torch.addcmul(act, act, act, value=-1)  # σ' = σ(1 - σ)
            torch.addcmul(one, g, g, value=-1, out=slope[:, 2 * H : 3 * H])
            da *= slope
            d_gain_hh.addcmul_(da, z_hat)
            dz = torch.mul(_ln_core_grad(da, z_hat, gain_hh, zero, one_row), rstd, out=d_z[t])
            if kept is None:
                dh, dc = back(dz), dc * f
            else:
                dh, dc = back(dz).add_(dh_through), torch.addcmul(dc_through, dc, f)
        d_weight = _weight_grad(d_z, h0, hs)
        return (d_a.transpose(0, 1), dh, dc, d_weight, None, d_gain_hh.sum(0),
                d_gain_c.sum(0), d_bias_c.sum(0), None, None)


class LayerNormGRUSequence(torch.autograd.Function):
    r"""The LayerNorm-GRU over ``xp (B, T, 3H)`` from ``h0``: ``hs (T, B, H)``, the state after
    every step (time-major). Per step, with ``b = γ ⊙ ẑ + β``, ``z = h W_hhᵀ``, split r, u, n::

        r = σ(a_r + b_r)    u = σ(a_u + b_u)    n = tanh(a_n + r ⊙ b_n)    h' = n + u ⊙ (h - n)

    Backward, from δh reaching h' (its own gradient plus the next step's)::

        δn = δh ⊙ (1 - u) ⊙ (1 - n²)    δu = δh ⊙ (h - n) ⊙ σ'_u    δr = δn ⊙ b_n ⊙ σ'_r
        δa = [δr, δu, δn]    δb = [δr, δu, δn ⊙ r]    δz = LN_hh'(δb)
        δh_prev = δz W_hh + δh ⊙ u
    """

    @staticmethod
    def forward(ctx, xp, h0, weight_hh, mask, gain, bias, eps):
        xs, kept = _time_major(xp, mask)
        T, B, G = xs.shape
        H = G // 3
        xs[..., 2 * H :] *= 2  # n = tanh(a_n + r b_n) = 2σ(2a_n + 2r b_n) - 1
        minus_one = xs.new_full((), -1.0)
        recurrent = fixed_product(weight_hh, B)
        hs = xs.new_empty(T, B, H)
        steps = []
        h = h0
        for t in range(T):
            z_hat, rstd = _normalised(recurrent(h), eps)
            b = torch.addcmul(bias, z_hat, gain)
            x = xs[t]
            act = torch.add(x[:, : 2 * H], b[:, : 2 * H]).sigmoid_()
            r, u = act.chunk(2, 1)
            n2 = torch.addcmul(x[:, 2 * H :], r, b[:, 2 * H :], value=2)
            n = _tanh_of_half(n2.sigmoid_(), minus_one)
            steps.append((z_hat, rstd, b, act, n, h))
            if kept is None:
                h = torch.lerp(n, h, u, out=hs[t])
            else:
                h = torch.where(mask[:, t].unsqueeze(-1), torch.lerp(n, h, u), h, out=hs[t])
        ctx.save_for_backward(xp, h0, weight_hh, mask, gain, bias, hs)
        ctx.steps, ctx.eps = steps, eps
        return hs

    @staticmethod
    def backward(ctx, grad_hs):
        xp, h0, weight_hh, mask, gain, bias, hs = ctx.saved_tensors
        if torch.is_grad_enabled():
            def run(xp, h0, weight_hh, mask, *parameters):
                out, _ = reference_scan(ln_gru_step, xp, (h0,), mask, weight_hh, parameters)
                return out.transpose(0, 1)
            inputs = (xp, h0, weight_hh, mask, gain, bias, ctx.eps)
            return _differentiable_backward(ctx, run, inputs, (grad_hs,))
        T, B, H = hs.shape
        G = 3 * H
        kept = None if mask is None else mask.t().unsqueeze(-1).to(hs.dtype)
        d_a, d_z = hs.new_empty(T, B, G), hs.new_empty(T, B, G)
        d_gain, d_bias = hs.new_zeros(B, G), hs.new_zeros(B, G)
        one, zero, one_row = hs.new_ones(B, H), hs.new_zeros(B, 1), hs.new_ones(B, 1)
        dh = torch.zeros_like(h0)
        back = fixed_product(weight_hh.t(), B)  # δz -> δz W_hh
        for t in range(T - 1, -1, -1):
            z_hat, rstd, b, act, n, h = ctx.steps[t]
            r, u = act.chunk(2, 1)
            slope_r, slope_u = torch.addcmul(act, act, act, value=-1).chunk(2, 1)
            dh = dh + grad_hs[t]
            if kept is not None:  # a skipped step: nothing of its own, the state passes through
                dh_through, dh = dh * (1 - kept[t]), dh * kept[t]
            da = d_a[t]
            dn = torch.mul(dh, 1 - u, out=da[:, 2 * H :])
            dn *= torch.addcmul(one, n, n, value=-1)
            torch.mul(dh, h - n, out=da[:, H : 2 * H]).mul_(slope_u)
            torch.mul(dn, b[:, 2 * H :], out=da[:, :H]).mul_(slope_r)
            db = torch.cat([da[:, : 2 * H], dn * r], 1)
            d_gain.addcmul_(db, z_hat)
            d_bias += db
            dz = torch.mul(_ln_core_grad(db, z_hat, gain, zero, one_row), rstd, out=d_z[t])
            if kept is None:
                dh = torch.addcmul(back(dz), dh, u)
            else:
                dh = torch.addcmul(back(dz).add_(dh_through), dh, u)
        d_weight = _weight_grad(d_z, h0, hs)
        return (d_a.transpose(0, 1), dh, d_weight, None, d_gain.sum(0), d_bias.sum(0), None)
