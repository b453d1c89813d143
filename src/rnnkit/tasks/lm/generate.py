"""A trained language model, and writing with it: sampling token by token, next-token odds."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import torch

from rnnkit.data.vocab import Vocabulary
from rnnkit.decode.fast_step import LSTMStepper, stepper_for
from rnnkit.decode.sampling import Sampler
from rnnkit.errors import ConfigError
from rnnkit.tasks.lm.model import LanguageModel, LMConfig


@dataclass
class LoadedLM:
    """A trained language model with its vocabulary: what :func:`rnnkit.tasks.lm.load` gives."""

    model: LanguageModel
    vocab: Vocabulary
    config: LMConfig
    directory: Path
    fast: bool = True  # generate with the laid-out step when the model allows it
    _steppers: dict = field(default_factory=dict, init=False, repr=False)

    def stepper(self, precision: str | None = None) -> LSTMStepper | None:
        """The fast step of :mod:`rnnkit.decode.fast_step` for this model (built once per
        precision), or None when the model is not plain LSTM layers or ``fast`` is off.
        ``precision`` defaults to bf16 inside a CPU bfloat16 autocast, else fp32."""
        if not self.fast:
            return None
        if precision is None:
            bf16 = (torch.is_autocast_enabled("cpu")
                    and torch.get_autocast_dtype("cpu") == torch.bfloat16)
            precision = "bf16" if bf16 else "fp32"
        if precision not in self._steppers:
            self._steppers[precision] = stepper_for(self.model.eval(), precision=precision)
        return self._steppers[precision]

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
    tokens, previous = _tokens(lm, prompt, length, Sampler(temperature, top_k, top_p,
                                                            _generator(seed)), rows=1)

    def pieces() -> Iterator[str]:
        last = previous
        for token in tokens:
            current = int(token)
            yield lm.vocab.decode_next(last, current)
            last = current

    return pieces()


def generate_samples(
    lm: LoadedLM,
    prompt: str = "",
    length: int = 200,
    samples: int = 1,
    temperature: float = 1.0,
    top_k: int = 0,
    top_p: float = 1.0,
    seed: int | None = None,
) -> list[str]:
    """``samples`` texts of ``length`` tokens after ``prompt``, written side by side as one
    batch (one step of the model per token for all of them)."""
    if samples < 1:
        raise ConfigError.bad("samples", f"must be >= 1, got {samples}")
    tokens, previous = _tokens(lm, prompt, length, Sampler(temperature, top_k, top_p,
                                                            _generator(seed)), rows=samples)
    columns = [token.clone() for token in tokens]
    if not columns:
        return [""] * samples
    texts = []
    for row in torch.stack(columns, 1).tolist():
        pieces, last = [], previous
        for current in row:
            pieces.append(lm.vocab.decode_next(last, current))
            last = current
        texts.append("".join(pieces))
    return texts


def _generator(seed: int | None) -> torch.Generator | None:
    return torch.Generator().manual_seed(seed) if seed is not None else None


def _tokens(lm: LoadedLM, prompt: str, length: int, sampler: Sampler, rows: int):
    """The prompt read once, then ``(tokens, last prompt token)``: ``tokens`` yields ``length``
    tensors ``(rows,)`` (buffers: copy one to keep it), each drawn by ``sampler`` and fed back
    through the fast stepper when the model has one, else through the model's step."""
    if length < 0:
        raise ConfigError.bad("length", f"must be >= 0, got {length}")
    logits, state, previous = _prompt_state(lm, prompt)
    if rows > 1:
        logits = logits.expand(rows, -1)
        state = [tuple(s.expand(rows, -1).contiguous() for s in layer) for layer in state]
    stepper = lm.stepper()
    if stepper is not None:  # a state of its own: two generations at once do not mix
        stepper = stepper.fresh(rows)
        stepper.load_state(state)

    def tokens() -> Iterator[torch.Tensor]:
        nonlocal logits, state
        for _ in range(length):
            token = sampler(logits)
            yield token
            if stepper is not None:
                logits = stepper.step(token)
            else:
                logits, state = lm.model.step(token, state)

    return tokens(), previous


def predict(lm: LoadedLM, prompt: str, top: int = 5) -> list[tuple[str, float]]:
    """The ``top`` most likely next tokens after ``prompt`` with their probabilities."""
    if top <= 0:
        raise ConfigError.bad("top", f"must be positive, got {top}")
    logits, _, _ = _prompt_state(lm, prompt)
    probs = logits[0].softmax(-1)
    values, ids = probs.topk(min(top, probs.numel()))
    return [(lm.vocab.tokens[i], v) for i, v in zip(ids.tolist(), values.tolist())]
