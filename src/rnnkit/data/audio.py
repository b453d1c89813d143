"""Spoken prompts by name (``allison-prompts``), WAV files, and spoken digit strings (CTC).

``allison-prompts`` (kind ``"audio"``) is the English voice prompts of the Asterisk telephone
system, from two pinned Debian packages (:mod:`rnnkit.data.debian`): ``asterisk-core-sounds-
en-wav`` 1.6.1-1 holds 568 WAVs (8 kHz, mono, 16-bit PCM, 25.5 minutes in all) under
``usr/share/asterisk/sounds/en_US_f_Allison/`` (``digits/3.wav``, ``vm-goodbye.wav``, ...), and
``asterisk-core-sounds-en`` 1.6.1-1 their transcripts in ``core-sounds-en.txt.gz``, one
``name: text`` line each (569 lines after a ``;`` comment; ``spy-iax2: IAX (note: does not say
"2")``). Every one of the 568 WAVs has a transcript and all are kept; the one transcript
without a WAV is ``pls-try-call-later``. Five recordings are not speech, and their transcripts
say so in brackets: ``ascending-2tone`` "[ascending tones]", ``descending-2tone``, ``beep``,
``beeperr`` and ``tt-monkeys`` "[sound of monkeys screaming]"; nine ``letters/`` ones say a
word and name its symbol (``letters/dot: dot [.]``). Texts are kept verbatim.

It is ONE speaker, Allison Smith, recorded 2003-2010, licensed CC-BY-SA-3.0. The converted
file is safetensors: ``samples`` int16 (all recordings one after another, in path order),
``offsets`` int64 [M+1] (recording m is ``samples[offsets[m]:offsets[m+1]]``), and metadata
``sample_rate`` ("8000"), ``names`` and ``texts`` (JSON lists: ``"digits/3"``, ``"three"``).

:func:`compose_spoken` strings spoken digits together. The dataset has ONE recording of each
digit, so strings held out for testing differ from the training strings only in the order of
the digits, the pauses and the perturbations (speed, gain, noise): a test of reading this voice
saying these ten recordings in new orders, not of hearing new speakers or new utterances.
"""

from __future__ import annotations

import gzip
import io
import json
import math
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rnnkit.data.debian import data_members, package_deb
from rnnkit.data.registry import DatasetInfo, fetch, register, safetensors_bytes
from rnnkit.errors import DataError

if TYPE_CHECKING:  # torch loads on first use, not when the registry is listed
    import torch

SAMPLE_RATE = 8000
PROMPT_DEBS = (
    ("asterisk-core-sounds-en-wav", "1.6.1-1",
     "2be3ea287d83299d143815fa804f11179a75b7affd4a758b98b55f5afc18a35d"),
    ("asterisk-core-sounds-en", "1.6.1-1",
     "973e797d28e37fa6ca3c0a9d6fa717e77cf1268ae916bf09fd3503113cdffa50"),
)
VOICE = "usr/share/asterisk/sounds/en_US_f_Allison/"
TRANSCRIPTS = "usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz"
CONVERT_HINT = "convert it to PCM WAV, e.g. with ffmpeg -i IN -ac 1 OUT.wav"


def read_transcripts(text: str) -> dict[str, str]:
    """``name: text`` lines (``;`` comments and blank lines skipped) as ``{name: text}``."""
    found = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith(";"):
            continue
        name, colon, said = line.partition(":")
        if not colon or not name.strip():
            raise DataError(f"the transcripts' line {number} is not 'name: text'; report it "
                            "to rnnkit")
        found[name.strip()] = said.strip()
    return found


def allison_prompts(folder: Path) -> bytes:
    """The two .debs in ``folder`` (:func:`rnnkit.data.debian.download_all`) as the
    safetensors file of the module doc: every WAV that has a transcript, in path order."""
    wavs = data_members(package_deb(folder, PROMPT_DEBS[0][0]), VOICE.replace(".", r"\.") +
                        r".+\.wav")
    texts = data_members(package_deb(folder, PROMPT_DEBS[1][0]), TRANSCRIPTS.replace(".", r"\."))
    if not wavs or not texts:
        raise DataError("the Asterisk packages hold no WAVs or no transcripts; report it to "
                        "rnnkit")
    transcripts = read_transcripts(gzip.decompress(texts[TRANSCRIPTS]).decode("utf-8"))
    names, said, chunks, offsets = [], [], [], [0]
    for path, data in wavs.items():
        name = path.removeprefix(VOICE).removesuffix(".wav")
        if name not in transcripts:
            continue
        try:
            with wave.open(io.BytesIO(data)) as reader:
                shape = (reader.getframerate(), reader.getnchannels(), reader.getsampwidth())
                frames = reader.readframes(reader.getnframes())
        except (wave.Error, EOFError) as bad:
            raise DataError(f"{path} is not a PCM WAV ({bad}); report it to rnnkit") from None
        if shape != (SAMPLE_RATE, 1, 2):
            raise DataError(f"{path} is {shape[0]} Hz, {shape[1]} channel(s), {8 * shape[2]}-bit;"
                            " expected 8000 Hz mono 16-bit; report it to rnnkit")
        names.append(name)
        said.append(transcripts[name])
        chunks.append(frames[:len(frames) - len(frames) % 2])
        offsets.append(offsets[-1] + len(chunks[-1]) // 2)
    samples = b"".join(chunks)  # WAV PCM is little-endian, as safetensors is
    return safetensors_bytes(
        {"samples": ("I16", (offsets[-1],), samples),
         "offsets": ("I64", (len(offsets),),
                     b"".join(o.to_bytes(8, "little", signed=True) for o in offsets))},
        {"sample_rate": str(SAMPLE_RATE), "names": json.dumps(names),
         "texts": json.dumps(said), "speaker": "Allison Smith", "licence": "CC-BY-SA-3.0"})


register(DatasetInfo(
    name="allison-prompts", kind="audio",
    description="568 telephone prompts (digits, words, sentences) by one speaker, 8 kHz",
    package=PROMPT_DEBS[0][0], version=PROMPT_DEBS[0][1], debian=True, debs=PROMPT_DEBS,
    archive=f"{PROMPT_DEBS[0][0]}_{PROMPT_DEBS[0][1]}_all.deb",
    archive_sha256=PROMPT_DEBS[0][2],
    member=VOICE + "**.wav + core-sounds-en.txt.gz",
    licence="CC-BY-SA-3.0 (Allison Smith / Digium)", size=24_497_508,
    sha256="19eee6694b29d39e4b233e54a67548c7e1a1e11dbc987912a43daa36da0ef519",
    convert=allison_prompts, extension=".safetensors",
))


@dataclass(frozen=True)
class Recording:
    """One recording: its samples, what is said, and its name in the dataset."""

    wave: torch.Tensor  # float32 [n] in [-1, 1]
    text: str
    name: str


def prompts() -> list[Recording]:
    """All of allison-prompts (fetched and cached), in the file's order."""
    from safetensors import safe_open

    with safe_open(fetch("allison-prompts"), framework="pt") as tensors:
        metadata = tensors.metadata()
        samples, offsets = tensors.get_tensor("samples"), tensors.get_tensor("offsets").tolist()
    waves = samples.float() / 32768.0
    names, texts = json.loads(metadata["names"]), json.loads(metadata["texts"])
    return [Recording(waves[offsets[m]:offsets[m + 1]], texts[m], names[m])
            for m in range(len(names))]


def digit_recordings(recordings) -> dict[str, Recording]:
    """"0".."9" -> the recording of that digit (named ``digits/0`` ... ``digits/9``)."""
    by_name = {recording.name: recording for recording in recordings}
    missing = [d for d in "0123456789" if f"digits/{d}" not in by_name]
    if missing:
        raise DataError(f"the recordings lack digits/{', digits/'.join(missing)}; give the "
                        "allison-prompts recordings (rnnkit.data.audio.prompts())")
    return {d: by_name[f"digits/{d}"] for d in "0123456789"}


def read_wav(path) -> tuple[torch.Tensor, int]:
    """(float32 mono [n] in [-1, 1], sample rate) of a PCM WAV file (8, 16, 24 or 32-bit;
    channels averaged). Anything else is a one-line DataError saying how to convert it."""
    import numpy as np
    import torch

    path = Path(path)
    if not path.is_file():
        raise DataError(f"no such audio file: {path}")
    try:
        with wave.open(str(path)) as reader:
            rate, channels = reader.getframerate(), reader.getnchannels()
            width, frames = reader.getsampwidth(), reader.readframes(reader.getnframes())
    except (wave.Error, EOFError, ValueError) as bad:
        raise DataError(f"cannot read audio {path}: not a PCM WAV ({bad}); {CONVERT_HINT}"
                        ) from None
    if width not in (1, 2, 3, 4) or channels < 1 or rate < 1:
        raise DataError(f"cannot read audio {path}: {8 * width}-bit samples are not supported; "
                        f"{CONVERT_HINT}")
    raw = np.frombuffer(frames[:len(frames) - len(frames) % (width * channels)], dtype=np.uint8)
    if width == 1:  # 8-bit WAV is unsigned
        values = (raw.astype(np.float32) - 128.0) / 128.0
    elif width == 3:  # little-endian 24-bit: widen to 32 by a zero low byte
        padded = np.zeros((len(raw) // 3, 4), dtype=np.uint8)
        padded[:, 1:] = raw.reshape(-1, 3)
        values = padded.view("<i4").reshape(-1).astype(np.float32) / 2.0 ** 31
    else:
        values = raw.view(f"<i{width}").astype(np.float32) / 2.0 ** (8 * width - 1)
    mono = values.reshape(-1, channels).mean(axis=1, dtype=np.float32)
    return torch.from_numpy(np.ascontiguousarray(mono)), rate


def trim_silence(wave_: torch.Tensor, threshold_db: float = -35.0,
                 frame: int = 80) -> torch.Tensor:
    """``wave_`` without its leading and trailing frames (of ``frame`` samples, 10 ms at 8 kHz)
    whose RMS is more than ``threshold_db`` below the loudest frame's (one frame kept each
    side, so that soft onsets survive)."""
    import torch

    count = len(wave_) // frame
    if count < 3:
        return wave_
    rms = wave_[:count * frame].reshape(count, frame).pow(2).mean(dim=1).sqrt()
    loud = torch.nonzero(rms > rms.max() * 10.0 ** (threshold_db / 20.0)).reshape(-1)
    if len(loud) == 0:
        return wave_
    first, last = max(int(loud[0]) - 1, 0), min(int(loud[-1]) + 2, count)
    return wave_[first * frame:last * frame]


@dataclass(frozen=True)
class AudioString:
    """A spoken string of digits and its text."""

    wave: torch.Tensor  # float32 [n]
    text: str  # e.g. "3141"


def compose_spoken(digits: dict[str, Recording], count: int, *, seed: int, min_digits: int = 1,
                   max_digits: int = 7, pause=(0.05, 0.4), gain_db=(-6.0, 6.0),
                   speed=(0.9, 1.1), snr_db=(15.0, 40.0)) -> list[AudioString]:
    """``count`` spoken digit strings made of ``digits`` (:func:`digit_recordings`).

    Each recording is trimmed of silence once (:func:`trim_silence`). A string has a length
    drawn uniformly from [``min_digits``, ``max_digits``], its digits drawn uniformly; each
    digit is played at a speed drawn from ``speed`` (resampled by linear interpolation: 1.1
    is 10% faster and shorter), with silences of ``pause`` seconds before, between and after
    the digits. The string is scaled by ``gain_db`` decibels, then white noise is added at
    ``snr_db`` decibels below the power of its speech (the digits, not the pauses), and the
    wave is clipped to [-1, 1]. Every range is drawn uniformly, from a generator seeded with
    ``seed``. With one recording per digit, strings differ only in order, pauses and these
    perturbations (see the module doc).
    """
    import torch
    import torch.nn.functional as F

    if not 1 <= min_digits <= max_digits:
        raise ValueError(f"need 1 <= min_digits <= max_digits, got {min_digits}, {max_digits}")
    if not digits:
        raise ValueError("no digit recordings given")
    keys = sorted(digits)
    trimmed = [trim_silence(digits[key].wave.float()) for key in keys]
    generator = torch.Generator().manual_seed(seed)

    def uniform(bounds, size: int = 1) -> list[float]:
        low, high = bounds
        return (low + (high - low) * torch.rand(size, generator=generator,
                                                dtype=torch.float64)).tolist()

    strings = []
    for _ in range(count):
        length = int(torch.randint(min_digits, max_digits + 1, (1,), generator=generator))
        picks = torch.randint(len(keys), (length,), generator=generator).tolist()
        speeds, pauses = uniform(speed, length), uniform(pause, length + 1)
        (gain,), (snr,) = uniform(gain_db), uniform(snr_db)
        pieces = []
        for k, pick in enumerate(picks):
            pieces.append(torch.zeros(round(pauses[k] * SAMPLE_RATE)))
            spoken = trimmed[pick]
            size = max(1, round(len(spoken) / speeds[k]))
            pieces.append(F.interpolate(spoken.view(1, 1, -1), size=size, mode="linear",
                                        align_corners=False).view(-1))
        pieces.append(torch.zeros(round(pauses[-1] * SAMPLE_RATE)))
        speech = torch.cat(pieces[1::2])
        signal = torch.cat(pieces) * 10.0 ** (gain / 20.0)
        power = speech.pow(2).mean().item() * 10.0 ** (gain / 10.0)
        noise = torch.randn(len(signal), generator=generator) * math.sqrt(
            power / 10.0 ** (snr / 10.0))
        strings.append(AudioString((signal + noise).clamp(-1.0, 1.0),
                                   "".join(keys[p] for p in picks)))
    return strings
