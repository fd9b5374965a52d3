"""Helpers for twin tests: tiny media generated with PyAV in a temp folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np

FOOTAGE = Path(__file__).resolve().parents[4] / "shared" / "footage"
if not FOOTAGE.is_dir():
    FOOTAGE = Path("/work/shared/footage")


def write_clip(path: Path, seconds: float, fps: int = 25, size: tuple[int, int] = (160, 120),
               colour: tuple[int, int, int] = (180, 170, 160)) -> Path:  # fmt: skip
    """A small H.264 clip of a flat wall with a little noise (no face)."""
    import av

    rng = np.random.default_rng(0)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for _ in range(round(seconds * fps)):
            img = np.full((size[1], size[0], 3), colour, np.uint8)
            img = np.clip(img + rng.integers(-3, 4, img.shape), 0, 255).astype(np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def write_face_clip(
    path: Path,
    seconds: float,
    *,
    fps: int = 25,
    brightness: float = 1.0,
    audio: str | None = None,
) -> Path:
    """A clip of the shipped public-domain demo portrait drifting slowly (a face, no speech).

    ``brightness`` scales the pixels (0.1 = a very dark room). ``audio``: None (no sound track),
    ``"silence"`` or ``"tones"`` (a steady chord, like music without a voice).
    """
    import av
    import cv2

    from twinstudio.twins.demo import demo_source

    still = cv2.imread(str(demo_source()))[:, :, ::-1]
    h, w = still.shape[:2]
    still = still[: int(0.6 * h), int(0.2 * w) : int(0.8 * w)]  # head and shoulders
    still = cv2.resize(still, (256, 256), interpolation=cv2.INTER_AREA)
    n = round(seconds * fps)
    rate = 16000
    with av.open(str(path), mode="w") as container:
        video = container.add_stream("libx264", rate=fps)
        video.width, video.height = 256, 256
        video.pix_fmt = "yuv420p"
        sound = container.add_stream("aac", rate=rate) if audio else None
        for i in range(n):
            shift = np.float32([[1, 0, 3 * np.sin(i / 10)], [0, 1, 2 * np.cos(i / 13)]])
            img = cv2.warpAffine(still, shift, (256, 256), borderMode=cv2.BORDER_REPLICATE)
            img = np.clip(img.astype(np.float32) * brightness, 0, 255).astype(np.uint8)
            for packet in video.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                container.mux(packet)
        if sound is not None:
            t = np.arange(round(seconds * rate)) / rate
            if audio == "tones":
                wave = sum(0.15 * np.sin(2 * np.pi * f * t) for f in (220.0, 277.2, 329.6))
            else:
                wave = np.zeros_like(t)
            pcm = np.asarray(wave, np.float32)
            for k in range(0, len(pcm), 1024):
                frame = av.AudioFrame.from_ndarray(pcm[None, k : k + 1024], format="flt",
                                                   layout="mono")  # fmt: skip
                frame.sample_rate = rate
                for packet in sound.encode(frame):
                    container.mux(packet)
            for packet in sound.encode(None):
                container.mux(packet)
        for packet in video.encode(None):
            container.mux(packet)
    return path


def write_undecodable(path: Path, seconds: float = 6.0) -> Path:
    """A Matroska file whose container is fine but whose H.264 packets are random bytes."""
    import av

    clean = write_clip(path.with_suffix(".clean.mkv"), seconds)
    rng = np.random.default_rng(3)
    with av.open(str(clean)) as source, av.open(str(path), mode="w", format="matroska") as sink:
        stream_in = source.streams.video[0]
        stream_out = sink.add_stream_from_template(stream_in)
        for packet in source.demux(stream_in):
            if packet.size == 0:
                continue
            noise = av.Packet(rng.integers(0, 256, packet.size, dtype=np.uint8).tobytes())
            noise.pts, noise.dts, noise.time_base = packet.pts, packet.dts, packet.time_base
            noise.is_keyframe = packet.is_keyframe
            noise.stream = stream_out
            sink.mux(noise)
    clean.unlink()
    return path
