"""``voice_settings`` as audio transforms: speed (time-stretch), pitch, loudness and volume.

* **speed** 0.5–1.5: the audio is time-stretched by exactly ``1 / speed`` with WSOLA (waveform
  similarity overlap-add), so the duration ratio is exact — unlike Piper's ``length_scale``,
  whose effect on duration is not linear (silences and frame rounding do not scale).
* **pitch** −50..50 maps linearly to ±6 semitones (``pitch / 50 * 6``): the audio is stretched by
  the frequency ratio, then resampled back to its original length, so f0 moves by that ratio
  while the duration stays identical, to the sample.
* **volume** 0–2 is a linear gain applied after loudness normalisation to :data:`TARGET_DBFS`.

Phoneme/word timings are rescaled with the audio so they still tile it exactly.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

from twinstudio.speech.timeline import Track, rescale_spans, retime
from twinstudio.speech.types import Speech, VoiceSettings

SEMITONES_AT_FULL_PITCH = 6.0  # pitch=±50 → ±6 semitones
TARGET_DBFS = -20.0  # speech RMS target before the volume gain
PEAK_CEILING = 0.97


def semitones(pitch: float) -> float:
    """The documented mapping: ``pitch`` −50..50 → −6..+6 semitones (linear, monotonic)."""
    return pitch / 50.0 * SEMITONES_AT_FULL_PITCH


def time_stretch(audio: np.ndarray, factor: float, sample_rate: int) -> np.ndarray:
    """Make ``audio`` ``factor`` times longer (``factor`` > 1 is slower) without changing pitch.

    WSOLA: 40 ms Hann frames at 50 % overlap in the output; each input frame is picked within
    ±10 ms of its nominal position where it best continues the previous one (cross-correlation).
    The output has exactly ``round(len(audio) * factor)`` samples.
    """
    x = np.asarray(audio, dtype=np.float32)
    n_out = round(len(x) * factor)
    if n_out <= 0 or len(x) == 0:
        return np.zeros(max(n_out, 0), dtype=np.float32)
    if abs(factor - 1.0) < 1e-4:
        return _fit_length(x, n_out)
    win = max(64, int(0.040 * sample_rate) // 2 * 2)
    hop = win // 2
    tol = int(0.010 * sample_rate)
    window = signal.windows.hann(win, sym=False).astype(np.float32)
    pad = win + tol
    xp = np.concatenate([np.zeros(pad, np.float32), x, np.zeros(pad + win + hop, np.float32)])
    n_frames = n_out // hop + 2
    out = np.zeros(n_frames * hop + win, dtype=np.float32)
    norm = np.zeros_like(out)
    previous = -1
    for k in range(n_frames):
        nominal = pad - hop + round(k * hop / factor)
        nominal = min(max(nominal, tol), len(xp) - win - tol)
        if previous < 0:
            chosen = nominal
        else:
            target = xp[previous + hop : previous + hop + win]
            region = xp[nominal - tol : nominal + tol + win]
            if not target.any() or not region.any():
                chosen = nominal
            else:
                score = signal.correlate(region, target, mode="valid", method="fft")
                chosen = nominal - tol + int(np.argmax(score))
        out[k * hop : k * hop + win] += xp[chosen : chosen + win] * window
        norm[k * hop : k * hop + win] += window
        previous = chosen
    out = out / np.maximum(norm, 1e-3)
    return out[hop : hop + n_out].astype(np.float32)


def _fit_length(x: np.ndarray, n: int) -> np.ndarray:
    if len(x) >= n:
        return x[:n].copy()
    return np.concatenate([x, np.zeros(n - len(x), dtype=x.dtype)])


def resample_to_length(audio: np.ndarray, n: int) -> np.ndarray:
    """Band-limited (FFT) resampling of ``audio`` to exactly ``n`` samples."""
    if len(audio) == n:
        return np.asarray(audio, dtype=np.float32)
    if len(audio) == 0 or n == 0:
        return np.zeros(n, dtype=np.float32)
    return np.asarray(signal.resample(audio, n), dtype=np.float32)


def pitch_shift(audio: np.ndarray, n_semitones: float, sample_rate: int) -> np.ndarray:
    """Shift f0 by ``n_semitones`` keeping exactly the same number of samples."""
    if abs(n_semitones) < 1e-3 or len(audio) == 0:
        return np.asarray(audio, dtype=np.float32)
    ratio = 2.0 ** (n_semitones / 12.0)
    stretched = time_stretch(audio, ratio, sample_rate)
    return resample_to_length(stretched, len(audio))


def normalize_loudness(audio: np.ndarray, target_dbfs: float = TARGET_DBFS) -> np.ndarray:
    """Scale so the RMS of the louder frames (speech, not pauses) sits at ``target_dbfs``."""
    x = np.asarray(audio, dtype=np.float32)
    frame = 1024
    if len(x) < frame:
        rms = float(np.sqrt(np.mean(x**2))) if len(x) else 0.0
    else:
        frames = x[: len(x) // frame * frame].reshape(-1, frame)
        energies = np.sqrt(np.mean(frames**2, axis=1))
        loud = energies[energies >= 0.1 * energies.max()] if energies.max() > 0 else energies
        rms = float(np.sqrt(np.mean(loud**2)))
    if rms < 1e-6:
        return x.copy()
    gain = 10 ** (target_dbfs / 20) / rms
    peak = float(np.max(np.abs(x))) * gain
    if peak > PEAK_CEILING:  # never clip: a quieter but clean result beats distortion
        gain *= PEAK_CEILING / peak
    return (x * gain).astype(np.float32)


def change_speed(speech: Speech, speed: float) -> Speech:
    """Time-stretch to ``1 / speed`` of the duration; timings rescaled to stay exact."""
    if abs(speed - 1.0) < 1e-4:
        return speech
    old_ms = speech.duration_ms
    audio = time_stretch(speech.audio, 1.0 / speed, speech.sample_rate)
    result = Speech(audio=audio, sample_rate=speech.sample_rate)
    new_ms = result.duration_ms
    result.phonemes = retime(speech.phonemes, old_ms, new_ms, tile=True)
    result.words = retime(speech.words, old_ms, new_ms, tile=False)
    return result


def apply_settings(speech: Speech, settings: VoiceSettings, *, speed: bool = True) -> Speech:
    """Speed (unless ``speed=False``, when the caller already applied it), pitch, loudness, volume."""
    if speed:
        speech = change_speed(speech, settings.speed)
    audio = pitch_shift(speech.audio, semitones(settings.pitch), speech.sample_rate)
    audio = normalize_loudness(audio) * float(settings.volume)
    audio = np.clip(audio, -1.0, 1.0).astype(np.float32)
    return Speech(audio, speech.sample_rate, list(speech.phonemes), list(speech.words))


def stretch_track(track: Track, factor: float) -> Track:
    """Time-stretch a sample-level :class:`Track` by ``factor``, rescaling its boundaries."""
    if abs(factor - 1.0) < 1e-4 or len(track.audio) == 0:
        return track
    audio = time_stretch(track.audio, factor, track.sample_rate)
    old_n, new_n = len(track.audio), len(audio)

    def scale(position: int) -> int:
        return min(new_n, round(position * new_n / old_n))

    phonemes = rescale_spans(track.phonemes, old_n, new_n)
    words = [(w, scale(s), scale(e)) for w, s, e in track.words]
    return Track(audio, track.sample_rate, phonemes, words)
