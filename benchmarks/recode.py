"""Copies of the shared clips coded as other cameras code them, for
``python benchmarks/lipsync.py --footage DIR``: footage the renderer was never tuned on.

    python benchmarks/recode.py KIND DIR     # then: python benchmarks/lipsync.py --footage DIR

KIND:
- ``hlg``: an iPhone's default, HEVC Main 10 in BT.2020 with the HLG transfer (SDR white at the
  HDR reference white of 203 cd/m², ITU-R BT.2408);
- ``full709``: H.264 with the BT.709 matrix in full range, tagged so (webcams, some Androids);
- ``mirror``: left and right swapped;
- ``fps24``: 24 fps, each frame the filmed one nearest its time (``fps15``: 15, a webcam in dim
  light);
- ``double``: twice the filmed rate, each frame twice (50 or 60 fps; twins take it at 25 or 30);
- ``wide``: a wider shot: the picture shrunk to ``WIDE_SHARE`` of a 1280×720 frame's height, over a
  wall of its own edge colour with a little grain (the face ~2.5× smaller than filmed on the
  close-ups, the mouth 30–45 px wide);
- ``tight``: a closer shot: the middle ``TIGHT_SHARE`` of the picture (each side) enlarged to
  the filmed size, so the chin or the hair meets the frame's edge on the close-ups;
- ``tilt``: the camera rolled ``TILT_DEG`` degrees (the picture turned about its middle, its
  corners filled by reflection);
- ``handheld``: a phone held in the hand: the picture drifts and turns a little, smoothly and
  differently on every frame (up to ~2 % of its size and ~2 degrees);
- ``grainy``: a dim webcam: sensor grain (σ ``GRAIN`` levels, new every frame) coded at CRF 30;
- ``dark``: an underexposed room: every level times ``DARK_GAIN`` (a face at ~50 of 255 where it
  was ~150), with the grain of a sensor's raised gain (σ ``GRAIN`` / 2);
- ``noisy`` (sound): a fan's pink noise and a 60 Hz mains hum with two harmonics under the
  speech, ``NOISE_SNR_DB`` below its loud parts;
- ``room`` (sound): an untreated room heard from the camera's own microphone: the speech
  convolved with a decaying noise tail (``ROOM_RT60`` s to −60 dB), as loud as the direct sound;
- ``quiet`` (sound): a microphone set too low, every sample times ``QUIET_GAIN`` (−30 dB);
- ``phone`` (sound): a telephone's sound: mono at 8 kHz, 300–3400 Hz.

The picture kinds keep the clip's sound packets untouched; the sound kinds keep its picture as
filmed (coded again at CRF 14) and code their sound as AAC again, at the clip's own rate and
channels (PyAV reads it back sample-aligned: the encoder's 1,024-sample priming is cut on
reading). DIR holds faces of the footage's people: delete it after the run, never commit or
publish it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from footage import CLIPS

KINDS = (
    "hlg",
    "full709",
    "mirror",
    "fps24",
    "fps15",
    "double",
    "wide",
    "tight",
    "tilt",
    "handheld",
    "grainy",
    "dark",
    "noisy",
    "room",
    "quiet",
    "phone",
)
WIDE_SIZE = (1280, 720)
WIDE_SHARE = 0.35  # of the wide frame's height
GRAIN = 6.0  # levels (σ) of the grainy kind's noise
TIGHT_SHARE = 0.65  # of each side
TILT_DEG = 8.0
DARK_GAIN = 0.35
NOISE_SNR_DB = 12.0  # speech's loud parts over the noise
ROOM_RT60 = 0.5  # seconds for the room's echo to fall 60 dB
QUIET_GAIN = 10 ** (-30 / 20)
# Linear BT.709 → BT.2020 primaries (ITU-R BT.2087).
_TO_BT2020 = np.array(
    [[0.6274, 0.3293, 0.0433], [0.0691, 0.9195, 0.0114], [0.0164, 0.0880, 0.8956]], np.float32
)
_HLG_A, _HLG_B, _HLG_C = 0.17883277, 0.28466892, 0.55991073


def hlg_signal(rgb: np.ndarray) -> np.ndarray:
    """SDR BT.709 RGB (uint8) → HLG BT.2020 signal (float32 0..1) for a 1,000 cd/m² display."""
    display = (rgb.astype(np.float32) / 255.0) ** 2.4 @ _TO_BT2020.T * (203.0 / 1000.0)
    luma = np.maximum(display @ np.array([0.2627, 0.6780, 0.0593], np.float32), 1e-9)
    scene = display / (luma ** (1 / 1.2))[..., None] ** 0.2
    low = np.sqrt(3 * scene)
    high = _HLG_A * np.log(np.maximum(12 * scene - _HLG_B, 1e-9)) + _HLG_C
    return np.where(scene <= 1 / 12, low, high)


def _picture(rgb: np.ndarray, kind: str) -> Any:
    import av
    from av.video.reformatter import ColorRange, Colorspace

    if kind == "hlg":
        rgb48 = np.round(hlg_signal(rgb) * 65535).astype(np.uint16)
        return av.VideoFrame.from_ndarray(rgb48, format="rgb48le").reformat(
            format="yuv420p10le", dst_colorspace=Colorspace.BT2020, dst_color_range=ColorRange.MPEG
        )
    if kind == "full709":
        return av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(
            format="yuv420p", dst_colorspace=Colorspace.ITU709, dst_color_range=ColorRange.JPEG
        )
    if kind in _PICTURE_CHANGES:
        rgb = _PICTURE_CHANGES[kind](rgb)
    return av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")


_RNG = np.random.default_rng(7)


def _grain(rgb: np.ndarray, sigma: float = GRAIN) -> np.ndarray:
    noise = _RNG.normal(0.0, sigma, rgb.shape[:2])[..., None]  # luma grain, as a sensor's
    return np.clip(rgb + noise, 0, 255).astype(np.uint8)


def _wide(rgb: np.ndarray) -> np.ndarray:
    """``rgb`` shrunk into the lower middle of a ``WIDE_SIZE`` frame, over its edge colour."""
    import cv2

    width, height = WIDE_SIZE
    h = round(height * WIDE_SHARE)
    w = round(rgb.shape[1] * h / rgb.shape[0])
    small = cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA)
    edge = np.concatenate([rgb[0], rgb[:, 0], rgb[:, -1]]).astype(np.float32).mean(axis=0)
    canvas = np.empty((height, width, 3), np.float32)
    canvas[:] = edge
    canvas = _grain(canvas, 2.0)
    y, x = height - h - height // 10, (width - w) // 2
    canvas[y : y + h, x : x + w] = small
    return canvas


def _tight(rgb: np.ndarray) -> np.ndarray:
    """The middle ``TIGHT_SHARE`` of ``rgb`` (each side), enlarged back to its size."""
    import cv2

    h, w = rgb.shape[:2]
    ch, cw = round(h * TIGHT_SHARE), round(w * TIGHT_SHARE)
    y, x = (h - ch) // 2, (w - cw) // 2
    return cv2.resize(rgb[y : y + ch, x : x + cw], (w, h), interpolation=cv2.INTER_CUBIC)


def _turned(rgb: np.ndarray, degrees: float, dx: float, dy: float) -> np.ndarray:
    """``rgb`` turned ``degrees`` about its middle and moved (``dx``, ``dy``) px, edges reflected."""
    import cv2

    h, w = rgb.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    m[:, 2] = m[:, 2] + (dx, dy)
    return cv2.warpAffine(rgb, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


_HAND = {"frame": 0}
# Sums of slow sines (0.3-1.7 Hz) at fixed phases: a smooth, irregular drift of the picture.
_HAND_WAVES = [(0.31, 0.4), (0.73, 1.9), (1.7, 4.1)]


def _handheld(rgb: np.ndarray, fps: float = 25.0) -> np.ndarray:
    t = _HAND["frame"] / fps
    _HAND["frame"] += 1
    h, w = rgb.shape[:2]

    def wave(k: int) -> float:
        return sum(np.sin(2 * np.pi * f * t + p + k) / (i + 1) for i, (f, p) in enumerate(_HAND_WAVES)) / 1.83  # fmt: skip

    return _turned(rgb, 2.0 * wave(0), 0.02 * w * wave(1), 0.02 * h * wave(2))


def _dark(rgb: np.ndarray) -> np.ndarray:
    return _grain(rgb.astype(np.float32) * DARK_GAIN, GRAIN / 2)


_PICTURE_CHANGES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "mirror": lambda rgb: np.ascontiguousarray(rgb[:, ::-1]),
    "wide": _wide,
    "grainy": _grain,
    "tight": _tight,
    "tilt": lambda rgb: _turned(rgb, TILT_DEG, 0.0, 0.0),
    "handheld": _handheld,
    "dark": _dark,
}


def _loud_rms(pcm: np.ndarray, rate: int) -> float:
    """RMS over the 20 ms windows above a tenth of the loudest: the speech, not its pauses."""
    mono = pcm.mean(axis=0)
    hop = rate // 50
    windows = mono[: len(mono) // hop * hop].reshape(-1, hop)
    rms = np.sqrt((windows**2).mean(axis=1))
    return float(np.sqrt((rms[rms > 0.1 * rms.max()] ** 2).mean()))


def _noisy(pcm: np.ndarray, rate: int) -> np.ndarray:
    rng = np.random.default_rng(11)
    n = pcm.shape[1]
    spectrum = np.fft.rfft(rng.normal(size=n))
    freq = np.fft.rfftfreq(n, 1 / rate)
    spectrum[1:] /= np.sqrt(freq[1:] / 100.0)  # pink: power falling as 1/f
    spectrum[0] = 0
    fan = np.fft.irfft(spectrum, n)
    t = np.arange(n) / rate
    hum = sum(np.sin(2 * np.pi * 60 * k * t) / k for k in (1, 2, 3))
    noise = fan / fan.std() + 0.3 * hum / hum.std()
    noise *= _loud_rms(pcm, rate) / 10 ** (NOISE_SNR_DB / 20) / noise.std()
    return pcm + noise[None, :]


def _room(pcm: np.ndarray, rate: int) -> np.ndarray:
    from scipy.signal import fftconvolve

    rng = np.random.default_rng(13)
    t = np.arange(int(rate * ROOM_RT60)) / rate
    tail = rng.normal(size=len(t)) * np.exp(-6.9 * t / ROOM_RT60)
    tail[: rate // 200] = 0  # the first reflection 5 ms after the direct sound
    impulse = tail / np.sqrt((tail**2).sum())  # as much energy as the direct sound
    impulse[0] = 1.0
    wet = fftconvolve(pcm, impulse[None, :])[:, : pcm.shape[1]]
    return wet * np.abs(pcm).max() / max(float(np.abs(wet).max()), 1e-9)


def _phone(pcm: np.ndarray, rate: int) -> np.ndarray:
    from scipy.signal import butter, sosfiltfilt

    return sosfiltfilt(butter(4, (300, 3400), "bandpass", fs=rate, output="sos"), pcm, axis=1)


_SOUND_CHANGES: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {
    "noisy": _noisy,
    "room": _room,
    "quiet": lambda pcm, rate: pcm * QUIET_GAIN,
    "phone": _phone,
}


def _sound_packets(source: Path, kind: str, container: Any) -> tuple[Any, list[Any]]:
    """A new AAC stream in ``container`` and its packets: ``source``'s sound changed by ``kind``."""
    import av

    with av.open(str(source)) as src:
        sound_in = src.streams.audio[0]
        rate, layout = sound_in.rate, sound_in.layout.name
        if kind == "phone":
            rate, layout = 8000, "mono"
        planar = av.AudioResampler(format="fltp", layout=layout, rate=rate)
        pieces = [p.to_ndarray() for f in src.decode(sound_in) for p in planar.resample(f)]
        pcm = np.concatenate(pieces + [p.to_ndarray() for p in planar.resample(None)], axis=1)
    changed = np.clip(_SOUND_CHANGES[kind](pcm.astype(np.float64), rate), -1.0, 1.0).astype(
        np.float32
    )
    stream = container.add_stream("aac", rate=rate)
    stream.layout = layout
    stream.codec_context.time_base = Fraction(1, rate)
    packets: list[Any] = []
    for start in range(0, changed.shape[1], 1024):
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(changed[:, start : start + 1024]), format="fltp", layout=layout
        )
        frame.sample_rate, frame.pts, frame.time_base = rate, start, Fraction(1, rate)
        packets.extend(stream.encode(frame))
    packets.extend(stream.encode(None))
    return stream, packets


def _video_stream(container: Any, kind: str, rate: Fraction, size: tuple[int, int]) -> Any:
    if kind == "hlg":
        stream = container.add_stream("libx265", rate=rate)
        stream.pix_fmt = "yuv420p10le"
        stream.options = {"crf": "16", "preset": "ultrafast", "x265-params": "log-level=error"}
        tags = {"colorspace": 9, "color_primaries": 9, "color_trc": 18, "color_range": 1}
    else:
        stream = container.add_stream("libx264", rate=rate)
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "30" if kind == "grainy" else "14", "preset": "veryfast"}
        full = kind == "full709"
        tags = {"colorspace": 1, "color_primaries": 1, "color_trc": 1} if full else {}
        tags["color_range"] = 2 if full else 1
    stream.width, stream.height = size
    stream.codec_context.time_base = Fraction(1, 90000)
    for name, value in tags.items():
        setattr(stream.codec_context, name, value)
    return stream


def recode(source: Path, target: Path, kind: str) -> None:
    """Write ``source`` coded as ``kind`` to ``target`` (a picture kind copies the sound's
    packets; a sound kind codes its changed sound, read from ``source`` once more)."""
    import av

    with av.open(str(source)) as src, av.open(str(target), "w") as dst:
        video_in, sound_in = src.streams.video[0], src.streams.audio[0]
        filmed = video_in.average_rate or Fraction(25)
        rate = {"fps24": Fraction(24), "fps15": Fraction(15), "double": 2 * filmed}.get(
            kind, filmed
        )
        size = WIDE_SIZE if kind == "wide" else (video_in.width, video_in.height)
        video = _video_stream(dst, kind, rate, size)
        if kind in _SOUND_CHANGES:
            sound, changed = _sound_packets(source, kind, dst)
            for out in changed:
                dst.mux(out)
        else:
            sound = dst.add_stream_from_template(sound_in)
        step = 1 / Fraction(rate)
        next_t = Fraction(0)  # the next output instant (resampled kinds)
        index = 0
        last: tuple[np.ndarray, Fraction] | None = None  # the previous frame and its time

        def emit(rgb: np.ndarray, t: Fraction) -> None:
            picture = _picture(rgb, kind)
            picture.pts = round(t * 90000)
            picture.time_base = Fraction(1, 90000)
            for packet in video.encode(picture):
                dst.mux(packet)

        for packet in src.demux(video_in, sound_in):
            if packet.stream is sound_in:
                if packet.dts is not None and kind not in _SOUND_CHANGES:
                    packet.stream = sound
                    dst.mux(packet)
                continue
            decoded: Any = packet.decode()
            for frame in decoded:
                rgb = frame.to_ndarray(format="rgb24")
                if kind in ("fps24", "fps15", "double") and frame.pts is not None:
                    t = Fraction(frame.pts) * frame.time_base
                    # Each output instant shows the filmed frame nearest it (the earlier on a tie).
                    while last is not None and next_t <= (last[1] + t) / 2:
                        emit(last[0], next_t)
                        next_t += step
                    last = (rgb, t)
                    continue
                emit(rgb, Fraction(frame.pts) * frame.time_base if frame.pts else index * step)
                index += 1
        if last is not None:  # the last frame, for as long as a filmed frame lasts
            while next_t < last[1] + 1 / Fraction(filmed):
                emit(last[0], next_t)
                next_t += step
        for out in video.encode(None):
            dst.mux(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=KINDS)
    parser.add_argument("out", type=Path, help="folder for the copies (delete it after use)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for clip in sorted(CLIPS.glob("*.mp4")):
        recode(clip, args.out / clip.name, args.kind)
        print(f"{args.kind}: {clip.name}", flush=True)


if __name__ == "__main__":
    main()
