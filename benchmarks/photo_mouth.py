"""The photo engine's painted mouth against real open mouths of the same person.

A photo twin has no footage of its mouth open: what shows between its parted lips is painted
(``render/lipsync/photo.py``). This measures how much that painting looks like the inside of a
real mouth, on the real talking clips of the shared footage: for each clip, the frame whose lips
are most closed stands in for the photo; every other frame whose inner lips part by more than
``OPEN_IOD`` is a real open mouth, and the still is painted at that frame's own opening (one frame
in two). The inside of the inner-lip outline (face mesh, on the real frame and on the painted one
alike, eroded by a pixel) is described, relative to the luma of the cheek (face-mesh point 205):

- ``rgb``: its mean colour over the cheek's luma;
- ``p50`` / ``p90``: the median and 90th percentile of its luma over the cheek's;
- ``bright``: the share of its pixels brighter than 0.75x the cheek (teeth, a lit tongue).

Per clip, the mean of each over the frames, real and painted, and their absolute difference;
``mean_abs_diff`` averages those over the clips (lower is better: 0 would paint a mouth as
bright, as coloured and with as much teeth as the person's own). It measures appearance only,
not shape or timing (``benchmarks/lipsync.py`` measures the video engine's motion).

Writes ``benchmarks/out/photo_mouth.json``. Footage is read from ``../shared/footage/clips``
(``$TWINSTUDIO_FOOTAGE/clips`` where that is set); ``--footage DIR`` measures another folder's
clips. Nothing generated from the footage is kept. Clip arguments match parts of names.

    python benchmarks/photo_mouth.py [--footage DIR] [clip ...]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
from footage import CLIPS

VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".webm")
OPEN_IOD = 0.08  # inner-lip gap (inter-ocular units) above which a real frame counts as open
STATS = ("r", "g", "b", "p50", "p90", "bright")
_LUMA = np.array([0.299, 0.587, 0.114])


def _inside_stats(rgb: np.ndarray, lm: np.ndarray) -> np.ndarray | None:
    """The statistics of :data:`STATS` for the inside of the inner-lip outline, or None when
    fewer than 20 pixels lie inside it."""
    import cv2

    from twinstudio.twins.faces import LIPS_INNER

    mask = np.zeros(rgb.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(lm[list(LIPS_INNER)]).astype(np.int32)], (1,))
    pixels = rgb[cv2.erode(mask, np.ones((3, 3), np.uint8)) > 0].astype(np.float64)
    if len(pixels) < 20:
        return None
    x, y = (int(c) for c in np.rint(lm[205]))
    cheek = float(np.median(rgb[y - 2 : y + 3, x - 2 : x + 3].reshape(-1, 3) @ _LUMA))
    luma = pixels @ _LUMA
    return np.array([*(pixels.mean(axis=0) / cheek), np.percentile(luma, 50) / cheek,
                     np.percentile(luma, 90) / cheek, float((luma > 0.75 * cheek).mean())])  # fmt: skip


def run_clip(clip: Path) -> dict[str, Any] | None:
    """Real and painted statistics of one clip (None when it has no open mouth to compare)."""
    from twinstudio.render.lipsync import photo as PH
    from twinstudio.twins.faces import FaceTracker, inter_ocular
    from twinstudio.twins.ingest import iter_frames, probe, working_size

    info = probe(clip)
    size = working_size(info.width, info.height)
    tracker = FaceTracker()
    try:
        frames, marks = [], []
        for _yuv, rgb in iter_frames(clip, info, size):
            lm = tracker.landmarks(rgb)
            if lm is not None:
                frames.append(rgb)
                marks.append(lm)
        if not frames:
            return None
        opening = np.array([np.linalg.norm(m[13] - m[14]) / inter_ocular(m) for m in marks])
        still = int(np.argmin(opening))
        face = PH._Face(frames[still], marks[still])
        real, painted = [], []
        for i in np.nonzero(opening > OPEN_IOD)[0][::2]:
            seen = _inside_stats(frames[i], marks[i])
            image = face.render(float(opening[i] / PH.MAX_GAP_IOD), 0.0)
            lm = tracker.landmarks(image)
            made = _inside_stats(image, lm) if lm is not None else None
            if seen is not None and made is not None:
                real.append(seen)
                painted.append(made)
    finally:
        tracker.close()
    if not real:
        return None
    r, p = np.mean(real, axis=0), np.mean(painted, axis=0)
    return {
        "clip": clip.name,
        "still_frame": still,
        "frames": len(real),
        "real": dict(zip(STATS, np.round(r, 3).tolist(), strict=True)),
        "painted": dict(zip(STATS, np.round(p, 3).tolist(), strict=True)),
        "abs_diff": dict(zip(STATS, np.round(np.abs(r - p), 3).tolist(), strict=True)),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--footage", type=Path, default=None,
                        help="measure the clips of this folder instead of the shared footage's")  # fmt: skip
    parser.add_argument("clips", nargs="*", help="clip names or parts of names (default: all)")
    args = parser.parse_args(argv)
    folder = args.footage or CLIPS
    every = sorted(c for c in folder.glob("*") if c.suffix.lower() in VIDEO_SUFFIXES)
    clips = [c for c in every if not args.clips or any(a in c.name for a in args.clips)]
    if not clips:
        print(f"no video clips to measure in {folder} (.mp4, .mov, .mkv, .webm)", file=sys.stderr)
        return 1
    results = []
    for clip in clips:
        row = run_clip(clip)
        if row is None:
            print(json.dumps({"clip": clip.name, "skipped": "no face or no open mouth"}))
            continue
        print(json.dumps(row), flush=True)
        results.append(row)
    if not results:
        print("no clip had an open mouth to compare", file=sys.stderr)
        return 1
    summary = {k: round(float(np.mean([r["abs_diff"][k] for r in results])), 3) for k in STATS}
    print(json.dumps({"mean_abs_diff": summary}))
    name = "photo_mouth" if args.footage is None else f"photo_mouth-{args.footage.resolve().name}"
    out = Path(__file__).parent / "out" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"mean_abs_diff": summary, "results": results}, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
