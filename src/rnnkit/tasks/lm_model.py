"""The language model: embedding -> any rnnkit stack -> linear decoder (tied when sizes allow)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import torch
from torch import Tensor, nn

from rnnkit.cells import CELL_KINDS
from rnnkit.errors import ConfigError
from rnnkit.layers import Recurrent, build_stack
from rnnkit.train.loop import TrainConfig


@dataclass
class LMConfig:
    """Everything needed to rebuild a language model (saved in ``config.json``)."""

    level: str = "char"  # "char" or "word"
    cell: str = "lstm"
    layers: int = 1
    hidden: int = 256
    embedding: int = 64
    dropout: float = 0.0  # on embeddings, between layers and before the decoder
    tie: bool = True  # share embedding and decoder weights when embedding == hidden
    bptt: int = 64  # steps per truncated-BPTT segment
    batch: int = 32  # parallel streams
    lower: bool = False  # word level: lower-case the text
    max_vocab: int = 0  # word level: keep the most frequent tokens, the rest become <unk>; 0 = all
    vocab_size: int = 0  # filled in from the vocabulary

    def check(self) -> None:
        if self.level not in ("char", "word"):
            raise ConfigError(f"--level must be char or word, got {self.level!r}")
        if self.cell not in CELL_KINDS:
            raise ConfigError(f"--cell must be one of {', '.join(CELL_KINDS)}, got {self.cell!r}")
        for name in ("layers", "hidden", "embedding", "bptt", "batch"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"--{name} must be positive, got {getattr(self, name)}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"--dropout must be in [0, 1), got {self.dropout}")
        if self.max_vocab < 0:
            raise ConfigError(f"--max-vocab must be >= 0, got {self.max_vocab}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> LMConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def default_train_config(**overrides) -> TrainConfig:
    """Training defaults for language models, tuned on Tiny Shakespeare with a 103 s budget on
    2 cores (bench/charlm.py): a high AdamW rate decayed by cosine, clipped at norm 1."""
    options = {"time": 300.0, "lr": 1e-2, "eval_every": 400, **overrides}
    return TrainConfig(**options)


class LanguageModel(nn.Module):
    """``ids (B, T) -> logits (B, T, V)``, carrying the recurrent state between calls."""

    def __init__(self, config: LMConfig) -> None:
        super().__init__()
        config.check()
        if config.vocab_size <= 0:
            raise ConfigError("the vocabulary is empty")
        self.config = config
        V, E, H = config.vocab_size, config.embedding, config.hidden
        self.embedding = nn.Embedding(V, E)
        self.rnn = build_stack(config.cell, E, H, config.layers, dropout=config.dropout)
        self.drop = nn.Dropout(config.dropout)
        self.decoder = nn.Linear(H, V)
        if config.tie and E == H:
            # a shared matrix is also the output layer: keep it small, as awd-lstm does
            nn.init.uniform_(self.embedding.weight, -0.1, 0.1)
            self.decoder.weight = self.embedding.weight
        # untied, the embedding keeps torch's N(0, 1): inputs of unit scale train much faster

    @property
    def tied(self) -> bool:
        return self.decoder.weight is self.embedding.weight

    def forward(self, ids: Tensor, state=None) -> tuple[Tensor, list]:
        x = self.drop(self.embedding(ids))  # (B, T, E)
        out, state = self.rnn(x, state)  # (B, T, H)
        return self.decoder(self.drop(out)), state  # (B, T, V)

    def initial_state(self, batch: int) -> list:
        ref = self.decoder.weight
        return [layer.cell.initial_state(batch, ref.device, ref.dtype) for layer in self.rnn.layers]

    @torch.no_grad()
    def step(self, ids: Tensor, state: list) -> tuple[Tensor, list]:
        """One token per row, ``ids (B,) -> logits (B, V)``, through the cells' own step.

        Generation calls this once per token: it skips the layer machinery (lengths, masks,
        kernel dispatch) that only pays off on whole sequences.
        """
        x = self.embedding(ids)  # (B, E)
        new_state = []
        for layer, layer_state in zip(self.rnn.layers, state):
            assert isinstance(layer, Recurrent)
            s, _ = layer.cell.step(layer.cell.project(x), layer_state)
            new_state.append(s)
            x = s[0]
        return self.decoder(x), new_state


def detach_state(state):
    """Cut the graph behind a carried state (truncated BPTT)."""
    if isinstance(state, Tensor):
        return state.detach()
    return type(state)(detach_state(s) for s in state)
