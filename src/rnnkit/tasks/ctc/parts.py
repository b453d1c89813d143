"""Where examples come from, split into training, validation and test parts.

- ``mnist-strings`` (and ``digits-strings``, from scikit-learn's 8x8 digits): strings of 1 to
  10 handwritten digits composed from real digit images (:mod:`rnnkit.data.images`). The
  source images are split first (80/10/10, stratified), and each part's strings are composed
  from its own images only: the test reads handwriting never seen in training. Training
  strings are composed afresh every epoch (new strings of the same training images).
- ``spoken-digits``: strings of 1 to 7 digits spoken by joining the real recordings of one
  speaker (:mod:`rnnkit.data.audio`) with random pauses, gain, speed and noise; each part
  from its own seeds. There is one recording per digit, so held-out strings are new orders
  and perturbations of the same voice, not new speakers.
- ``spoken-sentences``: the transcribed speech prompts of the same speaker (551 once notes and
  silences are left out, :func:`spoken_text`), split by file.
- a CSV listing ``file,text`` of the user's images or WAV files (:mod:`rnnkit.data.media`),
  cut by ``split`` or with ``valid``/``test`` listings.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from rnnkit.config import Config, param
from rnnkit.data.streams import check_fractions
from rnnkit.errors import ConfigError, DataError
from rnnkit.tasks.ctc.task import Example

IMAGE_STRINGS = {"mnist-strings": "mnist-5k", "digits-strings": "digits-8x8"}
SPOKEN = ("spoken-digits", "spoken-sentences")
NAMED = (*IMAGE_STRINGS, *SPOKEN)


@dataclass
class ReadOptions(Config):
    strings: int = param(10_000, "string datasets: training strings composed per epoch")
    eval_strings: int = param(1_000, "string datasets: validation and test strings each")
    min_digits: int = param(1, "string datasets: the fewest digits in a string")
    max_digits: int = param(0, "string datasets: the most digits (0: 10 for images, 7 "
                            "for speech)")
    split: tuple = param((0.8, 0.1, 0.1), "train, valid, test fractions (of source images, "
                         "prompts or listed files)", cli=False)
    seed: int = param(0, "the seed of the split and of the composed strings", cli=False)

    def check(self) -> None:
        super().check()
        self.require_positive("strings", "eval_strings", "min_digits")
        self.require_at_least("max_digits", 0)
        if self.max_digits and self.max_digits < self.min_digits:
            raise ConfigError(f"max_digits ({self.max_digits}) is below min_digits "
                              f"({self.min_digits})", parameters=("max_digits", "min_digits"))
        self.split = tuple(check_fractions(self.split))


@dataclass
class Parts:
    """``train(epoch)`` gives that epoch's training examples; ``valid`` and ``test`` are
    fixed. ``modality`` is ``image`` or ``audio``; ``notes`` what reading met."""

    train: Callable[[int], list[Example]]
    valid: list[Example]
    test: list[Example]
    source: str
    modality: str
    sample_rate: int = 8000
    split: str = ""
    notes: dict = field(default_factory=dict)

    def named(self) -> dict[str, list[Example]]:
        return {"train": self.train(0), "valid": self.valid, "test": self.test}


def _seed(options: ReadOptions, part: str, epoch: int = 0) -> int:
    return options.seed * 1_000_003 + {"train": 0, "valid": 1, "test": 2}[part] * 10_007 + epoch


def _image_strings(name: str, options: ReadOptions, height: int) -> Parts:
    from rnnkit.data import images

    pixels, labels = images.digit_images(IMAGE_STRINGS[name])
    pools = dict(zip(("train", "valid", "test"),
                     images.split_sources(labels, options.split, options.seed)))
    longest = options.max_digits or 10

    def compose(part: str, count: int, epoch: int = 0) -> list[Example]:
        made = images.compose_strings(pixels, labels, pools[part], count,
                                      seed=_seed(options, part, epoch), height=height,
                                      min_digits=options.min_digits, max_digits=longest)
        return [Example(s.image, s.text) for s in made]

    sizes = {part: len(pool) for part, pool in pools.items()}
    return Parts(lambda epoch: compose("train", options.strings, epoch),
                 compose("valid", options.eval_strings), compose("test", options.eval_strings),
                 name, "image", split=f"source images {sizes['train']}/{sizes['valid']}/"
                 f"{sizes['test']}, strings of {options.min_digits}-{longest} digits")


def _spoken_digits(options: ReadOptions) -> Parts:
    from rnnkit.data import audio

    digits = audio.digit_recordings(audio.prompts())
    longest = options.max_digits or 7

    def compose(part: str, count: int, epoch: int = 0) -> list[Example]:
        made = audio.compose_spoken(digits, count, seed=_seed(options, part, epoch),
                                    min_digits=options.min_digits, max_digits=longest)
        return [Example(s.wave, s.text) for s in made]

    return Parts(lambda epoch: compose("train", options.strings, epoch),
                 compose("valid", options.eval_strings), compose("test", options.eval_strings),
                 "spoken-digits", "audio", audio.SAMPLE_RATE,
                 split=f"one recording per digit, strings of {options.min_digits}-{longest} "
                 "digits, each part from its own seeds")


def _cut(items: list, split: tuple, seed: int) -> tuple[list, list, list]:
    order = np.random.default_rng(seed).permutation(len(items))
    n_train = int(round(split[0] * len(items)))
    n_valid = int(round(split[1] * len(items)))
    pick = lambda idx: [items[i] for i in idx]  # noqa: E731
    return (pick(order[:n_train]), pick(order[n_train:n_train + n_valid]),
            pick(order[n_train + n_valid:]))


def spoken_text(transcript: str) -> str:
    """What a transcript says, as speech recognisers are scored: notes in brackets, angle
    brackets or parentheses (``[ascending tones]``, ``dot [.]``, ``(2 seconds of silence)``)
    removed, lower case, only letters, digits, apostrophes and single spaces."""
    text = re.sub(r"\[[^\]]*\]|<[^>]*>|\([^)]*\)", " ", transcript).lower()
    text = re.sub(r"[^a-z0-9' ]+", " ", text)
    return " ".join(text.split())


def _spoken_sentences(options: ReadOptions) -> Parts:
    from rnnkit.data import audio

    recordings = audio.prompts()
    speech = [Example(r.wave, spoken_text(r.text), r.name) for r in recordings]
    speech = [e for e in speech if e.text]
    train, valid, test = _cut(speech, options.split, options.seed)
    return Parts(lambda epoch: train, valid, test, "spoken-sentences", "audio",
                 audio.SAMPLE_RATE, split=f"prompts {len(train)}/{len(valid)}/{len(test)}",
                 notes={"prompts without speech left out": len(recordings) - len(speech)})


def read_listing(path: str | Path, height: int, sample_rate: int | None = None
                 ) -> tuple[list[Example], str, int]:
    """The examples of a CSV listing (``file,text``): all images or all WAVs (one sample
    rate), with their modality and sample rate."""
    from rnnkit.data import audio, media

    items = media.read_listing(path)
    kinds = {media.is_audio(item.path) for item in items}
    if len(kinds) > 1:
        raise DataError(f"{path} lists both images and audio files; give one kind per listing")
    if kinds == {True}:
        examples, rates = [], set()
        for item in items:
            wave, rate = audio.read_wav(item.path)
            rates.add(rate)
            examples.append(Example(wave, item.text, str(item.path)))
        if sample_rate is not None:
            rates.add(sample_rate)
        if len(rates) > 1:
            raise DataError(f"{path} lists WAV files of several sample rates "
                            f"({', '.join(map(str, sorted(rates)))} Hz); resample them to one "
                            "(e.g. ffmpeg -i IN -ar 16000 OUT.wav)")
        return examples, "audio", rates.pop()
    examples = [Example(media.read_image(item.path, height), item.text, str(item.path))
                for item in items]
    return examples, "image", sample_rate or 8000


def read_parts(data: str, options: ReadOptions, height: int = 32, valid: str | None = None,
               test: str | None = None) -> Parts:
    """The parts of ``data``: a named dataset (``NAMED``) or a CSV listing."""
    options.check()
    if data in IMAGE_STRINGS:
        parts = _image_strings(data, options, height)
    elif data == "spoken-digits":
        parts = _spoken_digits(options)
    elif data == "spoken-sentences":
        parts = _spoken_sentences(options)
    else:
        path = Path(data).expanduser()
        if not path.exists() and "/" not in data and not path.suffix:
            raise DataError(f"no listing file or dataset named {data!r}; give a CSV of "
                            f"file,text or one of {', '.join(NAMED)}")
        examples, modality, rate = read_listing(path, height)
        if valid:
            held, _, held_rate = read_listing(valid, height, rate)
            tested = read_listing(test, height, rate)[0] if test else []
            train, split = examples, f"files {path.name} / {Path(valid).name}"
        else:
            if test:
                raise ConfigError("test needs valid too (or neither, to cut both from "
                                  "data)", "test")
            train, held, tested = _cut(examples, options.split, options.seed)
            split = "{:g}/{:g}/{:g} of the files".format(*options.split)
        if not train or not held:
            raise DataError(f"{path} holds {len(examples)} examples: too few to cut training "
                            "and validation parts; list more files or give --valid")
        parts = Parts(lambda epoch: train, held, tested, str(path), modality, rate, split)
    if not parts.valid:
        raise DataError(f"{data}: the validation part is empty; give more data or a larger "
                        "valid fraction")
    return parts


def alphabet_of(texts: list[str]) -> str:
    """The sorted characters of ``texts``."""
    return "".join(sorted(set("".join(texts))))


def check_alphabet(examples: list[Example], alphabet: str, what: str) -> None:
    """Refuse training examples whose text has a character outside ``alphabet``."""
    allowed = set(alphabet)
    for e in examples:
        extra = sorted(set(e.text) - allowed)
        if extra:
            where = f" ({e.name})" if e.name else ""
            raise DataError(f"{what}: the text {e.text!r}{where} has {''.join(extra)!r}, "
                            f"outside the alphabet {alphabet!r}; add it to --alphabet or fix "
                            "the label")


def outside(examples: list[Example], alphabet: str) -> int:
    """How many characters of the examples' texts the alphabet cannot write."""
    allowed = set(alphabet)
    return sum(ch not in allowed for e in examples for ch in e.text)


def check_lengths(examples: list[Example], lengths: torch.Tensor, minimum: Callable[[int], int],
                  what: str) -> None:
    """Refuse an example whose label needs more columns than its input gives."""
    from rnnkit.tasks.ctc.model import columns_needed

    for e, n in zip(examples, lengths.tolist()):
        need = columns_needed(e.text)
        if need > n:
            where = f"{e.name}: " if e.name else ""
            unit = "samples" if e.input.dim() == 1 else "pixels wide"
            raise DataError(f"{what}: {where}the label {e.text!r} needs {need} columns but the "
                            f"input gives {n} after the front end; CTC cannot write it (give "
                            f"inputs at least {minimum(need)} {unit}, or pool less)")
