"""Render speed, end to end (TTS → finished MP4), against the raw x264 encoder on the same frames.

    python benchmarks/render.py [--seconds 60] [--long-minutes 10] [--cases 1080p:16:9:plain,...]
                                [--clip PATH] [--pack DIR] [--repeat 1]

What it does, in one run on one machine:
1. Speech: a fixed English script spoken by the Piper voice ``en_US-joe-medium`` (timed, voice
   already loaded as in a running worker: the TTS time is part of the end-to-end time), repeated
   and cut to exactly ``--seconds``.
2. Twin: a video twin trained *with matting* from a real 1080p clip when the development footage
   is present (else the public demo photo twin), into a temporary folder (training not timed).
3. Each case (resolution × aspect × background removal) renders in a fresh subprocess, so its
   peak memory (``ru_maxrss``) is its own. Reported: render seconds, end-to-end seconds (TTS +
   render), real-time factor, render fps and peak RSS.
4. Raw encoder, same frames: the first frames of that case's output are decoded to yuv420p and
   re-encoded by libx264 with the shipped preset and options, nothing else running: raw fps.
   ``ratio`` = render fps / raw fps.
5. Memory with length: the 1080p 16:9 case again with the speech tiled to ``--long-minutes``
   (skipped with ``--long-minutes 0``); its peak RSS must not exceed the 1-minute one's.

Writes ``benchmarks/out/render.json``. Nothing rendered is kept (the twin may be of a real person).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FOOTAGE = Path(os.environ.get("TWINSTUDIO_FOOTAGE", str(ROOT.parent / "shared" / "footage")))
DEFAULT_CLIP = FOOTAGE / "clips" / "wav2lipgfpgan_woman_blazer_landscape_1080p_7s.mp4"
OUT = ROOT / "benchmarks" / "out" / "render.json"
VOICE = "en_US-joe-medium"
RAW_FRAMES = 120
DEFAULT_CASES = (
    "720p:16:9:plain",
    "720p:9:16:plain",
    "1080p:16:9:plain",
    "1080p:9:16:plain",
    "720p:16:9:matte",
    "1080p:16:9:matte",
    "1080p:9:16:matte",
)
SCRIPT = (
    "Welcome to our quarterly update. Over the last three months the team shipped four new "
    "features, fixed more than two hundred bugs, and cut the time it takes to open a project by "
    "half. Customers told us that the old export was slow and confusing, so we rebuilt it from "
    "the ground up. Today, a full export takes under a minute, and you can pick exactly which "
    "pages to include. We also moved our servers to a new provider. That work was invisible to "
    "you, which is exactly how it should be: there were no outages, and the monthly bill went "
    "down by a fifth. Looking ahead, we will focus on three things. First, better search, so "
    "that you can find any document by a phrase you remember from it. Second, shared "
    "workspaces with fine grained permissions. Third, a mobile app that works offline on a "
    "plane or a train. If you have ideas, please write to us, or book a call with the product "
    "team. Thank you for watching, and see you next quarter. "
)


# ---------------------------------------------------------------------- parent side


def _peak_rss_mb() -> float:
    """This process's peak resident memory. ``ru_maxrss`` survives ``exec`` (a worker forked from a
    big parent would report the parent's size), so read the kernel's per-image high-water mark."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_speech(seconds: float, workdir: Path) -> tuple[Path, float]:
    """Synthesise the script (repeated) and cut it to ``seconds``; returns (npz path, TTS s)."""
    from twinstudio.speech import synthesize

    synthesize("Warm up.", VOICE)  # a worker keeps the voice loaded: time synthesis, not loading
    t0 = time.perf_counter()
    speech = synthesize(SCRIPT, VOICE)
    tts_s = time.perf_counter() - t0
    audio, phonemes = speech.audio, list(speech.phonemes)
    while len(audio) < seconds * speech.sample_rate:  # repeat the script until it is long enough
        shift = round(len(audio) * 1000 / speech.sample_rate)
        phonemes += [(p.symbol, p.start_ms + shift, p.end_ms + shift) for p in speech.phonemes]
        audio = np.concatenate([audio, speech.audio])
    path = workdir / f"speech_{int(seconds)}.npz"
    save_speech(path, audio, speech.sample_rate, phonemes, seconds)
    # Piper's time is proportional to the audio it makes: scale to exactly ``seconds``.
    return path, tts_s * seconds / speech.duration_s


def save_speech(
    path: Path, audio: np.ndarray, rate: int, phonemes: list[Any], seconds: float
) -> None:
    n = int(seconds * rate)
    end_ms = round(n * 1000 / rate)
    rows = []
    for p in phonemes:
        sym, a, b = (p.symbol, p.start_ms, p.end_ms) if hasattr(p, "symbol") else p
        if a >= end_ms:
            break
        rows.append((sym, a, min(b, end_ms)))
    np.savez(
        path,
        audio=audio[:n].astype(np.float32),
        rate=np.array(rate),
        symbols=np.array([r[0] for r in rows]),
        starts=np.array([r[1] for r in rows], np.int64),
        ends=np.array([r[2] for r in rows], np.int64),
    )


def tile_speech(src: Path, times: int, dst: Path) -> None:
    """The same speech repeated ``times`` times (for the memory-versus-length check)."""
    z = np.load(src)
    audio, rate = z["audio"], int(z["rate"])
    dur_ms = round(len(audio) * 1000 / rate)
    rows = []
    for k in range(times):
        rows += [
            (str(s), int(a) + k * dur_ms, int(b) + k * dur_ms)
            for s, a, b in zip(z["symbols"], z["starts"], z["ends"], strict=True)
        ]
    save_speech(dst, np.tile(audio, times), rate, rows, len(audio) * times / rate)


def train(clip: Path | None, pack_dir: Path) -> str:
    from twinstudio.twins import train_twin
    from twinstudio.twins.demo import demo_source

    if clip is not None and clip.is_file():
        train_twin(clip, pack_dir, matting=True)
        return clip.name
    train_twin(demo_source(), pack_dir, kind="photo", matting=True)
    return "demo photo twin"


def run_case(pack: Path, speech: Path, case: str, raw: bool) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--worker", str(pack), str(speech), case]
    if raw:
        cmd.append("--raw")
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"case {case} failed:\n{proc.stderr[-3000:]}")
    return dict(json.loads(lines[-1]))


# ---------------------------------------------------------------------- worker side


def _load_speech(path: Path) -> Any:
    from twinstudio.speech.types import Speech, Timing

    z = np.load(path)
    phonemes = [
        Timing(str(s), int(a), int(b))
        for s, a, b in zip(z["symbols"], z["starts"], z["ends"], strict=True)
    ]
    return Speech(audio=z["audio"], sample_rate=int(z["rate"]), phonemes=phonemes)


def raw_encoder_fps(video: Path, n: int) -> float:
    """x264 alone, shipped preset and options, on the first ``n`` frames of ``video`` (yuv420p)."""
    import av

    from twinstudio.render.encode import x264_options

    frames = []
    with av.open(str(video)) as container:
        for frame in container.decode(video=0):
            frames.append(frame.reformat(format="yuv420p"))
            if len(frames) == n:
                break
    with tempfile.TemporaryDirectory() as tmp:
        out = av.open(str(Path(tmp) / "raw.mp4"), "w")
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height = frames[0].width, frames[0].height
        stream.pix_fmt = "yuv420p"
        stream.options = x264_options()
        stream.codec_context.thread_count = 0
        t0 = time.perf_counter()
        for i, f in enumerate(frames):
            f.pts = i
            for packet in stream.encode(f):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
        elapsed = time.perf_counter() - t0
        out.close()
    return len(frames) / elapsed


def worker(pack: Path, speech_path: Path, case: str, raw: bool) -> None:
    from twinstudio.render import RenderOptions, render_video
    from twinstudio.render.types import Background

    resolution, a, b, bg = case.split(":")
    speech = _load_speech(speech_path)
    options = RenderOptions(
        resolution=resolution,
        aspect_ratio=f"{a}:{b}",
        fit="cover",
        remove_background=bg == "matte",
        background=Background(color="#2f6fb0") if bg == "matte" else None,
    )
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        result = render_video(pack, speech, options, Path(tmp))
        render_s = time.perf_counter() - t0
        peak_mb = _peak_rss_mb()
        frames = round(result.duration_s * 25)
        from twinstudio.twins.pack import TwinPack

        frames = round(result.duration_s * TwinPack.open(pack).fps)
        res: dict[str, Any] = {
            "case": case,
            "size": f"{result.width}x{result.height}",
            "duration_s": round(result.duration_s, 2),
            "frames": frames,
            "render_s": round(render_s, 2),
            "render_fps": round(frames / render_s, 1),
            "peak_rss_mb": round(peak_mb),
        }
        if raw:
            res["raw_x264_fps"] = round(raw_encoder_fps(result.video_path, RAW_FRAMES), 1)
    print(json.dumps(res), flush=True)


# ---------------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--long-minutes", type=float, default=10.0)
    ap.add_argument("--cases", default=",".join(DEFAULT_CASES))
    ap.add_argument("--clip", type=Path, default=DEFAULT_CLIP)
    ap.add_argument("--pack", type=Path, default=None, help="reuse a trained pack (with matte)")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--worker", nargs=3, default=None)
    ap.add_argument("--raw", action="store_true")
    args = ap.parse_args()
    if args.worker:
        worker(Path(args.worker[0]), Path(args.worker[1]), args.worker[2], args.raw)
        return 0

    from twinstudio.render.encode import x264_preset

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        source = "given pack"
        pack = args.pack
        if pack is None:
            pack = tmp / "pack"
            source = train(args.clip, pack)
        speech, tts_s = make_speech(args.seconds, tmp)
        load0 = os.getloadavg()[0]
        rows = []
        for case in args.cases.split(","):
            for _ in range(args.repeat):
                row = run_case(pack, speech, case, raw=True)
                row["tts_s"] = round(tts_s, 2)
                row["e2e_s"] = round(row["render_s"] + tts_s, 2)
                row["rtf"] = round(row["e2e_s"] / row["duration_s"], 3)
                row["ratio"] = round(row["render_fps"] / row["raw_x264_fps"], 2)
                row["load"] = round(os.getloadavg()[0], 2)
                print(json.dumps(row), flush=True)
                rows.append(row)
        long_row = None
        if args.long_minutes > 0:
            long_speech = tmp / "speech_long.npz"
            tile_speech(speech, max(1, round(args.long_minutes * 60 / args.seconds)), long_speech)
            long_row = run_case(pack, long_speech, "1080p:16:9:plain", raw=False)
            long_row["load"] = round(os.getloadavg()[0], 2)
            print(json.dumps(long_row), flush=True)
    report = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "source": source,
        "x264_preset": x264_preset(),
        "load_at_start": round(load0, 2),
        "cases": rows,
        "long": long_row,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2))
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
