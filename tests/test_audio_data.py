"""Spoken prompts and digit strings: allison-prompts converted from two .debs built here in the
real layout (tiny WAVs written with ``wave``, a gzipped transcript list), read back through the
registry's cache; WAV files of every PCM width; spoken strings composed with their pauses,
speeds, gains and noise."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import math
import struct
import wave
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load

from rnnkit.data import audio, registry
from rnnkit.data.audio import (
    SAMPLE_RATE,
    compose_spoken,
    digit_recordings,
    prompts,
    read_wav,
    trim_silence,
)
from rnnkit.errors import DataError
from test_debian import ar, tar

SILENCE = 400  # samples of silence around each fake digit (50 ms)


def tone(digit: int) -> list[int]:
    """A fake recording of ``digit``: 50 ms silence, a (100 + 10 * digit) ms tone, silence."""
    length = (100 + 10 * digit) * SAMPLE_RATE // 1000
    frequency = 300 + 50 * digit
    sound = [round(12000 * math.sin(2 * math.pi * frequency * t / SAMPLE_RATE))
             for t in range(length)]
    return [0] * SILENCE + sound + [0] * SILENCE


def wav_bytes(samples: list[int], rate: int = SAMPLE_RATE, channels: int = 1,
              width: int = 2) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(width)
        writer.setframerate(rate)
        writer.writeframes(struct.pack(f"<{len(samples)}h", *samples) if width == 2
                           else bytes(samples))
    return buffer.getvalue()


TRANSCRIPTS = ("; Core Asterisk Sounds in English\n\n"
               + "".join(f"digits/{d}: {word}\n" for d, word in enumerate(
                   "zero one two three four five six seven eight nine".split()))
               + "beep: [this is a simple beep tone]\npls-try-call-later: Please try later.\n"
               + "spy-iax2: IAX (note: does not say \"2\")\n")


def prompt_debs(folder: Path, extra: dict[str, bytes] | None = None) -> Path:
    """The two Asterisk .debs, each in its package's folder as download_all leaves them: ten
    digit tones, a beep and an untranscribed WAV; and the transcripts."""
    voice = "./" + audio.VOICE
    wavs = {f"{voice}digits/{d}.wav": wav_bytes(tone(d)) for d in range(10)}
    wavs[f"{voice}beep.wav"] = wav_bytes([0, 8000, -8000, 0])
    wavs[f"{voice}no-transcript.wav"] = wav_bytes([1, 2, 3])
    wavs.update(extra or {})
    texts = {"./" + audio.TRANSCRIPTS: gzip.compress(TRANSCRIPTS.encode())}
    for (package, version, _), files in zip(audio.PROMPT_DEBS, (wavs, texts)):
        (folder / package).mkdir(parents=True, exist_ok=True)
        (folder / package / f"{package}_{version}_all.deb").write_bytes(ar({
            "debian-binary": b"2.0\n",
            "control.tar.gz": tar({"./control": f"Package: {package}\n".encode()}, "w:gz"),
            "data.tar.xz": tar(files, "w:xz")}))
    return folder


def test_the_converter_keeps_every_transcribed_wav_in_path_order(tmp_path):
    data = audio.allison_prompts(prompt_debs(tmp_path))
    tensors = load(data)
    (tmp_path / "prompts.safetensors").write_bytes(data)
    with safe_open(tmp_path / "prompts.safetensors", framework="pt") as opened:
        metadata = opened.metadata()
    names = json.loads(metadata["names"])
    assert names == ["beep"] + [f"digits/{d}" for d in range(10)]  # no-transcript.wav dropped
    assert json.loads(metadata["texts"])[:3] == ["[this is a simple beep tone]", "zero", "one"]
    assert metadata["sample_rate"] == "8000"
    offsets = tensors["offsets"]
    assert offsets.dtype == torch.int64 and offsets.tolist()[:3] == [0, 4, 4 + len(tone(0))]
    assert tensors["samples"].dtype == torch.int16 and len(tensors["samples"]) == offsets[-1]
    assert tensors["samples"][offsets[3]:offsets[4]].tolist() == tone(2)
    assert audio.allison_prompts(prompt_debs(tmp_path)) == data


def test_transcripts_split_at_the_first_colon():
    found = audio.read_transcripts(TRANSCRIPTS)
    assert found["spy-iax2"] == 'IAX (note: does not say "2")' and len(found) == 13
    with pytest.raises(DataError, match="line 2 is not 'name: text'"):
        audio.read_transcripts("a: b\nno colon here\n")


def test_a_recording_not_8khz_mono_16bit_is_refused_naming_the_file(tmp_path):
    odd = {f"./{audio.VOICE}digits/5.wav": wav_bytes(tone(5), rate=16000)}
    with pytest.raises(DataError, match=r"en_US_f_Allison/digits/5\.wav is 16000 Hz, 1 "
                                        r"channel\(s\), 16-bit; expected 8000 Hz mono 16-bit"):
        audio.allison_prompts(prompt_debs(tmp_path, odd))


@pytest.fixture
def fake_prompts(tmp_path, monkeypatch) -> list:
    """prompts() of the fake packages, through the registry's cache and pin."""
    data = audio.allison_prompts(prompt_debs(tmp_path / "debs"))
    info = replace(registry.get_info("allison-prompts"), size=len(data),
                   sha256=hashlib.sha256(data).hexdigest())
    monkeypatch.setitem(registry._REGISTRY, info.name, info)
    monkeypatch.setenv("RNNKIT_DATA", str(tmp_path / "cache"))
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / info.filename).write_bytes(data)
    return prompts()


def test_prompts_are_float_waves_with_their_texts(fake_prompts):
    assert [r.name for r in fake_prompts][:2] == ["beep", "digits/0"]
    beep = fake_prompts[0]
    assert beep.text == "[this is a simple beep tone]" and beep.wave.dtype == torch.float32
    assert beep.wave.tolist() == [0.0, 8000 / 32768, -8000 / 32768, 0.0]
    digits = digit_recordings(fake_prompts)
    assert list(digits) == list("0123456789") and digits["7"].text == "seven"
    with pytest.raises(DataError, match="lack digits/3"):
        digit_recordings([r for r in fake_prompts if r.name != "digits/3"])


def test_silence_is_trimmed_to_within_a_frame_of_the_sound(fake_prompts):
    wave_ = digit_recordings(fake_prompts)["4"].wave
    trimmed = trim_silence(wave_)
    sound = len(tone(4)) - 2 * SILENCE
    assert sound <= len(trimmed) <= sound + 3 * 80
    assert trimmed.abs().max() == wave_.abs().max()


def test_spoken_strings_are_the_digits_with_their_pauses_and_nothing_else(fake_prompts):
    digits = digit_recordings(fake_prompts)
    [string] = compose_spoken(digits, 1, seed=0, min_digits=3, max_digits=3, pause=(0.1, 0.1),
                              gain_db=(0.0, 0.0), speed=(1.0, 1.0), snr_db=(200.0, 200.0))
    pause = torch.zeros(800)
    expected = [pause]
    for digit in string.text:
        expected += [trim_silence(digits[digit].wave), pause]
    assert torch.allclose(string.wave, torch.cat(expected), atol=1e-6)


def test_spoken_strings_have_plausible_lengths_and_texts(fake_prompts):
    digits = digit_recordings(fake_prompts)
    lengths = {d: len(trim_silence(r.wave)) for d, r in digits.items()}
    strings = compose_spoken(digits, 100, seed=1, min_digits=1, max_digits=7)
    assert {len(s.text) for s in strings} == set(range(1, 8))
    for string in strings:
        assert set(string.text) <= set("0123456789") and string.wave.dtype == torch.float32
        spoken = sum(lengths[d] for d in string.text)
        pauses = (len(string.text) + 1) * SAMPLE_RATE
        low = spoken / 1.1 + 0.05 * pauses - len(string.text)
        high = spoken / 0.9 + 0.4 * pauses + len(string.text)
        assert low <= len(string.wave) <= high
        assert string.wave.abs().max() <= 1.0


def test_spoken_strings_are_deterministic_by_seed(fake_prompts):
    digits = digit_recordings(fake_prompts)
    first = compose_spoken(digits, 10, seed=3)
    again = compose_spoken(digits, 10, seed=3)
    other = compose_spoken(digits, 10, seed=4)
    assert all(a.text == b.text and torch.equal(a.wave, b.wave) for a, b in zip(first, again))
    assert [s.text for s in first] != [s.text for s in other]


def test_noise_is_added_at_the_drawn_snr(fake_prompts):
    digits = digit_recordings(fake_prompts)
    [quiet] = compose_spoken(digits, 1, seed=2, min_digits=4, max_digits=4, pause=(0.2, 0.2),
                             gain_db=(0.0, 0.0), speed=(1.0, 1.0), snr_db=(20.0, 20.0))
    silence = quiet.wave[:1600]  # the leading pause: noise only
    speech = torch.cat([trim_silence(digits[d].wave) for d in quiet.text])
    snr = 10 * math.log10(speech.pow(2).mean() / silence.pow(2).mean())
    assert 18.5 < snr < 21.5


# ---------------------------------------------------------------- WAV files


def write_wav(path: Path, frames: bytes, width: int, channels: int = 1, rate: int = 16000) -> Path:
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(width)
        writer.setframerate(rate)
        writer.writeframes(frames)
    return path


def test_read_wav_of_8_16_24_and_32_bit_pcm(tmp_path):
    eight = write_wav(tmp_path / "8.wav", bytes([128, 255, 0, 192]), 1, rate=11025)
    samples, rate = read_wav(eight)
    assert samples.tolist() == [0.0, 127 / 128, -1.0, 0.5] and rate == 11025
    sixteen = write_wav(tmp_path / "16.wav", struct.pack("<3h", 0, 16384, -32768), 2)
    assert read_wav(sixteen)[0].tolist() == [0.0, 0.5, -1.0]
    # 24-bit little-endian: 0x400000 is one half, 0xC00000 minus one half
    wide = write_wav(tmp_path / "24.wav", bytes([0, 0, 0x40, 0, 0, 0xC0]), 3)
    assert read_wav(wide)[0].tolist() == [0.5, -0.5]
    widest = write_wav(tmp_path / "32.wav", struct.pack("<2i", 2 ** 30, -(2 ** 31)), 4)
    assert read_wav(widest)[0].tolist() == [0.5, -1.0]


def test_read_wav_averages_stereo_to_mono(tmp_path):
    stereo = write_wav(tmp_path / "s.wav", struct.pack("<4h", 16384, 0, -16384, -16384), 2,
                       channels=2)
    samples, rate = read_wav(stereo)
    assert samples.tolist() == [0.25, -0.5] and rate == 16000 and samples.dtype == torch.float32


@pytest.mark.parametrize("content", [b"not a wav at all", b"RIFF\x24\x00\x00\x00WAVEfmt "
                                     b"\x10\x00\x00\x00\x03\x00\x01\x00\x40\x1f\x00\x00\x00\x7d"
                                     b"\x00\x00\x04\x00\x20\x00data\x00\x00\x00\x00"])
def test_a_bad_wav_is_one_line_saying_how_to_convert_it(tmp_path, content):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(content)  # the second is a valid header of 32-bit float samples
    with pytest.raises(DataError) as raised:
        read_wav(bad)
    message = str(raised.value)
    assert "\n" not in message and str(bad) in message
    assert "convert it to PCM WAV, e.g. with ffmpeg -i IN -ac 1 OUT.wav" in message
    with pytest.raises(DataError, match="no such audio file"):
        read_wav(tmp_path / "missing.wav")
