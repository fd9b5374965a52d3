"""Twin training speed, memory and quality on every real clip (issue 5).

For each clip in ``../shared/footage/clips`` (``$TWINSTUDIO_FOOTAGE/clips`` where set) a fresh Python process trains a video twin (no
matte, no transcript: phones are recognised) into a temporary folder and reports:

- ``ratio``: training wall time ÷ footage duration (goal ≤ 2 at 1080p on the 2-core machine);
  the time covers ``train_twin`` only, including its lazy imports (MediaPipe, pocketsphinx);
- ``peak_rss_mb``: the child's peak resident memory (``ru_maxrss``: models, buffers, everything);
- the quality report's figures: overall score, per-section scores, visemes missing, audio-to-mouth
  R² (audio only and with viseme context, 5-fold blocked cross-validation), warnings.

Load matters (other people's tests share the CPU): ``uptime``'s load averages before and after are
written with the figures. Writes ``benchmarks/out/twins.json`` and prints a Markdown table for
``benchmarks/README.md``. Footage is research-only: nothing made from it is kept (the packs live
in a temporary folder that is deleted).

    python benchmarks/twins.py [clip.mp4 ...]
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from footage import CLIPS

SECTIONS = ("face_size", "sharpness", "lighting", "mouth_coverage", "tracking", "motion", "speech")
OUT = Path(__file__).resolve().parent / "out" / "twins.json"


def _one(clip: Path) -> dict[str, Any]:
    """Runs in the child: train one twin, return its figures."""
    from twinstudio.twins import train_twin

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        info = train_twin(clip, Path(tmp) / "pack")
        elapsed = time.perf_counter() - start
    q = info.quality
    am = q.get("audio_model") or {}
    mouth = q.get("mouth_coverage") or {}
    return {
        "clip": clip.name,
        "size": f"{info.width}x{info.height}",
        "fps": info.fps,
        "duration_s": info.duration_s,
        "train_s": round(elapsed, 2),
        "ratio": round(elapsed / info.duration_s, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "overall": q.get("overall"),
        "scores": {k: q[k]["score"] for k in SECTIONS if isinstance(q.get(k), dict)},
        "visemes_missing": mouth.get("visemes_missing"),
        "labels": mouth.get("labels"),
        "r2_audio": am.get("r2"),
        "r_audio": am.get("r"),
        "r2_audio_visemes": am.get("r2_with_visemes"),
        "r_audio_visemes": am.get("r_with_visemes"),
        "warnings": q.get("warnings"),
        "advice": q.get("advice"),
    }


def _load() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def _table(rows: list[dict[str, Any]]) -> str:
    head = ("| clip | size | s | train ÷ duration | peak RSS MB | overall | R² audio | "
            "R² +visemes | r audio | r +visemes | visemes missing |")  # fmt: skip
    lines = [head, "|" + "---|" * 11]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['clip']} | error: {r['error']} |" + " |" * 9)
            continue
        lines.append(
            f"| {r['clip']} | {r['size']} | {r['duration_s']:.1f} | {r['ratio']:.2f} | "
            f"{r['peak_rss_mb']:.0f} | {r['overall']} | {r['r2_audio']} | "
            f"{r['r2_audio_visemes']} | {r['r_audio']} | {r['r_audio_visemes']} | "
            f"{' '.join(r['visemes_missing'] or []) or '—'} |"
        )
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    if argv[:1] == ["--one"]:
        print(json.dumps(_one(Path(argv[1]))))
        return
    clips = [Path(a) for a in argv] or sorted(CLIPS.glob("*.mp4"))
    if not clips:
        sys.exit(f"no clips: real footage is not present at {CLIPS}")
    load_before = _load()
    rows = []
    for clip in clips:
        child = subprocess.run(
            [sys.executable, __file__, "--one", str(clip)],
            capture_output=True, text=True, env={**os.environ, "GLOG_minloglevel": "2"},
        )  # fmt: skip
        lines = child.stdout.strip().splitlines()
        try:
            row = json.loads(lines[-1])
        except (IndexError, json.JSONDecodeError):
            row = {"clip": clip.name, "error": (child.stderr.strip().splitlines() or ["?"])[-1]}
        rows.append(row)
        print(json.dumps(row), file=sys.stderr)
    report = {"load_before": load_before, "load_after": _load(), "nproc": os.cpu_count(),
              "clips": rows}  # fmt: skip
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2))
    print(f"load before: {load_before}\nload after:  {report['load_after']}\n")
    print(_table(rows))


if __name__ == "__main__":
    main(sys.argv[1:])
