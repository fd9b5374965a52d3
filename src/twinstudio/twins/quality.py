"""The quality report a person sees after training: scores 0–100 and what to record better.

Every score is a plain piecewise-linear ramp between a "useless" and a "good" value, so the
numbers are easy to explain; ``overall`` is their weighted mean.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# Inner-lip opening bins (IOD units): closed … wide open. Coverage counts the bins seen.
OPENING_BINS = (0.0, 0.02, 0.05, 0.09, 0.14, 0.2, 0.27, 0.35, 10.0)
WEIGHTS = {"face_size": 1.0, "sharpness": 1.0, "lighting": 1.0, "mouth_coverage": 1.5,
           "tracking": 1.0}  # fmt: skip


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
) -> dict[str, Any]:
    """Scores and advice. Inputs are medians over the usable frames."""
    coverage = opening_coverage(opening)
    lighting = min(ramp(face_luma, 35, 90), ramp(face_luma, 250, 200), ramp(face_contrast, 8, 30))
    scores = {
        "face_size": ramp(iod_px, 20, 90),
        "sharpness": ramp(mouth_sharpness, 15, 120),
        "lighting": lighting,
        "mouth_coverage": coverage * 100.0,
        "tracking": ramp(valid_frac, 0.5, 0.98),
    }
    overall = sum(scores[k] * w for k, w in WEIGHTS.items()) / sum(WEIGHTS.values())
    advice: list[str] = []
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
    if scores["mouth_coverage"] < 70:
        advice.append(
            "Talk more, and more clearly: the footage shows few mouth shapes (say open vowels like "
            "'ah', rounded ones like 'oo', and 'p', 'f' sounds); 1 to 2 minutes of natural speech."
        )
    if scores["tracking"] < 80:
        advice.append("Keep your face in view and turned to the camera for the whole recording.")
    return {
        "face_size": {"iod_px": round(iod_px, 1), "face_height_frac": round(face_height_frac, 3),
                      "score": round(scores["face_size"])},
        "sharpness": {"laplacian_var": round(mouth_sharpness, 1), "score": round(scores["sharpness"])},
        "lighting": {"face_luma": round(face_luma, 1), "face_contrast": round(face_contrast, 1),
                     "score": round(scores["lighting"])},
        "mouth_coverage": {"fraction": round(coverage, 3), "score": round(scores["mouth_coverage"]),
                           "opening_p95": round(float(np.percentile(opening, 95)), 3)
                           if len(opening) else 0.0},
        "tracking": {"usable_frames": round(valid_frac, 3), "score": round(scores["tracking"])},
        "audio_model_r2": None if audio_r2 is None else round(audio_r2, 3),
        "overall": round(overall),
        "advice": advice,
    }  # fmt: skip
