"""The language model: embedding -> any rnnkit stack -> linear decoder (tied when sizes allow)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from rnnkit.cells import cell_names
from rnnkit.config import Config, param
from rnnkit.errors import ConfigError
from rnnkit.layers import build_stack
from rnnkit.train.loop import TrainConfig

LEVELS = ("char", "word")


@dataclass
class LMConfig(Config):
    """Everything needed to rebuild a language model (saved in ``config.json``)."""

    level: str = param("char", "tokens: characters or words", choices=LEVELS)
    cell: str = param("lstm", "the recurrent cell", choices=cell_names)
    layers: int = param(1, "stacked recurrent layers")
    hidden: int = param(256, "hidden size of every layer")
    embedding: int = param(0, "embedding size (0: 64 for characters, the hidden size for words)")
    dropout: float = param(0.0, "dropout on embeddings, between layers and before the decoder")
    tie: bool = param(True, "share embedding and decoder weights when their sizes match")
    bptt: int = param(64, "steps per truncated-BPTT segment")
    batch: int = param(32, "parallel streams per step")
    lower: bool = param(False, "lower-case the text")
    max_vocab: int = param(0, "word level: keep the most frequent tokens, the rest become "
                              "<unk> (0 = all)")
    vocab_size: int = param(0, "filled in from the vocabulary", cli=False)

    def check(self) -> None:
        super().check()
        self.require_positive("layers", "hidden", "bptt", "batch")
        self.require_at_least("embedding", 0)
        self.require_fraction("dropout")
        self.require_at_least("max_vocab", 0)

    @property
    def embedding_size(self) -> int:
        """``embedding``, or its default for the level when 0."""
        return self.embedding or (64 if self.level == "char" else self.hidden)


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
        V, E, H = config.vocab_size, config.embedding_size, config.hidden
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
        return self.rnn.initial_state(batch, ref.device, ref.dtype)

    @torch.no_grad()
    def step(self, ids: Tensor, state: list | None) -> tuple[Tensor, list]:
        """One token per row, ``ids (B,) -> logits (B, V)``, through :meth:`Stack.step`.

        Generation calls this once per token: the cells' own step, without the layer machinery
        (lengths, masks, kernel dispatch) that only pays off on whole sequences.
        """
        out, state = self.rnn.step(self.embedding(ids), state)  # (B, E) -> (B, H)
        return self.decoder(out), state


def detach_state(state):
    """Cut the graph behind a carried state (truncated BPTT)."""
    if isinstance(state, Tensor):
        return state.detach()
    return type(state)(detach_state(s) for s in state)

