"""Long scripts: does memory stay flat, and how soon does the first frame come?

    python benchmarks/streaming.py [--chars 5000] [--voice en_US-joe-medium] [--resolution 720p]

A script of ``--chars`` characters (the max the API accepts is 5,000) is rendered with the public
demo photo twin (no footage needed) two ways, each in a fresh subprocess with the voice already
loaded (as in a running worker):

- ``whole``: ``synthesize`` the whole script into one in-memory :class:`Speech`, then
  ``render_video`` it;
- ``streamed``: ``render_video(synthesize_stream(script))``, as the service does: the sentence
  groups are made in a background thread beside the frames and spooled to disk
  (``speech.spool``), each rendered once it is made.

Reported per mode: seconds until the first video frames are encoded (the first progress report:
one every 10 frames), total seconds, the speech's duration, real-time factor, and peak RSS
(VmHWM). For ``streamed`` also the TTS time alone (``synthesize`` of the same script). Writes
``benchmarks/out/streaming.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out" / "streaming.json"
PARAGRAPH = (
    "Welcome to our quarterly update. Over the last three months the team shipped four new "
    "features, fixed more than 200 bugs, and cut the time it takes to open a project by half. "
    "Customers told us that the old export was slow and confusing, so we rebuilt it from the "
    "ground up. Today, a full export takes under a minute, and you can pick exactly which pages "
    "to include. We also moved our servers to a new provider in 2025. There were no outages, "
    "and the monthly bill went down by a fifth. Looking ahead, we will focus on three things: "
    "better search, shared workspaces, and a mobile app that works offline. "
)


def script_of(chars: int) -> str:
    text = ""
    while len(text) + len(PARAGRAPH) <= chars:
        text += PARAGRAPH
    return text.strip()


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def worker(mode: str, chars: int, voice: str, resolution: str, pack: Path) -> dict[str, Any]:
    from twinstudio.render import RenderOptions, render_video
    from twinstudio.speech import synthesize, synthesize_stream

    script = script_of(chars)
    synthesize("Warm up.", voice)
    first: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()

        def progress(f: float) -> None:  # told every 10 frames written
            if not first and f > 0:
                first.append(time.perf_counter() - t0)

        options = RenderOptions(resolution=resolution)
        if mode == "whole":
            speech: Any = synthesize(script, voice)
        else:
            speech = synthesize_stream(script, voice)
        result = render_video(pack, speech, options, Path(tmp), progress=progress,
                              text_length=len(script))  # fmt: skip
        total = time.perf_counter() - t0
        row: dict[str, Any] = {
            "mode": mode,
            "chars": len(script),
            "speech_s": round(result.duration_s, 1),
            "first_frame_s": round(first[0], 2) if first else None,
            "total_s": round(total, 1),
            "rtf": round(total / result.duration_s, 3),
            "peak_rss_mb": round(_peak_rss_mb()),
        }
    if mode == "streamed":
        t0 = time.perf_counter()
        synthesize(script, voice)
        row["tts_alone_s"] = round(time.perf_counter() - t0, 1)
    return row


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--chars", type=int, default=5000)
    ap.add_argument("--voice", default="en_US-joe-medium")
    ap.add_argument("--resolution", default="720p")
    ap.add_argument("--worker", nargs=2, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        row = worker(args.worker[0], args.chars, args.voice, args.resolution, Path(args.worker[1]))
        print(json.dumps(row), flush=True)
        return 0

    from twinstudio.twins import train_twin
    from twinstudio.twins.demo import demo_source

    load_before = [round(x, 2) for x in os.getloadavg()]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        pack = Path(tmp) / "demo"
        train_twin(demo_source(), pack, kind="photo")
        for mode in ("whole", "streamed"):
            cmd = [sys.executable, __file__, "--chars", str(args.chars), "--voice", args.voice,
                   "--resolution", args.resolution, "--worker", mode, str(pack)]  # fmt: skip
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
            if proc.returncode != 0 or not lines:
                raise SystemExit(f"{mode} failed:\n{proc.stderr[-3000:]}")
            rows.append(json.loads(lines[-1]))
            print(lines[-1], flush=True)
    report = {
        "voice": args.voice,
        "resolution": args.resolution,
        "twin": "demo photo twin",
        "load_before": load_before,
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "modes": rows,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
