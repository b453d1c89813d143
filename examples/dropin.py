"""rnnkit.nn.LSTM as a drop-in for torch.nn.LSTM inside a model you already have.

A plain PyTorch character model (embedding -> torch.nn.LSTM -> linear) is trained for a few
steps on Alice in Wonderland. The same class built with ``rnnkit.nn.LSTM`` loads its
``state_dict`` unchanged and gives the same outputs: by default through torch's fused kernel
(the very same call), with ``backend="reference"`` through rnnkit's step-by-step cells (equal to
rounding). What the swap adds: ``as_stack()`` opens the LSTM's layers as rnnkit layers, whose
trajectories show every gate at every step.

    python examples/dropin.py             # 30 training steps
    python examples/dropin.py --steps 300
"""

from __future__ import annotations

import argparse

import torch
from torch import nn

import rnnkit.nn
from rnnkit.data import Vocabulary, resolve_text


class CharModel(nn.Module):
    """An ordinary torch model: ``ids (B, T) -> logits (B, T, V)``; ``lstm`` picks the class."""

    def __init__(self, vocab: int, hidden: int = 128, lstm: type[nn.LSTM] = nn.LSTM) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab, 32)
        self.lstm = lstm(32, hidden, num_layers=2, batch_first=True)
        self.decoder = nn.Linear(hidden, vocab)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(self.embedding(ids))  # (B, T, H)
        return self.decoder(out)  # (B, T, V)


def train_torch_model(steps: int, seed: int = 0, data: str = "alice"
                      ) -> tuple[CharModel, torch.Tensor]:
    """``steps`` Adam steps of a torch.nn.LSTM model on random 64-character windows of ``data``
    (Alice); returns the model and a held-out batch of windows ``(8, 65)``."""
    text = resolve_text(data)
    vocab = Vocabulary.build(text, level="char")
    ids = vocab.encode(text)  # (N,) int64
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = CharModel(len(vocab))
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    cut = int(len(ids) * 0.9)

    def windows(start: int, stop: int, batch: int) -> torch.Tensor:
        first = torch.randint(start, stop - 65, (batch,), generator=generator)
        return torch.stack([ids[i : i + 65] for i in first.tolist()])

    for _ in range(steps):
        batch = windows(0, cut, 32)
        logits = model(batch[:, :-1])
        loss = nn.functional.cross_entropy(logits.flatten(0, 1), batch[:, 1:].flatten())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval(), windows(cut, len(ids), 8)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=30, help="training steps of the torch model")
    parser.add_argument("--data", default="alice", help="a text dataset name or file")
    args = parser.parse_args(argv)

    model, held_out = train_torch_model(args.steps, data=args.data)
    swapped = CharModel(model.decoder.out_features, lstm=rnnkit.nn.LSTM).eval()
    swapped.load_state_dict(model.state_dict())  # torch.nn.LSTM's names and shapes

    x, y = held_out[:, :-1], held_out[:, 1:]
    with torch.no_grad():
        want = model(x)
        native = swapped(x)  # backend "auto": torch's fused kernel
        swapped.lstm.backend = "reference"  # rnnkit's cells, one step at a time
        reference = swapped(x)
        # the same LSTM as rnnkit layers: every gate at every step
        _, _, paths = swapped.lstm.as_stack()(swapped.embedding(x), trajectories=True)
    loss = nn.functional.cross_entropy(want.flatten(0, 1), y.flatten()).item()
    result = {
        "held_out_loss": loss,
        "native_difference": (native - want).abs().max().item(),
        "reference_difference": (reference - want).abs().max().item(),
        "mean_forget_gate": [path["f"].mean().item() for path in paths],
    }
    print(f"torch.nn.LSTM model after {args.steps} steps: held-out loss {loss:.3f} nats/char")
    print(f"rnnkit.nn.LSTM, native backend: max |difference| {result['native_difference']:.2e}")
    print(f"rnnkit.nn.LSTM, reference backend: max |difference| "
          f"{result['reference_difference']:.2e}")
    gates = ", ".join(f"layer {k}: {f:.3f}" for k, f in enumerate(result["mean_forget_gate"]))
    print(f"mean forget gate ({gates})")
    return result


if __name__ == "__main__":
    main()
