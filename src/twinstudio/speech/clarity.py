"""Clarity: how much of a recording's echo the phone recogniser has to hear through.

pocketsphinx's acoustic model was trained on close-talking speech. In a room's echo each sound
rings on under the next, the recogniser hears the wrong phones (on the dev clips with an
untreated room's echo added, ``benchmarks/recode.py room``, the opening track made from the
recognised phones fell from r 0.453 to 0.129 against the real mouth), while the twin's own
audio-to-mouth model, which reads the sound's spectrum frame by frame, kept more (its track
alone: 0.499 → 0.414). So when the sound echoes and its phones were recognised, the render
leans on that model, and on its prediction from the sound alone rather than with the context or
the pauses of those phones (``render.motion.read_sound``, ``audio_share``, ``blend_audio``;
phones aligned to a transcript's words stay good in an echo, and keep the usual share).

Echo is measured by how fast the speech's level can fall (:func:`fastest_fall_db_s`). Where a
sound stops, a dry recording's level drops fast: 240–532 dB/s on the dev clips' held-back
speech (2–6 s each), measured in 0.5–4 kHz, where the voice's consonants and formants are and
mains hum is not. In a room the reverberant tail holds it up (60 dB per reverberation time:
120 dB/s for a 0.5 s room), and the same speech with that echo falls at 132–222 dB/s at most.
The measure is blind: it needs no transcript and no clean reference, only a second or two of
speech.

Tried and not used (2026-12-07, the 10 dev clips' held-back sound, dry and echoing): a
modulation-spectrum ratio (energy of the envelopes' 2–8 Hz modulation against 8–32 Hz, an SRMR
in the spirit of Falk et al. 2010), 1.2–6.3 dB dry against 1.6–6.1 echoing; and the agreement of
two recognisers (the aligned words' viseme classes against the phone loop's, frame by frame),
0.23–0.68 dry against 0.00–0.63. Neither tells the two apart. Noise is met before recognition
instead (``speech.denoise``), and a telephone's band not at all. The model over every frame,
as in a heavy echo, would help under a fan's noise 12 dB under the speech (track r 0.257 →
0.417 on the noisy copies, ``recode.py noisy``), but no blind
estimate of the noise told it from the dev clips' own backgrounds: the band level's range (95th
to 10th percentile, 0.3–4 kHz) is 10.9–22.6 dB noisy against 12.2–66.4 dry (a TV studio's
clip, 12.2, reads well), a per-bin noise floor's SNR 18.9–28.6 against 21.6–62.0. The
telephone's band is told at once (energy over 4.5 kHz 48–91 dB under the voice's, 21–37 dry),
but there the same change helps four clips and costs five (track r 0.279 → 0.364, yet
0.338 → 0.316 without the short suit clip's −0.26 → 0.80).
"""

from __future__ import annotations

import numpy as np

BAND_HZ = (500.0, 4000.0)  # where the level is followed: consonants and formants, no hum
HOP_S = 0.01  # the level's step
WINDOW_S = 0.032  # over windows this long
SLOPE_S = 0.05  # falls are measured over this span
LOUD_PERCENTILE = 60  # falls are counted from frames louder than this percentile
FASTEST_PERCENTILE = 5  # "fastest": this percentile of the falls
MIN_FALLS = 20  # fewer falls than this (under a second or two of speech): not judged
BLOCK_FRAMES = 256  # the level is computed this many frames at a time


def fastest_fall_db_s(audio: np.ndarray, sample_rate: int) -> float | None:
    """How fast the level of ``audio`` falls where its sounds stop, in dB/s (negative: the 5th
    percentile of its level's 50 ms slopes in 0.5–4 kHz, from frames louder than its median
    and a bit), or None where there is too little sound to judge.

    Dry speech falls at 240–532 dB/s; with a 0.5 s room's echo at 132–222 dB/s (module doc).
    """
    level = band_level_db(np.asarray(audio, np.float32).reshape(-1), sample_rate)
    span = max(1, round(SLOPE_S / HOP_S))
    if level is None or len(level) <= span:
        return None
    level = np.convolve(level, np.ones(3) / 3, mode="same")
    slopes = (level[span:] - level[:-span]) / (span * HOP_S)
    loud = level[:-span] > np.percentile(level, LOUD_PERCENTILE)
    falls = slopes[loud & (slopes < 0)]
    if len(falls) < MIN_FALLS:
        return None
    return float(np.percentile(falls, FASTEST_PERCENTILE))


def band_level_db(audio: np.ndarray, sample_rate: int) -> np.ndarray | None:
    """The level of ``audio`` in :data:`BAND_HZ` every :data:`HOP_S`, over Hann windows of
    :data:`WINDOW_S` (dB; the frames of ``scipy.signal.stft`` with ``boundary=None``), or None
    when shorter than a window and a few steps. Computed :data:`BLOCK_FRAMES` frames at a
    time: the whole spectrum of a 30 s piece at 22050 Hz took a 45 MB transient, in blocks
    7 MB (``tracemalloc``)."""
    from scipy.signal import get_window

    hop = max(1, round(HOP_S * sample_rate))
    window = max(8, round(WINDOW_S * sample_rate))
    if len(audio) < window + 4 * hop:
        return None
    n_frames = -(-(len(audio) - window) // hop) + 1
    padded = np.zeros((n_frames - 1) * hop + window, np.float32)
    padded[: len(audio)] = audio
    frames = np.lib.stride_tricks.sliding_window_view(padded, window)[::hop]
    taper = get_window("hann", window)
    freqs = np.fft.rfftfreq(window, 1 / sample_rate)
    band = slice(int(np.searchsorted(freqs, BAND_HZ[0])), int(np.searchsorted(freqs, BAND_HZ[1])))
    level = np.empty(n_frames)
    for b0 in range(0, n_frames, BLOCK_FRAMES):
        spectrum = np.fft.rfft(frames[b0 : b0 + BLOCK_FRAMES] * taper, axis=1)[:, band]
        power = (spectrum.real**2 + spectrum.imag**2).sum(axis=1) / taper.sum() ** 2
        level[b0 : b0 + BLOCK_FRAMES] = 10 * np.log10(power + 1e-12)
    return level
