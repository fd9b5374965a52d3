"""Helpers for twin tests: tiny media generated with PyAV in a temp folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


# Linear BT.709 RGB → linear BT.2020 RGB (ITU-R BT.2087).
_BT709_TO_BT2020 = np.array(
    [[0.6274, 0.3293, 0.0433], [0.0691, 0.9195, 0.0114], [0.0164, 0.0880, 0.8956]]
)


def hdr_signal(rgb: np.ndarray, transfer: str) -> np.ndarray:
    """SDR RGB (uint8, BT.709) as an HDR camera would code it: float BT.2020 non-linear signal
    0..1. SDR display light (BT.1886, gamma 2.4) with SDR white at the HDR reference white of
    203 cd/m² (ITU-R BT.2408), BT.709 → BT.2020 primaries, then the inverse HLG OOTF and the HLG
    OETF for a 1,000 cd/m² display (``transfer`` "hlg"), or the PQ inverse EOTF ("pq")."""
    light = (rgb.astype(np.float64) / 255.0) ** 2.4
    nits = (light @ _BT709_TO_BT2020.T) * 203.0
    if transfer == "pq":
        m1, m2 = 2610 / 16384, 2523 / 32
        c1, c2, c3 = 3424 / 4096, 2413 / 128, 2392 / 128
        y = (nits / 10000.0) ** m1
        return np.asarray(((c1 + c2 * y) / (1 + c3 * y)) ** m2)
    display_luma = nits @ np.array([0.2627, 0.6780, 0.0593])
    scene_luma = (display_luma / 1000.0) ** (1 / 1.2)
    scene = nits / 1000.0 / np.maximum(scene_luma, 1e-9)[..., None] ** 0.2
    a, b, c = 0.17883277, 0.28466892, 0.55991073
    low = np.sqrt(3 * scene)
    high = a * np.log(np.maximum(12 * scene - b, 1e-9)) + c
    return np.asarray(np.where(scene <= 1 / 12, low, high))


def hdr_frame(rgb: np.ndarray, transfer: str) -> Any:
    """``rgb`` as a BT.2020 limited-range yuv420p10le ``av.VideoFrame`` in HLG or PQ."""
    import av
    from av.video.reformatter import ColorRange, Colorspace

    rgb48 = np.round(hdr_signal(rgb, transfer) * 65535).astype(np.uint16)
    frame = av.VideoFrame.from_ndarray(rgb48, format="rgb48le")
    return frame.reformat(
        format="yuv420p10le", dst_colorspace=Colorspace.BT2020, dst_color_range=ColorRange.MPEG
    )


HDR_TAGS = {"colorspace": 9, "color_primaries": 9, "color_range": 1}
TRC = {"hlg": 18, "pq": 16}


def _copy_video(source: Path, path: Path, make_stream: Any, picture: Any) -> Path:
    """``source``'s frames through ``picture(rgb) -> av.VideoFrame`` into the stream
    ``make_stream(container, video_in)`` adds, each at its own time; the sound's packets
    copied untouched."""

    def change(frame: Any) -> list[Any]:
        out_frame = picture(frame.to_ndarray(format="rgb24"))
        out_frame.pts, out_frame.time_base = frame.pts, frame.time_base
        return [out_frame]

    return _copy_with(source, path, "video", make_stream, change)


def _copy_with(source: Path, path: Path, kind: str, make_stream: Any, change: Any) -> Path:
    """``source`` with its ``kind`` stream ("video" or "audio") decoded, each frame through
    ``change(frame) -> [frames]`` and coded into the stream ``make_stream(container, stream_in)``
    adds; the other stream's packets copied untouched."""
    import av

    with av.open(str(source)) as src, av.open(str(path), "w") as dst:
        video_in, sound_in = src.streams.video[0], src.streams.audio[0]
        changed_in, kept_in = (video_in, sound_in) if kind == "video" else (sound_in, video_in)
        out = {
            s: make_stream(dst, s) if s is changed_in else dst.add_stream_from_template(s)
            for s in (video_in, sound_in)
        }
        out[changed_in].codec_context.time_base = changed_in.time_base
        for packet in src.demux(video_in, sound_in):
            if packet.stream is kept_in:
                if packet.dts is not None:
                    packet.stream = out[kept_in]
                    dst.mux(packet)
                continue
            for frame in packet.decode():
                for new in change(frame):
                    for coded in out[changed_in].encode(new):
                        dst.mux(coded)
        for coded in out[changed_in].encode(None):
            dst.mux(coded)
    return path


def _h264(size: tuple[int, int] | None = None) -> Any:
    """``_copy_video``'s stream maker for H.264 (CRF 16) at ``size``, or at the source's."""

    def stream(dst: Any, video_in: Any) -> Any:
        video = dst.add_stream("libx264", rate=video_in.average_rate)
        video.width, video.height = size or (video_in.width, video_in.height)
        video.pix_fmt = "yuv420p"
        video.options = {"crf": "16", "preset": "ultrafast"}
        return video

    return stream


def write_hdr_copy(source: Path, path: Path, transfer: str = "hlg") -> Path:
    """``source`` as a phone records HDR: HEVC Main 10, BT.2020, HLG (an iPhone's default) or PQ,
    tagged so."""

    def stream(dst: Any, video_in: Any) -> Any:
        video = dst.add_stream("libx265", rate=video_in.average_rate)
        video.width, video.height = video_in.width, video_in.height
        video.pix_fmt = "yuv420p10le"
        video.options = {"crf": "14", "preset": "ultrafast", "x265-params": "log-level=error"}
        for name, value in {**HDR_TAGS, "color_trc": TRC[transfer]}.items():
            setattr(video.codec_context, name, value)
        return video

    return _copy_video(source, path, stream, lambda rgb: hdr_frame(rgb, transfer))


def write_wide_copy(source: Path, path: Path, share: float = 0.35) -> Path:
    """``source`` as a wider shot: its picture shrunk to ``share`` of a 1280x720 frame's
    height, in the lower middle, over a plain grey wall (H.264)."""
    import av
    import cv2

    size = (1280, 720)

    def picture(rgb: np.ndarray) -> Any:
        h = round(size[1] * share)
        w = round(rgb.shape[1] * h / rgb.shape[0])
        canvas = np.full((size[1], size[0], 3), 128, np.uint8)
        y, x = size[1] - h - size[1] // 10, (size[0] - w) // 2
        canvas[y : y + h, x : x + w] = cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA)
        return av.VideoFrame.from_ndarray(canvas, format="rgb24")

    return _copy_video(source, path, _h264(size), picture)


def write_pillarboxed_copy(source: Path, path: Path, size: tuple[int, int] = (960, 540)) -> Path:
    """``source`` (a portrait clip) as a 16:9 video editor exports it: scaled to the frame's
    height, centred between black bars (H.264)."""
    import av
    import cv2

    def picture(rgb: np.ndarray) -> Any:
        w = round(rgb.shape[1] * size[1] / rgb.shape[0])
        canvas = np.zeros((size[1], size[0], 3), np.uint8)
        x = (size[0] - w) // 2
        canvas[:, x : x + w] = cv2.resize(rgb, (w, size[1]), interpolation=cv2.INTER_AREA)
        return av.VideoFrame.from_ndarray(canvas, format="rgb24")

    return _copy_video(source, path, _h264(size), picture)


def write_tight_copy(source: Path, path: Path, share: float = 0.65) -> Path:
    """``source`` as a closer shot: the middle ``share`` of its picture (each side) enlarged
    back to its size (H.264)."""
    import av
    import cv2

    def picture(rgb: np.ndarray) -> Any:
        h, w = rgb.shape[:2]
        ch, cw = round(h * share), round(w * share)
        y, x = (h - ch) // 2, (w - cw) // 2
        big = cv2.resize(rgb[y : y + ch, x : x + cw], (w, h), interpolation=cv2.INTER_CUBIC)
        return av.VideoFrame.from_ndarray(big, format="rgb24")

    return _copy_video(source, path, _h264(), picture)


def write_quiet_copy(source: Path, path: Path, gain_db: float = -30.0) -> Path:
    """``source`` recorded with the microphone ``-gain_db`` dB too low: its picture's packets
    copied untouched, its sound times ``10 ** (gain_db / 20)`` coded as AAC again."""
    import av

    planar = av.AudioResampler(format="fltp")  # the sound's own layout and rate

    def stream(dst: Any, sound_in: Any) -> Any:
        sound = dst.add_stream("aac", rate=sound_in.rate)
        sound.layout = sound_in.layout.name
        return sound

    def change(frame: Any) -> list[Any]:
        quiet = []
        for flat in planar.resample(frame):
            lower = av.AudioFrame.from_ndarray(
                flat.to_ndarray() * np.float32(10 ** (gain_db / 20)),
                format="fltp",
                layout=flat.layout.name,
            )
            lower.sample_rate, lower.pts, lower.time_base = (
                flat.sample_rate,
                flat.pts,
                flat.time_base,
            )
            quiet.append(lower)
        return quiet

    return _copy_with(source, path, "audio", stream, change)
