"""Denoising before recognition (``speech.denoise``): a steady noise floor comes out, speech
stays, and only recognised phones hear the denoised sound."""

from __future__ import annotations

import numpy as np
import pytest

from tests.unit.speech.helpers import syllables
from twinstudio.speech.denoise import MAX_SNR_DB, denoised, floor_snr_db

RATE = 22050


def _fan(n: int, level: float, seed: int = 5) -> np.ndarray:
    """A fan's steady noise: pink-ish (white noise through a one-pole low-pass) at RMS ``level``."""
    from scipy.signal import lfilter

    noise = lfilter([1.0], [1.0, -0.95], np.random.default_rng(seed).normal(size=n))
    return (noise / noise.std() * level).astype(np.float32)


def _db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.asarray(x, np.float64) ** 2) + 1e-20))


def _bursts(speech: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the middles of ``syllables``' bursts and of the gaps between them."""
    from scipy.ndimage import uniform_filter1d

    level = uniform_filter1d(speech.astype(np.float64) ** 2, RATE // 100)
    loud = level > 0.3 * level.max()
    quiet = level < 1e-6 * level.max()
    return loud, quiet


def test_a_steady_noise_floor_comes_out_and_the_speech_stays() -> None:
    speech = syllables(4.0, RATE)
    loud, quiet = _bursts(speech)
    noise = _fan(len(speech), 10 ** (-15 / 20) * float(np.sqrt(np.mean(speech[loud] ** 2))))
    noisy = speech + noise
    out = denoised(noisy, RATE)
    assert out.shape == noisy.shape and out.dtype == np.float32
    # Gently: the gaps lose ~3 dB of the fan (a bin's 10th percentile is ~0.1 of its mean
    # power, taken out four times), the bursts keep their level, and the whole is closer to
    # the clean speech than the recording was.
    assert _db(out[quiet]) < _db(noisy[quiet]) - 2
    assert abs(_db(out[loud]) - _db(noisy[loud])) < 1.0
    assert _db(out - speech) < _db(noise) - 1.5


def test_speech_well_above_its_floor_passes_untouched() -> None:
    # A studio's floor: nothing to gain, and any change would move the recogniser's output.
    speech = syllables(4.0, RATE) + _fan(int(4.0 * RATE), 1e-4)
    snr = floor_snr_db(speech, RATE)
    assert snr is not None and snr >= MAX_SNR_DB
    assert np.array_equal(denoised(speech, RATE), speech)
    # A fan 12 dB under the speech's loud parts (``recode.py noisy``'s) is well within reach
    # (the measure reads a steady floor ~10 dB low: each bin's 10th percentile).
    loud, _ = _bursts(speech)
    level = float(np.sqrt(np.mean(speech[loud] ** 2)))
    fan = floor_snr_db(speech + _fan(len(speech), 10 ** (-12 / 20) * level), RATE)
    assert fan is not None and 12 < fan < MAX_SNR_DB - 5
    assert floor_snr_db(speech[: RATE // 5], RATE) is None  # too short to tell


def test_too_short_to_estimate_a_floor_is_returned_as_it_was() -> None:
    short = syllables(1.0, RATE)[: RATE // 5]
    assert np.array_equal(denoised(short, RATE), short)
    assert denoised(np.zeros(0, np.float32), RATE).shape == (0,)


def test_only_recognised_phones_hear_the_denoised_sound(monkeypatch: pytest.MonkeyPatch) -> None:
    # Custom audio without its transcript is recognised through the noise taken out; a
    # transcript's words are aligned to the sound as it is (and the recording plays as it is).
    from twinstudio.speech import audio as A
    from twinstudio.speech import denoise

    calls: list[int] = []

    def spy(x: np.ndarray, rate: int) -> np.ndarray:
        calls.append(len(x))
        return np.asarray(x, np.float32)

    monkeypatch.setattr(denoise, "denoised", spy)
    sound = syllables(2.0, A.SAMPLE_RATE) + _fan(2 * A.SAMPLE_RATE, 0.01)
    regions = A.voice_regions(sound, A.SAMPLE_RATE)
    A._timed(sound, None, regions)
    assert calls == [len(sound)]
    A._timed(sound, "hello there", regions)
    assert calls == [len(sound)]  # not again
