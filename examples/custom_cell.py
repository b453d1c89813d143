"""A cell of your own in one file, shown on minGRU ("Were RNNs All We Needed?", Feng et al. 2024).

minGRU's gates read only the input, never the previous state::

    z_t  = σ(W_z x_t + b_z)                       update gate
    h~_t = W_h x_t + b_h                          candidate
    h_t  = (1 - z_t) ⊙ h_{t-1} + z_t ⊙ h~_t

so the whole sequence is the linear recurrence ``h_t = a_t ⊙ h_{t-1} + b_t`` with
``a_t = 1 - z_t`` and ``b_t = z_t ⊙ h~_t``, all known before the first step. That is what lets
:meth:`MinGRUCell.scan` compute every step at once; :meth:`MinGRUCell.step` is the same math one
step at a time, for decoders and generation.

rnnkit ships minGRU as the built-in ``"mingru"`` (:mod:`rnnkit.cells.minimal`, whose scan runs
the gates and the recurrence as one autograd node with a hand-derived backward, for speed). This
file writes the same cell the way you would write yours: ``project``, ``step``, and a ``scan``
made of ordinary torch ops around :func:`~rnnkit.cells.minimal.linear_scan`, which runs any
``h_t = a_t ⊙ h_{t-1} + b_t``. Following the Cell contract (:mod:`rnnkit.cells.base`) and
registering the class (here as ``"my-mingru"``) is all it takes: ``Recurrent``, ``Stack``,
``build_stack("my-mingru", ...)``, every task's ``cell="my-mingru"`` and the CLI's ``--cell
my-mingru`` (in a process that imported this file) then work with it, and ``Recurrent`` runs
:meth:`scan` by itself whenever nothing needs the per-step view.

Run it to check the cell against the built-in one and train a small minGRU language model on
Alice in Wonderland for a few seconds::

    python examples/custom_cell.py                        # 60 steps, the built-in "mingru"
    python examples/custom_cell.py --cell my-mingru       # the same with this file's cell
    python examples/custom_cell.py --steps 2000 --hidden 256
"""

from __future__ import annotations

import argparse
import tempfile

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnkit.cells import Cell, State, cell_names, make_cell, register_cell
from rnnkit.cells.minimal import linear_scan
from rnnkit.layers import Recurrent

NAME = "my-mingru"


class MinGRUCell(Cell):
    """minGRU: ``project`` gives ``[W_z x + b_z, W_h x + b_h]`` (B, 2H) in one matmul.

    Parameters: ``weight_ih (2H, F)`` and ``bias_ih (2H,)``, rows ``[z; h~]``. There is no
    ``weight_hh``: the state never enters a matmul.
    """

    state_names = ("h",)
    gate_names = ("z", "candidate")

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True) -> None:
        super().__init__(input_size, hidden_size)
        self.weight_ih = nn.Parameter(torch.empty(2 * hidden_size, input_size))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(2 * hidden_size))
        else:
            self.register_parameter("bias_ih", None)
        self.reset_parameters()  # torch.nn's uniform ±1/sqrt(H), from Cell

    def project(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight_ih, self.bias_ih)  # (..., F) -> (..., 2H)

    def step(
        self,
        xp: Tensor,
        state: State,
        *,
        weight_hh: Tensor | None = None,
        h_mask: Tensor | None = None,
    ) -> tuple[State, tuple[Tensor, ...]]:
        """``h' = (1 - z) ⊙ h + z ⊙ h~`` from ``xp (B, 2H)`` and ``state = (h (B, H),)``.

        The contract's keywords: ``weight_hh`` replaces the recurrent weight for DropConnect,
        and minGRU has none, so only None is accepted (``Recurrent`` refuses ``dropconnect``
        for this cell). ``h_mask`` (recurrent dropout) multiplies h where it enters the
        recurrent matmul; minGRU has no such matmul, so there is nothing to drop and it is
        ignored, as a GRU's mask leaves its own ``z ⊙ h`` carry untouched.
        """
        if weight_hh is not None:
            raise ValueError("MinGRUCell has no recurrent weight: weight_hh must be None")
        (h,) = state
        k, candidate = xp.chunk(2, -1)  # (B, H) each
        z = torch.sigmoid(k)
        return (torch.lerp(h, candidate, z),), (z, candidate)  # h + z (h~ - h)

    def scan(self, xp: Tensor, state: State, mask: Tensor | None = None) -> tuple[Tensor, State]:
        """Every step at once: ``xp (B, T, 2H)``, ``state = (h_0,)``, ``mask (B, T)``.

        The sequence is the linear recurrence ``h_t = a_t ⊙ h_{t-1} + b_t`` with ``a_t = 1 -
        z_t`` and ``b_t = z_t ⊙ h~_t``, which :func:`~rnnkit.cells.minimal.linear_scan`
        computes as one autograd node (a masked step carries the state unchanged). It takes no
        logarithm of the candidates, which may be negative or zero, and never divides by a
        cumulative product, which underflows on long sequences.
        """
        (h0,) = state
        k, candidate = xp.chunk(2, -1)  # (B, T, H) each
        # 1 - z as σ(-k): without the cancellation of 1 - σ(k) when z -> 1
        out = linear_scan(torch.sigmoid(-k), torch.sigmoid(k) * candidate, h0, mask)
        return out, (out[:, -1],)


# The registry is per process; a second import of this file (as a module and as __main__, say)
# keeps the class registered first instead of failing on the duplicate name.
if NAME not in cell_names():
    register_cell(NAME, MinGRUCell)


def difference_from_the_built_in(steps: int = 50) -> float:
    """The largest difference between this file's minGRU and the built-in ``"mingru"`` with the
    same weights: outputs, final states and weight gradients of a layer over a padded batch."""
    torch.manual_seed(0)
    mine = make_cell(NAME, 8, 16).double()
    built_in = make_cell("mingru", 8, 16).double()
    built_in.load_state_dict(mine.state_dict())
    x = torch.randn(4, steps, 8, dtype=torch.float64)
    lengths = torch.tensor([steps, steps // 2, 1, 0])

    def run(cell: Cell) -> tuple[Tensor, ...]:
        out, (final,) = Recurrent(cell)(x, lengths=lengths)  # both take their scan
        return out, final, *torch.autograd.grad(out.square().sum(), list(cell.parameters()))

    return max((a - b).abs().max().item() for a, b in zip(run(mine), run(built_in)))


def main(argv: list[str] | None = None) -> dict:
    """Check this file's minGRU against the built-in one, then train a minGRU character LM on
    ``alice`` and print its bits per character."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=60, help="optimizer steps (the budget)")
    parser.add_argument("--hidden", type=int, default=128, help="hidden size")
    parser.add_argument("--layers", type=int, default=2, help="stacked minGRU layers")
    parser.add_argument("--data", default="alice", help="a dataset name or a text file")
    parser.add_argument("--out", default=None, help="model directory (default: a temporary one)")
    parser.add_argument("--cell", default="mingru", choices=("mingru", NAME),
                        help="the built-in minGRU or this file's")
    args = parser.parse_args(argv)

    difference = difference_from_the_built_in()
    print(f"{NAME} (this file) against the built-in mingru: largest difference {difference:.1e}")
    if not difference < 1e-10:
        raise RuntimeError("this file's minGRU no longer equals the built-in one")

    from rnnkit.tasks import lm

    config = lm.LMConfig(cell=args.cell, hidden=args.hidden, layers=args.layers, batch=16)
    train = lm.default_train_config(steps=args.steps, warmup=min(50, args.steps // 5),
                                    eval_every=max(1, args.steps // 2))
    with tempfile.TemporaryDirectory() as scratch:
        out = args.out or scratch
        metrics = lm.fit(args.data, out, config, train, baseline=False, force=True)
        # generation steps the loaded model token by token: the cell's step, not its scan
        sample = lm.load(out).generate("Alice ", 60, temperature=0.0)
    print(f"minGRU LM, {args.layers} x {args.hidden}, {metrics['parameters']:,} parameters, "
          f"{metrics['steps']} steps in {metrics['train_seconds']:.1f} s")
    print(f"valid bpc {metrics['valid']['bpc']:.3f}")
    if metrics["test"]:
        print(f"test bpc {metrics['test']['bpc']:.3f}")
    print(f"greedy sample: {'Alice ' + sample!r}")
    return metrics


if __name__ == "__main__":
    main()
