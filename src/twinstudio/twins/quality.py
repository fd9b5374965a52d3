"""The quality report a person sees after training: scores 0–100 and what to record better.

Every score is a plain piecewise-linear ramp between a "useless" and a "good" value, so the
numbers are easy to explain; ``overall`` is their weighted mean, lowered by what the sound of the
footage could not give (noisy sound, no labels). Sections: ``face_size``, ``sharpness``,
``lighting``, ``mouth_coverage`` (opening range and, from the phoneme labels, which visemes the
footage shows and which it lacks), ``tracking``, ``motion``, ``speech``, ``audio_model``
(held-out R²), ``overall``, ``advice`` (plain sentences) and ``warnings`` (short codes such as
``noisy_audio``, ``quiet_audio``). Keys of the first version are kept (``audio_model_r2``,
``fraction``...).
"""

from __future__ import annotations

from typing import Any

import numpy as np

# Inner-lip opening bins (IOD units): closed … wide open. Coverage counts the bins seen.
OPENING_BINS = (0.0, 0.02, 0.05, 0.09, 0.14, 0.2, 0.27, 0.35, 10.0)
WEIGHTS = {"face_size": 1.0, "sharpness": 1.0, "lighting": 1.0, "mouth_coverage": 1.5,
           "tracking": 1.0, "motion": 0.5, "speech": 0.75}  # fmt: skip
# Raised this much (footage under -43 LUFS, 10 dB under any dev clip): the microphone was too low.
QUIET_GAIN_DB = 8.0
GOOD_DURATION_S = 60.0  # 1-2 minutes of natural speech shows every mouth shape several times
# Visemes in the order they matter for lip-sync (open, rounded and closed mouths are the most seen).
VISEME_PRIORITY = ("aa", "ou", "PP", "FF", "oh", "ih", "E", "CH", "SS", "TH", "RR", "nn", "DD",
                   "kk")  # fmt: skip
MIN_VISEME_FRAMES = 3


def ramp(value: float, bad: float, good: float) -> float:
    """0 at ``bad``, 100 at ``good``, linear between, clipped."""
    if good == bad:
        return 100.0
    return float(np.clip((value - bad) / (good - bad), 0.0, 1.0) * 100.0)


def opening_coverage(opening: np.ndarray) -> float:
    """Fraction of the opening bins that hold at least a few frames (0..1)."""
    if len(opening) == 0:
        return 0.0
    counts, _ = np.histogram(opening, bins=OPENING_BINS)
    need = max(2, int(0.004 * len(opening)))
    return float(np.mean(counts >= need))


def viseme_coverage(counts: dict[str, int]) -> tuple[list[str], list[str]]:
    """(seen, missing) visemes (silence excluded), in order of importance."""
    seen = [v for v in VISEME_PRIORITY if counts.get(v, 0) >= MIN_VISEME_FRAMES]
    missing = [v for v in VISEME_PRIORITY if v not in seen]
    return seen, missing


def _more_seconds(duration_s: float) -> int:
    """Seconds to add to reach a good length, rounded up to 10 (at least 30)."""
    return max(30, int(np.ceil(max(0.0, GOOD_DURATION_S - duration_s) / 10.0)) * 10)


def quality_report(
    *,
    iod_px: float,
    face_height_frac: float,
    mouth_sharpness: float,
    face_luma: float,
    face_contrast: float,
    opening: np.ndarray,
    valid_frac: float,
    audio_r2: float | None = None,
    duration_s: float = 0.0,
    visemes: dict[str, int] | None = None,
    labels_source: str = "none",
    head_speed: float | None = None,
    head_range: float | None = None,
    speech: dict[str, Any] | None = None,
    audio_model: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Scores and advice. Inputs are medians over the usable frames.

    ``visemes``: frames per viseme from the phoneme labels; ``head_speed`` (IOD units per second,
    median) and ``head_range`` (IOD units, p5–p95 span) of the head's movement; ``speech``: the
    VAD's figures (``twins.voice``); ``audio_model``: the regressor's held-out figures.
    """
    from twinstudio.twins.labels import VISEME_EXAMPLES

    coverage = opening_coverage(opening)
    noisy = bool(speech and speech.get("noisy"))
    labelled = visemes is not None and labels_source != "none" and sum(visemes.values()) > 0
    seen, missing = viseme_coverage(visemes or {}) if labelled else ([], [])
    viseme_frac = len(seen) / len(VISEME_PRIORITY) if labelled else None
    mouth_score = coverage * 100.0
    if viseme_frac is not None and not noisy:
        mouth_score = 50.0 * coverage + 50.0 * viseme_frac
    lighting = min(ramp(face_luma, 35, 90), ramp(face_luma, 250, 200), ramp(face_contrast, 8, 30))
    motion_score = 100.0
    if head_speed is not None:
        # A little natural movement is good; a lot makes every paste and loop jump harder.
        motion_score = min(ramp(head_speed, 1.2, 0.35), ramp(head_range or 0.0, 1.2, 0.5))
    speech_score = 100.0
    if speech is not None:
        speech_score = min(ramp(float(speech.get("speech_fraction", 0.0)), 0.1, 0.5),
                           30.0 if noisy else 100.0)  # fmt: skip
    scores = {
        "face_size": ramp(iod_px, 20, 90),
        "sharpness": ramp(mouth_sharpness, 15, 120),
        "lighting": lighting,
        "mouth_coverage": mouth_score,
        "tracking": ramp(valid_frac, 0.5, 0.98),
        "motion": motion_score,
        "speech": speech_score,
    }
    overall = sum(scores[k] * w for k, w in WEIGHTS.items()) / sum(WEIGHTS.values())
    if duration_s and duration_s < 30:
        overall *= 0.85 + 0.15 * duration_s / 30  # short footage holds few of each mouth shape
    advice: list[str] = []
    warnings: list[str] = []
    if noisy:
        warnings.append("noisy_audio")
        advice.append(
            "Music or loud noise plays under your voice: the twin's pictures are fine, but its "
            "mouth could not be learnt from your sound. Record again in a quiet room, without "
            "music, for better lip-sync."
        )
    gain_db = float((speech or {}).get("gain_db", 0.0))
    if gain_db >= QUIET_GAIN_DB:
        warnings.append("quiet_audio")
        advice.append(
            f"Your voice was recorded very quietly: it was raised by {gain_db:.0f} dB, and any "
            "hiss or hum with it. Turn the microphone's level up, or hold it closer, for better "
            "lip-sync."
        )
    if missing and not noisy and labelled:
        examples = "; ".join(VISEME_EXAMPLES[v] for v in missing[:3])
        advice.append(
            f"Record {_more_seconds(duration_s)} more seconds including words with {examples} "
            "(the suggested recording script has them all)."
        )
    elif duration_s and duration_s < GOOD_DURATION_S:
        advice.append(
            f"Record {_more_seconds(duration_s)} more seconds of natural speech: 1 to 2 minutes "
            "shows every mouth shape several times."
        )
    if scores["face_size"] < 60:
        advice.append(
            "Sit closer to the camera: your face should fill about a third of the frame height."
        )
    if scores["sharpness"] < 60:
        advice.append(
            "The mouth looks soft: clean the lens, add light, keep still and record at 1080p."
        )
    if face_luma < 90:
        advice.append(
            "Your face is dark: face a window or a lamp, with the light behind the camera."
        )
    elif face_luma > 200:
        advice.append("Your face is overexposed: soften or move the light away.")
    if face_contrast < 30 and face_luma >= 90:
        advice.append("The light is flat or hazy: add a light from one side of the camera.")
    if scores["mouth_coverage"] < 70 and not (missing and labelled and not noisy):
        advice.append(
            "Talk more, and more clearly: the footage shows few mouth shapes (say open vowels like "
            "'ah', rounded ones like 'oo', and 'p', 'f' sounds); 1 to 2 minutes of natural speech."
        )
    if scores["tracking"] < 80:
        advice.append("Keep your face in view and turned to the camera for the whole recording.")
    if scores["motion"] < 60:
        advice.append(
            "Your head moves a lot: sit steadily and look at the camera (small natural nods are fine)."
        )
    if speech is not None and not noisy and scores["speech"] < 60:
        advice.append("Talk for most of the recording: long silences teach the twin nothing.")
    mouth: dict[str, Any] = {
        "fraction": round(coverage, 3),
        "score": round(scores["mouth_coverage"]),
        "opening_p95": round(float(np.percentile(opening, 95)), 3) if len(opening) else 0.0,
        "labels": labels_source,
        "labels_reliable": bool(labelled and not noisy and labels_source == "transcript"),
    }
    if labelled:
        mouth.update(
            viseme_fraction=round(float(viseme_frac or 0.0), 3),
            visemes_seen=seen,
            visemes_missing=missing,
            viseme_frames={k: v for k, v in (visemes or {}).items()},
        )
    return {
        "face_size": {"iod_px": round(iod_px, 1), "face_height_frac": round(face_height_frac, 3),
                      "score": round(scores["face_size"])},
        "sharpness": {"laplacian_var": round(mouth_sharpness, 1), "score": round(scores["sharpness"])},
        "lighting": {"face_luma": round(face_luma, 1), "face_contrast": round(face_contrast, 1),
                     "score": round(scores["lighting"])},
        "mouth_coverage": mouth,
        "tracking": {"usable_frames": round(valid_frac, 3), "score": round(scores["tracking"])},
        "motion": {"head_speed_iod_per_s": None if head_speed is None else round(head_speed, 3),
                   "head_range_iod": None if head_range is None else round(head_range, 3),
                   "score": round(scores["motion"])},
        "speech": {**(speech or {}), "score": round(scores["speech"])},
        "audio_model": audio_model,
        "audio_model_r2": None if audio_r2 is None else round(audio_r2, 3),
        "duration_s": round(duration_s, 2),
        "overall": round(overall),
        "advice": advice,
        "warnings": warnings,
    }  # fmt: skip
