"""Tokens of sequence-to-sequence: a tokeniser (text <-> pieces) and a vocabulary (pieces <->
ids with ``<pad>``, ``<unk>``, ``<s>``, ``</s>``), both saved with the model.

Levels: ``char`` (every character a token), ``word`` (runs of letters and digits, and each
other non-space character; spaces are restored around punctuation when joining) and
``subword`` (a SentencePiece BPE or unigram model trained on the training split only, both
sides together; its ``.model`` file is saved in the model directory as ``tokenizer.model``).
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from rnnkit.errors import CheckpointError, ConfigError

LEVELS = ("char", "word", "subword")
SUBWORD_KINDS = ("bpe", "unigram")
PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<s>", "</s>"
SPECIALS = (PAD, UNK, BOS, EOS)
MODEL_FILE = "tokenizer.model"

_WORD = re.compile(r"\w+|[^\w\s]")
_NO_SPACE_BEFORE = set(".,;:!?)]}»%'")
_NO_SPACE_AFTER = set("([{¿¡«")


class Tokeniser:
    """``split(text) -> pieces`` and ``join(pieces) -> text`` at one ``level``."""

    def __init__(self, level: str, processor=None, model_bytes: bytes = b"",
                 kind: str = "") -> None:
        if level not in LEVELS:
            raise ConfigError.bad("level", f"must be one of {', '.join(LEVELS)}, got {level!r}")
        self.level, self.processor, self.kind = level, processor, kind
        self.model_bytes = model_bytes

    @classmethod
    def train(cls, level: str, texts: Sequence[str], size: int = 4000,
              kind: str = "bpe") -> Tokeniser:
        """A tokeniser for ``texts`` (the training split's sources and targets): only the
        subword level learns anything (a SentencePiece model of ``size`` pieces)."""
        if level != "subword":
            return cls(level)
        if kind not in SUBWORD_KINDS:
            raise ConfigError.bad("subword", f"must be one of {', '.join(SUBWORD_KINDS)}")
        import sentencepiece as spm

        model = io.BytesIO()
        try:
            spm.SentencePieceTrainer.train(
                sentence_iterator=iter(texts), model_writer=model, vocab_size=size,
                model_type=kind, character_coverage=1.0, pad_id=-1, bos_id=-1, eos_id=-1,
                unk_id=0, minloglevel=2, num_threads=1,
                hard_vocab_limit=False, max_sentence_length=1 << 16)
        except RuntimeError as failed:
            raise ConfigError.bad("vocab_size", f"SentencePiece could not learn {size} pieces "
                                                f"from the training data ({failed})") from None
        return cls.from_model(model.getvalue(), kind)

    @classmethod
    def from_model(cls, data: bytes, kind: str = "bpe") -> Tokeniser:
        import sentencepiece as spm

        processor = spm.SentencePieceProcessor(model_proto=data)
        return cls("subword", processor, data, kind)

    def split(self, text: str) -> list[str]:
        if self.level == "char":
            return list(text)
        if self.level == "word":
            return _WORD.findall(text)
        return self.processor.encode(text, out_type=str)

    def join(self, pieces: Iterable[str]) -> str:
        pieces = list(pieces)
        if self.level == "char":
            return "".join(pieces)
        if self.level == "subword":
            return self.processor.decode(pieces)
        out = ""
        for piece in pieces:
            if out and piece not in _NO_SPACE_BEFORE and out[-1] not in _NO_SPACE_AFTER:
                out += " "
            out += piece
        return out

    # -- saved with the model ----------------------------------------------------------------
    def to_dict(self) -> dict:
        saved = {"level": self.level}
        if self.level == "subword":
            saved.update(kind=self.kind, model=MODEL_FILE)
        return saved

    def save(self, directory: str | Path) -> None:
        if self.level == "subword":
            from rnnkit.train.checkpoint import atomic_write

            atomic_write(Path(directory) / MODEL_FILE,
                         lambda tmp: Path(tmp).write_bytes(self.model_bytes))

    @classmethod
    def from_dict(cls, saved: dict, directory: str | Path) -> Tokeniser:
        if saved.get("level") != "subword":
            return cls(saved["level"])
        path = Path(directory) / saved.get("model", MODEL_FILE)
        if not path.is_file():
            raise CheckpointError(f"{path} is missing (the subword model of this directory); "
                                  "restore it or retrain")
        return cls.from_model(path.read_bytes(), saved.get("kind", "bpe"))


class Vocab:
    """``tokens[i]`` has id ``i``; the four specials come first (``<pad>`` is 0)."""

    def __init__(self, tokens: Sequence[str]) -> None:
        if tuple(tokens[:4]) != SPECIALS:
            raise ValueError(f"a vocabulary starts with {SPECIALS}")
        self.tokens = list(tokens)
        self.index = {t: i for i, t in enumerate(self.tokens)}
        self.pad, self.unk, self.bos, self.eos = range(4)

    @classmethod
    def build(cls, sequences: Iterable[Sequence[str]], max_size: int = 0,
              min_count: int = 1) -> Vocab:
        """Pieces seen at least ``min_count`` times, the most frequent first (ties by piece),
        at most ``max_size`` of them with the specials (0: no limit)."""
        counts: Counter = Counter()
        for pieces in sequences:
            counts.update(pieces)
        ranked = sorted((t for t, n in counts.items() if n >= min_count and t not in SPECIALS),
                        key=lambda t: (-counts[t], t))
        if max_size:
            ranked = ranked[:max(0, max_size - len(SPECIALS))]
        return cls([*SPECIALS, *ranked])

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, pieces: Sequence[str]) -> tuple[list[int], int]:
        """The ids of ``pieces`` and how many were unknown (read as ``<unk>``)."""
        ids = [self.index.get(p, self.unk) for p in pieces]
        return ids, sum(i == self.unk for i in ids)

    def decode(self, ids: Iterable[int]) -> list[str]:
        """The pieces of ``ids``, specials left out (``<unk>`` kept, as a visible mark)."""
        return [self.tokens[i] for i in ids if i > self.eos or i == self.unk]

    def to_dict(self) -> dict:
        return {"tokens": self.tokens}

    @classmethod
    def from_dict(cls, saved: dict) -> Vocab:
        return cls(saved["tokens"])
