"""A trained language model, and writing with it: sampling token by token, next-token odds."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch

from rnnkit.data.vocab import Vocabulary
from rnnkit.decode.sampling import check_sampling, sample_next
from rnnkit.errors import ConfigError
from rnnkit.tasks.lm.model import LanguageModel, LMConfig


@dataclass
class LoadedLM:
    """A trained language model with its vocabulary: what :func:`rnnkit.tasks.lm.load` gives."""

    model: LanguageModel
    vocab: Vocabulary
    config: LMConfig
    directory: Path

    def predict(self, prompt: str, top: int = 5) -> list[tuple[str, float]]:
        """The ``top`` most likely next tokens after ``prompt``, with their probabilities."""
        return predict(self, prompt, top)

    def generate(self, prompt: str = "", length: int = 200, **sampling) -> str:
        """``length`` tokens written after ``prompt`` (see :func:`~rnnkit.tasks.lm.generate`)."""
        return "".join(generate(self, prompt, length, **sampling))


def _prompt_state(lm: LoadedLM, prompt: str):
    """Read the whole prompt in one pass: the logits after it, the state, and its last token id."""
    ids = lm.vocab.encode(prompt) if prompt else torch.zeros(0, dtype=torch.long)
    eos = lm.vocab.eos_id
    if ids.numel() and eos is not None and int(ids[-1]) == eos and not prompt.endswith("\n"):
        ids = ids[:-1]  # the word tokenizer ends every text with <eos>; a prompt goes on
    last = int(ids[-1]) if ids.numel() else None
    if ids.numel() == 0:
        # no prompt: start after a line end, the most neutral context a corpus has
        start = lm.vocab.eos_id if lm.vocab.eos_id is not None else lm.vocab.index.get("\n", 0)
        ids = torch.tensor([start])
    with torch.no_grad():
        logits, state = lm.model(ids.unsqueeze(0))
    return logits[0, -1:], state, last


def generate(
    lm: LoadedLM,
    prompt: str = "",
    length: int = 200,
    temperature: float = 1.0,
    top_k: int = 0,
    top_p: float = 1.0,
    seed: int | None = None,
) -> Iterator[str]:
    """The text each new token adds, yielded as it is made (temperature 0 = greedy).

    Options and the prompt are checked before this returns, so nothing is printed in vain.
    """
    if length < 0:
        raise ConfigError.bad("length", f"must be >= 0, got {length}")
    check_sampling(temperature, top_k, top_p)
    generator = torch.Generator().manual_seed(seed) if seed is not None else None
    logits, state, previous = _prompt_state(lm, prompt)

    def pieces() -> Iterator[str]:
        nonlocal logits, state, previous
        for _ in range(length):
            token = sample_next(logits, temperature, top_k, top_p, generator)
            current = int(token)
            yield lm.vocab.decode_next(previous, current)
            previous = current
            logits, state = lm.model.step(token, state)

    return pieces()


def predict(lm: LoadedLM, prompt: str, top: int = 5) -> list[tuple[str, float]]:
    """The ``top`` most likely next tokens after ``prompt`` with their probabilities."""
    if top <= 0:
        raise ConfigError.bad("top", f"must be positive, got {top}")
    logits, _, _ = _prompt_state(lm, prompt)
    probs = logits[0].softmax(-1)
    values, ids = probs.topk(min(top, probs.numel()))
    return [(lm.vocab.tokens[i], v) for i, v in zip(ids.tolist(), values.tolist())]
