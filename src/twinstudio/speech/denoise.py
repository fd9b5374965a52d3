"""Denoise: a recording's steady noise floor taken out before its phones are recognised.

pocketsphinx's acoustic model was trained on clean close-talking speech; under a fan's noise
(``benchmarks/recode.py noisy``: pink noise and mains hum 12 dB under the speech) it hears
the wrong phones, and the opening track made from them fell from r 0.453 to 0.181 against the
real mouth on the dev clips' held-back speech. Only the recogniser hears the denoised sound,
and only where it recognises the phones (custom audio given without its transcript; a
transcript's words are aligned to the sound as it is): the video plays the recording as it
was, and the twin's audio model reads it as it was too.

The method is plain spectral subtraction with a floor (Boll 1979; Berouti et al. 1979): the
noise's power in each frequency bin is taken as the 10th percentile of that bin's power over
the piece (the pauses between words, where a steady noise is all there is), and each bin of
each 32 ms frame is scaled by ``1 - OVER_SUBTRACTION × noise / power``, never below
``GAIN_FLOOR`` (−13 dB), which keeps the "musical noise" of lone surviving peaks down. It is
gentle: a steady noise's power in one bin spreads exponentially from frame to frame, so its
10th percentile is about a tenth of its mean, and four times that takes ~3 dB off the noise
between words (``tests/unit/speech/test_denoise.py``).

Only a floor within ``MAX_SNR_DB`` of the speech is taken out (``floor_snr_db``; the same
percentile, so a steady floor reads ~10 dB low: the fan 12 dB under the speech's loud parts
reads 19–29 dB on the dev clips' held-back parts, their own sound 21.6–66.1). The recogniser's
output moves with any change to its input, however small (a 705- against a 706-sample window
moved the noisy copies' track r 0.426 → 0.368), so a clean recording, which has nothing to
gain, is not touched: denoising every part moved the dry parts' phones both ways (render r
0.522 / 0.345 at the end / the start → 0.541 / 0.327; the 20-second clip's training lengths
0.505 / 0.521 / 0.504 → 0.242 / 0.471 / 0.454, its German misheard otherwise; the suit's A/V
offset −2 → +6).

Measured 2026-12-07 (``benchmarks/lipsync.py --packs``, twins trained afresh at efc05f6, the
last 30 % / the first 30 % held back; the render of each part is deterministic given its
phones, so the gated figures combine each part's run with or without denoising): the fan's
noise (``recode.py noisy``, every part denoised) render r 0.243 / 0.186 → **0.339 / 0.205**
(track 0.258 / 0.181 → 0.369 / 0.234; the linear audio model 0.339 / 0.160); dry sound, three
parts of twenty denoised (pcavs's TV studio, both blazers' room at the end; pcavs at the
start), 0.522 / 0.345 → **0.538 / 0.350**, offsets as before; the telephone's band 0.267 →
0.267; rooms of RT60 0.3 / 0.5 / 0.8 s 0.386 / 0.386 / 0.260 → 0.387 / 0.395 / 0.279. Other
settings, tried on the target track alone (every part denoised): over-subtraction 1 and floor
0.1, the noise 0.302 / 0.198, dry 0.560 / 0.304; 3 and 6 (floor 0.05) the noise 0.350 / 0.329
at the end, dry 0.509 / 0.549.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NOISE_PERCENTILE = 10  # each bin's noise power: this percentile of its power over the piece
OVER_SUBTRACTION = 4.0  # the noise taken out, times its estimate
GAIN_FLOOR = 0.05  # no bin's power is scaled below this (−13 dB)
WINDOW_S, HOP_S = 0.032, 0.01  # frames of the recogniser's own size and step
SMOOTH_FRAMES = 3  # each bin's power is averaged over this many frames before its gain
# Only a floor within this of the speech is taken out (``floor_snr_db``): the recogniser's
# output moves with any change to its input, and a clean recording has nothing to gain.
MAX_SNR_DB = 30.0
SNR_BAND_HZ = (300.0, 4000.0)  # where the voice's power is compared with the floor's
LOUD_PERCENTILE = 70  # the voice: frames louder in that band than this percentile


def floor_snr_db(audio: np.ndarray, sample_rate: int) -> float | None:
    """How far ``audio``'s speech stands above its steady noise floor (dB, in
    ``SNR_BAND_HZ``: the loudest 30 % of its frames' mean power against each bin's 10th
    percentile), or None when too short to tell."""
    frames = _Frames.of(audio, sample_rate)
    return None if frames is None else frames.snr_db()


def denoised(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """``audio`` (mono float) with its steady noise floor subtracted, the same length and rate;
    returned unchanged when too short to estimate a floor (under a quarter of a second) or
    when its speech stands ``MAX_SNR_DB`` or more above that floor (``floor_snr_db``)."""
    from scipy.signal import istft

    x = np.asarray(audio, np.float32).reshape(-1)
    frames = _Frames.of(x, sample_rate)
    if frames is None or frames.snr_db() >= MAX_SNR_DB:
        return x.copy()
    kernel = np.ones(SMOOTH_FRAMES, np.float32) / SMOOTH_FRAMES
    smooth = np.apply_along_axis(np.convolve, 1, frames.power, kernel, mode="same")
    gain = np.clip(1.0 - OVER_SUBTRACTION * frames.noise / np.maximum(smooth, 1e-20),
                   GAIN_FLOOR, 1.0)  # fmt: skip
    del smooth
    spectrum = frames.spectrum
    spectrum *= np.sqrt(gain, out=gain)  # in place: out of place rounds a last bit differently
    del frames, gain
    window, hop = _frame_samples(sample_rate)
    _, out = istft(spectrum, sample_rate, nperseg=window, noverlap=window - hop)
    return np.asarray(out[: len(x)], np.float32)


def _frame_samples(sample_rate: int) -> tuple[int, int]:
    """Samples in one frame (``WINDOW_S``) and between frames (``HOP_S``) at ``sample_rate``."""
    return max(16, round(WINDOW_S * sample_rate)), max(1, round(HOP_S * sample_rate))


@dataclass
class _Frames:
    """A piece's short-time spectrum, its power and each bin's noise floor."""

    freqs: np.ndarray
    spectrum: np.ndarray
    power: np.ndarray
    noise: np.ndarray

    @classmethod
    def of(cls, audio: np.ndarray, sample_rate: int) -> _Frames | None:
        """The frames of ``audio``, or None when too short to estimate a floor."""
        from scipy.signal import stft

        x = np.asarray(audio, np.float32).reshape(-1)
        window, hop = _frame_samples(sample_rate)
        if len(x) < max(window * 2, sample_rate // 4):
            return None
        freqs, _, spectrum = stft(x, sample_rate, nperseg=window, noverlap=window - hop)
        power = (spectrum.real**2 + spectrum.imag**2).astype(np.float32)
        noise = np.percentile(power, NOISE_PERCENTILE, axis=1, keepdims=True)
        return cls(freqs, spectrum, power, noise)

    def snr_db(self) -> float:
        """The speech's loud frames against the floor, in ``SNR_BAND_HZ`` (``floor_snr_db``)."""
        band = (self.freqs >= SNR_BAND_HZ[0]) & (self.freqs < SNR_BAND_HZ[1])
        level = self.power[band].sum(axis=0)
        loud = level > np.percentile(level, LOUD_PERCENTILE)
        if not loud.any():
            return float("inf")
        floor = max(float(self.noise[band].sum()), 1e-30)
        return float(10 * np.log10(level[loud].mean() / floor))
