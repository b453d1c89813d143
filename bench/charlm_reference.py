"""The plain PyTorch baseline of bench/charlm.py: a 30-line torch.nn.LSTM character model.

    python bench/charlm_reference.py FILE [--time 103]

torch.nn.LSTM 1x256, embedding 64, batch 32 x 128 random windows, AdamW 3e-3 with cosine decay,
gradient norm clipped at 1.0; 90/10 split; validation scored like rnnkit's (contiguous streams,
carried state) so the two numbers compare.
"""

from __future__ import annotations

import argparse
import math
import time

import torch
from torch import nn
from torch.nn import functional as F


class CharLSTM(nn.Module):
    def __init__(self, vocab: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, 64)
        self.lstm = nn.LSTM(64, 256, batch_first=True)
        self.head = nn.Linear(256, vocab)

    def forward(self, x, state=None):
        out, state = self.lstm(self.embed(x), state)
        return self.head(out), state


@torch.no_grad()
def valid_loss(model: CharLSTM, ids: torch.Tensor, streams: int = 16, bptt: int = 256) -> float:
    model.eval()
    per = ids.numel() // streams
    data = ids[: per * streams].view(streams, per)
    state, total, count = None, 0.0, 0
    for s in range(0, per - 1, bptt):
        e = min(s + bptt, per - 1)
        logits, state = model(data[:, s:e], state)
        total += F.cross_entropy(logits.flatten(0, 1), data[:, s + 1 : e + 1].flatten(),
                                 reduction="sum").item()
        count += (e - s) * streams
    model.train()
    return total / count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    parser.add_argument("--time", type=float, default=103.0)
    args = parser.parse_args()
    text = open(args.file, encoding="utf-8").read()
    chars = sorted(set(text))
    lookup = {c: i for i, c in enumerate(chars)}
    ids = torch.tensor([lookup[c] for c in text])
    n = int(0.9 * len(ids))
    train, valid = ids[:n], ids[n:]
    torch.manual_seed(0)
    model = CharLSTM(len(chars))
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    start, steps, tokens = time.perf_counter(), 0, 0
    while (elapsed := time.perf_counter() - start) < args.time:
        for g in opt.param_groups:
            g["lr"] = 3e-3 * 0.5 * (1 + math.cos(math.pi * elapsed / args.time))
        at = torch.randint(0, n - 129, (32,))
        chunk = train[at.unsqueeze(1) + torch.arange(129)]
        logits, _ = model(chunk[:, :-1])
        loss = F.cross_entropy(logits.flatten(0, 1), chunk[:, 1:].flatten())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        steps += 1
        tokens += 32 * 128
    seconds = time.perf_counter() - start
    print(f"torch.nn.LSTM 1x256 script: validation {valid_loss(model, valid):.4f} nats/char after "
          f"{seconds:.0f} s, {steps} steps, {tokens / seconds:,.0f} tokens/s")


if __name__ == "__main__":
    main()
