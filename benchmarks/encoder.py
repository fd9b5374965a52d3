"""Encoder and compositor speed: the renderer's floor, measured on the same frames.

    python benchmarks/encoder.py [--frames 120] [--clip PATH]

Measures, at 1080p and 720p (16:9):
- raw x264 fps at the shipped preset, from frames already in yuv420p (the encoder alone);
- ``VideoEncoder.write`` fps (RGB → BT.709 YUV conversion + x264 + AAC muxing);
- ``Compositor.compose`` ms/frame, one OpenCV thread, for cover/contain × 16:9/9:16, with and
  without matting (the matting figure is the blend only; ``Matter.alpha`` is timed separately).

Frames come from a real clip (upscaled to the output size) when the development footage is
present, else from a generated moving pattern. Writes ``benchmarks/out/encoder.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
from av.video.reformatter import ColorRange, Colorspace
from footage import CLIPS, ROOT

from twinstudio.render.compose import Compositor
from twinstudio.render.encode import X264_CRF, VideoEncoder, x264_options, x264_preset
from twinstudio.render.framing import plan_frame
from twinstudio.render.types import RenderOptions

DEFAULT_CLIP = CLIPS / "videoretalking_man_suit_window_6s.mp4"
OUT = ROOT / "benchmarks" / "out" / "encoder.json"
FPS = 25


def source_frames(clip: Path | None, count: int) -> tuple[list[np.ndarray], str]:
    """Source frames (held in memory; small) from a clip, or a generated moving pattern."""
    if clip is not None and clip.exists():
        frames = []
        with av.open(str(clip)) as container:
            for frame in container.decode(video=0):
                frames.append(frame.to_ndarray(format="rgb24"))
                if len(frames) == count:
                    break
        return frames, clip.name
    rng = np.random.default_rng(0)
    base = cv2.resize(rng.integers(0, 255, (45, 80, 3), dtype=np.uint8), (1280, 720))
    pattern: list[np.ndarray] = []
    for i in range(count):
        moved = np.ascontiguousarray(np.roll(base, 4 * i, axis=1))
        cv2.circle(moved, (640 + int(80 * np.sin(i / 7)), 330), 150, (220, 180, 150), -1)
        pattern.append(moved)
    frames = pattern
    return frames, "generated pattern"


def upscaled(frames: list[np.ndarray], size: tuple[int, int]) -> list[np.ndarray]:
    """Cover-fit the source frames to ``size`` (what the renderer hands the encoder)."""
    height, width = frames[0].shape[:2]
    plan = plan_frame((width, height), (0, 0, width, height), size, "cover")
    x0, y0, x1, y1 = plan.crop
    return [cv2.resize(f[y0:y1, x0:x1], size, interpolation=cv2.INTER_CUBIC) for f in frames]


def raw_x264_fps(frames: list[np.ndarray], total: int) -> float:
    """x264 alone: frames converted to yuv420p beforehand, encoded to a null muxer."""
    height, width = frames[0].shape[:2]
    yuv = [
        av.VideoFrame.from_ndarray(f, format="rgb24").reformat(
            format="yuv420p",
            src_colorspace=Colorspace.ITU709,
            dst_colorspace=Colorspace.ITU709,
            src_color_range=ColorRange.JPEG,
            dst_color_range=ColorRange.MPEG,
        )
        for f in frames
    ]
    codec = av.CodecContext.create("libx264", "w")
    codec.width, codec.height, codec.pix_fmt = width, height, "yuv420p"
    codec.time_base = Fraction(1, FPS)
    codec.framerate = Fraction(FPS)
    codec.options = dict(x264_options())
    start = time.perf_counter()
    for i in range(total):
        frame = yuv[i % len(yuv)]
        frame.pts = i
        codec.encode(frame)
    codec.encode(None)
    return total / (time.perf_counter() - start)


def video_encoder_fps(frames: list[np.ndarray], total: int) -> float:
    """The shipped ``VideoEncoder`` (RGB in, MP4 with AAC out)."""
    height, width = frames[0].shape[:2]
    audio = np.zeros(round(total / FPS * 48000), np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        with VideoEncoder(Path(tmp) / "b.mp4", (width, height), FPS, audio, 48000) as enc:
            for i in range(total):
                enc.write(frames[i % len(frames)])
        return total / (time.perf_counter() - start)


def compose_ms(frames: list[np.ndarray], alpha: np.ndarray | None, options: RenderOptions) -> float:
    height, width = frames[0].shape[:2]
    face = (int(width * 0.38), int(height * 0.18), int(width * 0.62), int(height * 0.55))
    comp = Compositor((width, height), face, options)
    comp.compose(frames[0], alpha)
    start = time.perf_counter()
    n = 0
    for _ in range(3):
        for frame in frames:
            comp.compose(frame, alpha)
            n += 1
    return (time.perf_counter() - start) / n * 1000


def matter_ms(frames: list[np.ndarray]) -> tuple[dict[str, Any], np.ndarray]:
    from twinstudio.twins.matte import Matter

    matter = Matter()
    alpha = matter.alpha(frames[0])
    start = time.perf_counter()
    for frame in frames[1:21]:
        alpha = matter.alpha(frame)
    ms = (time.perf_counter() - start) / 20 * 1000
    return {"ms_per_frame": round(ms, 1), "source": list(frames[0].shape[1::-1])}, alpha


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=120, help="frames encoded per size")
    parser.add_argument("--clip", type=Path, default=DEFAULT_CLIP)
    args = parser.parse_args()

    frames, source = source_frames(args.clip, 30)
    result: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "pyav": av.__version__,
            "opencv": cv2.__version__,
        },
        "source": source,
        "preset": x264_preset(),
        "crf": X264_CRF,
        "encoder": {},
        "compose_ms_1thread": {},
    }
    for name, size in (("1080p", (1920, 1080)), ("720p", (1280, 720))):
        scaled = upscaled(frames, size)
        raw = raw_x264_fps(scaled, args.frames)
        full = video_encoder_fps(scaled, args.frames)
        result["encoder"][name] = {
            "raw_x264_fps": round(raw, 1),
            "video_encoder_fps": round(full, 1),
        }
        print(f"{name}: raw x264 {raw:.1f} fps, VideoEncoder {full:.1f} fps", flush=True)

    matte_info, alpha = matter_ms(frames)
    result["matter_alpha"] = matte_info
    print(f"Matter.alpha: {matte_info['ms_per_frame']} ms/frame at {matte_info['source']}")

    cv2.setNumThreads(1)
    for aspect in ("16:9", "9:16"):
        for fit in ("cover", "contain"):
            for matting in (False, True):
                options = RenderOptions("1080p", aspect, fit, remove_background=matting)
                ms = compose_ms(frames, alpha if matting else None, options)
                key = f"1080p {aspect} {fit}{' matting' if matting else ''}"
                result["compose_ms_1thread"][key] = round(ms, 2)
                print(f"compose {key}: {ms:.2f} ms/frame")
    cv2.setNumThreads(0)

    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
