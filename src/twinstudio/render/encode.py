"""Encoding: frames + audio → MP4 (H.264/AAC) or WebM (VP9/Opus, with alpha when transparent);
probing what was written. The thumbnail and the GIF preview are ``render.preview``'s.

:class:`VideoEncoder` streams: each ``write(frame)`` converts and encodes one frame at once and
muxes the audio that belongs up to that frame's end time, so memory does not grow with the video.
The audio is given whole, or fed piece by piece (``audio=None`` and :meth:`VideoEncoder.feed_audio`)
when the speech itself is streamed; either way it is resampled to 48 kHz as it is used.

Duration contract: the caller writes ``round(audio_duration * fps)`` frames; on ``close`` the audio
is trimmed or padded with silence to exactly the video's length, so both tracks end together.

Memory with length: an MP4 muxer keeps one index entry (~64 bytes) per video frame and per AAC
frame until the file is finished, to write the ``moov`` that faststart puts first: ~3 MB for a
10-minute video, grown 1,024 entries at a time in the encoder thread's heap, where it also
fragments what the frames free. So the MP4 is written *fragmented* while frames stream (a
``moof`` every ``FRAGMENT_S``, which frees the index; ``delay_moov`` keeps the edit lists), then
remuxed once into the delivered faststart MP4 on ``close``, when the render's frame buffers are
gone. Traced on 10-minute 1080p renders (2026-12-02, RSS every 0.5 s): medians by tenth of the
render 607 → 614 MB straight to faststart MP4, 605 → 607 MB through the fragmented file. The
remux copies packets (no re-encoding): 0.3 s for 10 minutes of 1080p, 0.02 s for one. The
fragmented file (``.video.mp4.part`` beside the video) is deleted once the video is whole, or when
encoding fails; for that moment the job's folder holds the video twice.

Colour: MP4 is tagged BT.709 primaries and transfer (the pixels are sRGB-like camera RGB) with
the BT.601 ("smpte170m") Y'CbCr *matrix*, limited ("tv") range, and the RGB → YUV conversion uses
exactly that matrix, so players show the colours as composed. The matrix is only how R'G'B' is
packed into Y'CbCr; H.264 signals it in the stream (VUI ``matrix_coefficients`` = 6) and
browsers, QuickTime, VLC and FFmpeg all honour it. Why not the BT.709 matrix, HD's usual one:
OpenCV converts RGB → I420 with the BT.601 matrix in ~2 ms a 1080p frame (SIMD, fixed point),
whereas any BT.709 conversion measured here cost 5.7 ms (swscale) to 9.7 ms (``cv2.transform``)
idle and ~18 ms on busy cores: 45 % of the encoder thread's CPU in a 1080p render (py-spy,
2026-11-24), more than x264 itself. The twin's base footage is stored with the same matrix, so
nothing is converted between matrices either. WebM (VP9 + alpha) is coded and tagged the same
way (VP9 signals the matrix in its own header, which browsers honour): the renderer's planes and
alpha go in as they are (``yuva420p``; an opaque WebM's planes alone, ``yuv420p``). Until
2026-12-06 its frames went through RGB and swscale's BT.709 matrix: 29 ms a 1080p frame, more
than the VP9 encoder itself now takes.

Speed: the renderer hands over I420 pictures (``render.yuv``), with their alpha for a
transparent WebM, which go to x264 or VP9 as they are; RGB frames (burned captions) are
converted first. Conversion, x264 and muxing run in
their own thread behind a small bounded queue, so the frames of the lip-sync engine and the
encoding of the previous ones overlap on the two cores (OpenCV and PyAV's encode release the
GIL). The queue holds at most ``QUEUE_DEPTH`` frames: memory stays flat.
"""

from __future__ import annotations

import contextlib
import math
import os
import queue
import struct
import threading
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any

import av
import numpy as np
from scipy.signal import resample_poly

from twinstudio.errors import RenderError
from twinstudio.render import yuv

__all__ = [
    "AUDIO_BITRATE",
    "AUDIO_RATE",
    "X264_CRF",
    "X264_PRESET",
    "X264_TUNING",
    "VideoEncoder",
    "probe",
    "vp9_options",
    "x264_options",
    "x264_preset",
]

# superfast with x264's macroblock tree kept on (``X264_TUNING``): the encoder is the renderer's
# floor on 2 CPU cores. Measured on 150 frames of the 1080p talking-head footage (2026-11-24,
# PSNR/SSIM of Y against the frames given to the encoder, same CRF 20):
#   1080p  veryfast                1510 kb/s  48.81 dB  SSIM 0.9930  23.5-28.6 ms CPU/frame
#          superfast + mbtree      1519 kb/s  48.69 dB  SSIM 0.9927  13.8-20.6 ms CPU/frame
#          plain superfast         3690 kb/s  51.06 dB  (no mbtree: 2.4x the bits at CRF 20;
#                                  1552 kb/s at CRF 25 gives 48.33 dB: worse than both)
#   720p   veryfast                 751 kb/s  47.49 dB  SSIM 0.9914  12.2-14.2 ms CPU/frame
#          superfast + mbtree       802 kb/s  47.42 dB  SSIM 0.9911   6.6-9.7 ms CPU/frame
# i.e. the same bits (+0.6 % / +7 %) and -0.1 dB (not visible) for ~30-45 % less encoder CPU,
# which is most of a render's CPU. Superfast alone drops the macroblock tree (and so spends
# the bits evenly instead of on what the next frames reuse); with it back on, its cheaper motion
# search (dia, subme 1) costs almost nothing on a static-camera talking head.
# Overridden per process by TWINSTUDIO_X264_PRESET (then without the tuning below).
X264_PRESET = "superfast"
X264_TUNING = {"superfast": "mbtree=1:rc-lookahead=10"}  # rc-lookahead as veryfast's
X264_CRF = 20
AUDIO_RATE = 48_000
AUDIO_BITRATE = 128_000
# FFmpeg's native AAC encoder searches its scale factors with one of several coders; its default,
# "twoloop", spends most of its time on a perceptual search that pays at low bit rates. At 128
# kb/s of mono speech the "fast" coder is as faithful or more (SNR 33.9 against 31.5 dB on the
# news-anchor clip's speech; 41.7 against 25.8 on the unit test's harmonics) for a third of the
# CPU (0.30 against 0.78-1.09 CPU s for 29 s of 48 kHz audio on the 2-core machine). The audio
# is encoded on the thread that feeds x264, on the render's critical path: that thread's CPU in
# the benchmark's 63 s 720p matte render fell 4.65 -> 4.12 and 5.02 -> 4.34 s (2026-12-06).
AAC_OPTIONS = {"aac_coder": "fast"}
OPUS_BITRATE = 96_000
# VP9 (transparent WebM) in libvpx's real-time mode at its fastest speed. Its "good" mode at
# cpu-used 5 (shipped until 2026-12-06; 6 and 8 gave the same size and PSNR there) coded the
# render's own RGBA frames (background removed, person over transparency) at 10.5 fps at 720p
# and 5.2 fps at 1080p on the 2 cores, so a transparent WebM took 3.6 / 6.5 times its length to
# render (720p / 1080p), against 0.5 / 0.8 for the same video as MP4. Real time at cpu-used 8,
# the same CRF, the same frames (100 at 720p, 40 at 1080p; PSNR of Y and of alpha against the
# frames given to the encoder):
#   720p   good 5      10.5 fps   642 kb/s  Y 45.87 dB (worst frame 44.47)  alpha 54.79 dB
#          realtime 8  97.1 fps   897 kb/s  Y 45.98 dB (worst frame 44.69)  alpha 54.88 dB
#   1080p  good 5       5.2 fps  1545 kb/s  Y 46.65 dB  alpha 55.52 dB
#          realtime 8  38.7 fps  2121 kb/s  Y 46.77 dB  alpha 55.72 dB
# i.e. the same fidelity for ~40 % more bits, 7-9 times faster (at 1080p, speed 7: 27.6 fps for
# 1,974 kb/s, 46.82 dB). Without look-ahead (``lag-in-frames`` 0, unused in real time: the same
# size and PSNR came out) a 1080p render's peak memory fell 1,167 -> 936 MB: libvpx had held 25
# frames for each of its two encoders, the picture's and the alpha's.
VP9_CRF = 30
VP9_DEADLINE = "realtime"
VP9_CPU_USED = 8  # libvpx speed: real-time mode takes 5 .. 8 (fastest) here
QUEUE_DEPTH = 4  # frames waiting for the encoder thread (~6 MB each at 1080p)
# Longest fragment of the MP4 written while rendering (its samples are held until it is cut).
FRAGMENT_S = 2.0
# FFmpeg's colour tags (AVCOL_*): 1 = BT.709, 6 = SMPTE 170M (the BT.601 matrix).
_BT709 = 1
_SMPTE170M = 6
_MPEG_RANGE = 1
_X264_PRESETS = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
)


def x264_preset() -> str:
    """The x264 preset in force: ``TWINSTUDIO_X264_PRESET`` if set (and valid), else the default."""
    preset = os.environ.get("TWINSTUDIO_X264_PRESET", "").strip() or X264_PRESET
    if preset not in _X264_PRESETS:
        raise RenderError(
            "invalid_encoder_preset",
            f"TWINSTUDIO_X264_PRESET={preset!r} is not an x264 preset; use one of "
            + ", ".join(_X264_PRESETS),
        )
    return preset


def x264_options() -> dict[str, object]:
    """libx264 options of the shipped MP4 (also used by the benchmarks' raw-encoder figure)."""
    preset = x264_preset()
    params = yuv.X264_COLOUR
    if preset in X264_TUNING:
        params += ":" + X264_TUNING[preset]
    return {"preset": preset, "crf": str(X264_CRF), "profile": "high", "x264-params": params}


def vp9_options() -> dict[str, str]:
    """libvpx-vp9 options of the shipped WebM (also used by the benchmarks' raw-encoder figure)."""
    return {
        "crf": str(VP9_CRF),
        "b": "0",  # constant quality: the CRF alone sets the bits
        "deadline": VP9_DEADLINE,
        "cpu-used": str(VP9_CPU_USED),
        "row-mt": "1",
        "auto-alt-ref": "0",  # alt-ref frames are not supported with alpha
        "lag-in-frames": "0",  # no look-ahead: real-time mode makes no use of one
    }


def _resample(audio: np.ndarray, rate: int, target: int) -> np.ndarray:
    mono = np.asarray(audio, dtype=np.float32).reshape(-1)
    if rate == target or mono.size == 0:
        return mono.copy()
    if rate <= 0:
        raise RenderError("invalid_audio", f"Audio sample rate {rate} is not positive.")
    out = resample_poly(mono, target, rate)  # polyphase; up/down are reduced by their gcd
    return np.asarray(out, dtype=np.float32)


class _AudioFeed:
    """Audio at ``target`` Hz, fed in pieces at ``rate`` and resampled block by block as it
    arrives; thread-safe (the pipeline feeds, the encoder thread reads).

    Streamed speech arrives sentence group by sentence group, and a 10-minute speech resampled
    at once held ~115 MB more: here blocks of ~1 s are converted when they are read (so a 24 s
    piece is never converted, float64 temporaries and all, in one go: that transient once per
    piece set a long render's peak), each once the input reaches a margin past it (or the feed
    has ended), with that margin on each side, which gives the same samples as one
    ``resample_poly`` call over the whole audio (the filter is far shorter than the margin).
    Consumed input and output are dropped: memory stays flat.

    Fed arrays are kept as they are (not copied into one buffer: that held a piece twice, and
    the last one's rest, at every piece boundary), so a caller must not change one after
    feeding it; what is left of a piece once most of it is converted is copied out, so the
    whole piece is let go.
    """

    def __init__(self, rate: int, target: int) -> None:
        if rate <= 0:
            raise RenderError("invalid_audio", f"Audio sample rate {rate} is not positive.")
        g = math.gcd(int(target), int(rate))
        self._up, self._down = int(target) // g, max(1, int(rate) // g)
        self._same = rate == target
        self._block_in = self._down * max(1, round(rate / self._down))  # ~1 s of input
        self._pad_in = self._down * max(1, math.ceil(0.1 * rate / self._down))
        self._lock = threading.Lock()
        self._src: list[np.ndarray] = []  # input kept, in order: from absolute sample ``_src_at``
        self._src_at = 0
        self._src_end = 0  # input samples fed so far
        self._done_in = 0  # input samples converted so far (a whole number of blocks)
        self._out = np.zeros(0, np.float32)  # converted, not yet read: from ``_out_at`` on
        self._out_at = 0
        self._ended = False

    def feed(self, samples: np.ndarray) -> None:
        """Append mono samples at the feed's rate."""
        mono = np.asarray(samples, dtype=np.float32).reshape(-1)
        with self._lock:
            if self._ended:
                raise RenderError("audio_closed", "Audio fed after the audio track was ended.")
            if mono.size:
                self._src.append(mono)
            self._src_end += mono.size

    def end(self) -> None:
        """No more input: the rest can be converted."""
        with self._lock:
            self._ended = True

    @property
    def available(self) -> int:
        """Output samples (absolute count) that exist so far: those of the input's blocks that
        can be converted (see the class docstring), whether converted yet or not."""
        with self._lock:
            if self._same:
                return self._src_end
            if self._ended:
                return -(-self._src_end * self._up // self._down)
            return self._ready_in() * self._up // self._down  # block ends: multiples of ``down``

    def _ready_in(self) -> int:
        """Input samples (absolute count) whose blocks can be converted: all of them once the
        feed has ended, else the whole blocks with the margin fed past them."""
        if self._ended:
            return self._src_end
        blocks = max(0, (self._src_end - self._pad_in - self._done_in) // self._block_in)
        return self._done_in + blocks * self._block_in

    def _convert(self, until: int) -> None:
        """Convert input blocks until output sample ``until`` exists (or none is left)."""
        if self._same:
            self._out = np.concatenate([self._out, *self._src])
            self._src_at = self._done_in = self._src_end
            self._src = []
            return
        pieces = [self._out]
        have = self._out_at + self._out.size  # output samples that exist, converted
        ready = self._ready_in()
        while have < until and self._done_in < ready:
            s0 = self._done_in
            s1 = min(self._src_end, s0 + self._block_in)
            p0, p1 = max(0, s0 - self._pad_in), min(self._src_end, s1 + self._pad_in)
            res = resample_poly(self._input(p0, p1), self._up, self._down)
            lead = (s0 - p0) * self._up // self._down
            length = -(-(s1 - s0) * self._up // self._down)
            pieces.append(np.asarray(res[lead : lead + length], dtype=np.float32))
            have += pieces[-1].size
            self._done_in = s1
        self._out = np.concatenate(pieces) if len(pieces) > 1 else pieces[0]
        self._drop_input(max(self._src_at, self._done_in - self._pad_in))

    def _input(self, start: int, stop: int) -> np.ndarray:
        """Input samples ``start`` … ``stop - 1`` (absolute; all kept), across fed arrays."""
        parts, at = [], self._src_at
        for chunk in self._src:
            a, b = max(start, at), min(stop, at + chunk.size)
            if a < b:
                parts.append(chunk[a - at : b - at])
            at += chunk.size
        return parts[0] if len(parts) == 1 else np.concatenate(parts or [np.zeros(0, np.float32)])

    def _drop_input(self, keep_from: int) -> None:
        """Let go of the input before absolute sample ``keep_from``."""
        while self._src and self._src_at + self._src[0].size <= keep_from:
            self._src_at += self._src.pop(0).size
        if self._src and keep_from > self._src_at:
            rest = self._src[0][keep_from - self._src_at :]
            base = rest.base if isinstance(rest.base, np.ndarray) else rest  # what it holds
            self._src[0] = rest.copy() if 2 * rest.size < base.size else rest
            self._src_at = keep_from

    def read(self, start: int, stop: int) -> np.ndarray:
        """Converted output samples ``start`` … ``stop - 1`` that exist so far; reads go in
        order (earlier output is dropped once read past)."""
        with self._lock:
            self._convert(stop)
            start = max(start, self._out_at)
            got = self._out[start - self._out_at : max(0, stop - self._out_at)].copy()
            drop = start + got.size - self._out_at
            self._out = self._out[drop:]
            self._out_at += drop
            return got


class VideoEncoder:
    """Streaming encoder for one output video; use as a context manager.

    ``frame``s are I420 pictures (``render.yuv``: uint8 (H·3/2, W), what the renderer makes),
    ``yuv.AlphaPicture``s (the same with an alpha plane: a transparent WebM), uint8 RGB (H, W, 3)
    or RGBA (H, W, 4); ``size`` is (width, height). MP4 drops any alpha. A WebM carries one
    (255 where none is given) when ``transparent``; an opaque one (``transparent=False``: a
    background colour or image behind the person, or no background removal) is plain VP9, any
    alpha given dropped as for an MP4. An alpha plane that is 255 everywhere costs VP9 a second
    encoder all the same: 175 frames of a 1080p render coded at 54-56 fps with it, 90 fps
    without, for 870 against 859 KB (2026-12-06, ``vp9_options``).
    """

    def __init__(
        self,
        path: Path,
        size: tuple[int, int],
        fps: float,
        audio: np.ndarray | None,
        sample_rate: int,
        output_format: str = "mp4",
        transparent: bool = True,
    ) -> None:
        if output_format not in ("mp4", "webm"):
            raise RenderError(
                "invalid_output_format", f"Unknown format {output_format!r}; use mp4 or webm."
            )
        width, height = int(size[0]), int(size[1])
        if width % 2 or height % 2 or width < 2 or height < 2:
            raise RenderError(
                "invalid_output_size", f"Output size {width}x{height} must be even and positive."
            )
        if not fps > 0:
            raise RenderError("invalid_fps", f"Frame rate {fps} is not positive.")
        self.path = Path(path)
        self.size = (width, height)
        self.output_format = output_format
        self.fps = Fraction(fps).limit_denominator(1001)
        self._frames = 0
        self._audio_sent = 0  # samples at AUDIO_RATE already sent to the encoder
        self._closed = False
        self._duration = 0.0
        self._audio = _AudioFeed(sample_rate, AUDIO_RATE)
        if audio is not None:
            self._audio.feed(audio)
            self._audio.end()
        self._alpha = output_format == "webm" and transparent
        # MP4: the fragmented file written while rendering (see the module's docs)
        self._part = self.path.with_name(f".{self.path.name}.part")
        self._queue: queue.Queue[np.ndarray | yuv.AlphaPicture | None] = queue.Queue(
            maxsize=QUEUE_DEPTH
        )
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

        try:
            self._open()
        except av.FFmpegError as exc:
            raise RenderError(
                "encoder_failed", f"Could not start the {output_format} encoder: {exc}"
            ) from exc

    # ------------------------------------------------------------------ setup

    def _open(self) -> None:
        width, height = self.size
        if self.output_format == "mp4":
            self._container: Any = av.open(
                str(self._part),
                "w",
                format="mp4",
                options={
                    "movflags": "+frag_keyframe+empty_moov+delay_moov",
                    "frag_duration": str(round(FRAGMENT_S * 1e6)),
                },
            )
            video = self._container.add_stream("libx264", rate=self.fps)
            video.pix_fmt = "yuv420p"
            video.options = dict(x264_options())
            audio = self._container.add_stream("aac", rate=AUDIO_RATE)
            audio.bit_rate = AUDIO_BITRATE
            audio.options = dict(AAC_OPTIONS)
        else:
            self._container = av.open(str(self.path), "w", format="webm")
            video = self._container.add_stream("libvpx-vp9", rate=self.fps)
            video.pix_fmt = "yuva420p" if self._alpha else "yuv420p"
            video.options = dict(vp9_options())
            audio = self._container.add_stream("libopus", rate=AUDIO_RATE)
            audio.bit_rate = OPUS_BITRATE
        video.width, video.height = width, height
        video.time_base = 1 / self.fps
        cc = video.codec_context
        cc.color_range = _MPEG_RANGE
        cc.colorspace = _SMPTE170M
        cc.color_primaries = _BT709
        cc.color_trc = _BT709
        cc.thread_count = 0
        audio.layout = "mono"
        audio.time_base = Fraction(1, AUDIO_RATE)
        self._video: Any = video
        self._audio_stream: Any = audio

    # ------------------------------------------------------------------ writing

    def __enter__(self) -> VideoEncoder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:  # do not hide the real error behind a muxing error; leave no half file behind
            self._abort()

    @property
    def frames_written(self) -> int:
        return self._frames

    def feed_audio(self, samples: np.ndarray) -> None:
        """Append speech audio (at the ``sample_rate`` given), for an encoder made with
        ``audio=None``: streamed speech feeds each piece before writing its frames."""
        self._audio.feed(samples)

    def write(self, frame: np.ndarray | yuv.AlphaPicture) -> None:
        """Queue one frame for encoding (with the audio up to its end).

        The encoder thread reads ``frame`` later: the caller must not modify it afterwards (the
        pipeline hands over a fresh array per frame). An error in the thread is raised here on
        the next call, or by ``close``.
        """
        if self._closed:
            raise RenderError("encoder_closed", "write() after close().")
        self._raise_thread_error()
        width, height = self.size
        if isinstance(frame, yuv.AlphaPicture):
            ok = frame.picture.shape == (height * 3 // 2, width) and frame.alpha.shape == (
                height,
                width,
            )
        elif yuv.is_picture(frame):
            ok = frame.shape == (height * 3 // 2, width)
        else:
            ok = frame.ndim == 3 and frame.shape[:2] == (height, width) and frame.shape[2] in (3, 4)
        if not ok:
            raise RenderError(
                "frame_size_mismatch",
                f"Frame of shape {_shape(frame)} does not match the output {width}x{height}.",
            )
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="video-encoder", daemon=True)
            self._thread.start()
        while True:  # wait for room, but notice when the encoder thread has died
            try:
                self._queue.put(frame, timeout=0.5)
                break
            except queue.Full:
                self._raise_thread_error()
                if self._thread is not None and not self._thread.is_alive():
                    raise RenderError("encoder_failed", "The encoder thread stopped.") from None
        self._frames += 1

    def _raise_thread_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            if isinstance(error, RenderError):
                raise error
            raise RenderError("encoder_failed", f"Video encoding failed: {error}") from error

    def _run(self) -> None:
        """Encoder thread: convert, encode and mux every queued frame until ``None``."""
        done = 0
        while True:
            frame = self._queue.get()
            if frame is None:
                return
            if self._error is not None:
                continue  # drain: the caller is told once, then aborts
            try:
                self._encode_frame(frame, done)
                done += 1
            except Exception as exc:
                self._error = exc

    def _encode_frame(self, frame: np.ndarray | yuv.AlphaPicture, index: int) -> None:
        picture = self._picture(frame) if self._alpha else self._plain(frame)
        picture.pts = index
        try:
            self._mux(self._video.encode(picture))
        except av.FFmpegError as exc:
            raise RenderError("encoder_failed", f"Video encoding failed: {exc}") from exc
        # Interleave: send the audio up to the end of this frame.
        self._send_audio(round((index + 1) * AUDIO_RATE / self.fps))

    @staticmethod
    def _plain(frame: np.ndarray | yuv.AlphaPicture) -> Any:
        """An MP4's (or opaque WebM's) ``yuv420p`` frame: I420 wrapped as it is (no copy), any
        alpha dropped."""
        return av.VideoFrame.from_numpy_buffer(_i420(frame)[0], format="yuv420p")

    def _picture(self, frame: np.ndarray | yuv.AlphaPicture) -> Any:
        """A WebM's ``yuva420p`` frame: the I420 planes and the alpha copied in as they are
        (0.6 ms at 1080p); opaque (255) where the frame has no alpha."""
        i420, alpha = _i420(frame)
        width, height = self.size
        picture = av.VideoFrame(width, height, "yuva420p")
        for plane, source in zip(picture.planes, (*yuv.planes(i420), alpha), strict=True):
            # Each plane's rows may be padded (line_size ≥ width): write inside them.
            rows = np.frombuffer(memoryview(plane), np.uint8).reshape(plane.height, plane.line_size)
            if source is None:
                rows[:, : plane.width] = 255
            else:
                rows[:, : plane.width] = source
        return picture

    def _finish_thread(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    def _send_audio(self, end: int, final: bool = False) -> None:
        """Encode the audio up to output sample ``end``: what exists of it so far, or (``final``)
        all of it, padded with silence past the end of the speech."""
        chunk = 1024 if self.output_format == "mp4" else 960
        if not final:
            end = min(end, self._audio.available)
        while self._audio_sent < end:
            n = min(chunk, end - self._audio_sent)
            start = self._audio_sent
            samples = self._audio.read(start, start + n)
            if samples.size < n:  # past the end of the speech: silence
                samples = np.concatenate([samples, np.zeros(n - samples.size, np.float32)])
            frame = av.AudioFrame.from_ndarray(samples[None, :], format="flt", layout="mono")
            frame.sample_rate = AUDIO_RATE
            frame.pts = start
            self._mux(self._audio_stream.encode(frame))
            self._audio_sent += n

    def _mux(self, packets: list[Any]) -> None:
        for packet in packets:
            self._container.mux(packet)

    def close(self) -> float:
        """Flush and finish the file; returns its duration in seconds (frames / fps)."""
        if self._closed:
            return self._duration
        self._finish_thread()
        if self._error is not None:
            self._abort()
            self._raise_thread_error()
        try:
            self._audio.end()
            end = round(self._frames * AUDIO_RATE / self.fps)
            self._send_audio(end, final=True)
            self._mux(self._video.encode(None))
            self._mux(self._audio_stream.encode(None))
            self._container.close()
            # x264's buffers (~150 MB at 1080p) go with the last references to its streams
            self._container = self._video = self._audio_stream = None
            if self.output_format == "mp4":
                _remux_faststart(self._part, self.path)
                self._part.unlink()
        except av.FFmpegError as exc:
            self._abort()
            raise RenderError("encoder_failed", f"Finishing the video failed: {exc}") from exc
        self._closed = True
        self._duration = float(self._frames / self.fps)
        return self._duration

    def _abort(self) -> None:
        self._closed = True
        with contextlib.suppress(Exception):
            self._finish_thread()
        with contextlib.suppress(Exception):
            self._container.close()
        self.path.unlink(missing_ok=True)
        self._part.unlink(missing_ok=True)


def _remux_faststart(source: Path, target: Path) -> None:
    """Copy every packet of ``source`` (a fragmented MP4) into ``target``, a plain MP4 with its
    index first (faststart): same streams, codec parameters, colour tags and timestamps."""
    with (
        av.open(str(source)) as src,
        av.open(str(target), "w", format="mp4", options={"movflags": "+faststart"}) as dst,
    ):
        streams = {s.index: dst.add_stream_from_template(s) for s in src.streams}
        for packet in src.demux():
            if packet.dts is None:  # the demuxer's end-of-stream marker
                continue
            packet.stream = streams[packet.stream.index]
            dst.mux(packet)


# ---------------------------------------------------------------------- frames


def _i420(frame: np.ndarray | yuv.AlphaPicture) -> tuple[np.ndarray, np.ndarray | None]:
    """The encoder's view of a frame: its I420 picture (RGB converted with the BT.601 matrix) and
    its alpha, or None where it has none."""
    if isinstance(frame, yuv.AlphaPicture):
        return frame.picture, frame.alpha
    if yuv.is_picture(frame):
        return frame, None
    alpha = frame[:, :, 3] if frame.shape[2] == 4 else None
    return yuv.from_rgb(np.ascontiguousarray(frame[:, :, :3])), alpha


def _shape(frame: np.ndarray | yuv.AlphaPicture) -> str:
    if isinstance(frame, yuv.AlphaPicture):
        return f"{frame.picture.shape} with alpha {frame.alpha.shape}"
    return str(frame.shape)


# ---------------------------------------------------------------------- probing


def _mp4_atoms(path: Path) -> list[str]:
    """Top-level MP4 box names in file order (enough to check faststart: moov before mdat)."""
    names: list[str] = []
    size_total = path.stat().st_size
    with path.open("rb") as fh:
        offset = 0
        while offset + 8 <= size_total and len(names) < 64:
            fh.seek(offset)
            size, kind = struct.unpack(">I4s", fh.read(8))
            if size == 1:
                size = struct.unpack(">Q", fh.read(8))[0]
            elif size == 0:
                size = size_total - offset
            names.append(kind.decode("latin-1"))
            if size < 8:
                break
            offset += size
    return names


def probe(path: Path) -> dict[str, Any]:
    """Describe a media file: codecs, size, duration, fps, pix_fmt, audio, colour, alpha.

    Keys: ``format``, ``video_codec``, ``profile``, ``width``, ``height``, ``duration``, ``fps``,
    ``frames``, ``pix_fmt``, ``has_alpha``, ``color_range``, ``color_space``,
    ``color_primaries``, ``color_trc``, ``has_audio``, ``audio_codec``, ``audio_sample_rate``,
    ``audio_channels`` and, for MP4, ``faststart`` (moov before mdat).
    """
    path = Path(path)
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError) as exc:
        raise RenderError("unreadable_media", f"Could not open {path.name}: {exc}") from exc
    with container:
        info: dict[str, Any] = {
            "format": container.format.name,
            "duration": (container.duration or 0) / 1_000_000,
            "video_codec": None,
            "has_audio": False,
            "audio_codec": None,
        }
        if container.streams.video:
            stream = container.streams.video[0]
            cc = stream.codec_context
            tags = {k.lower(): v for k, v in stream.metadata.items()}
            pix_fmt = cc.pix_fmt
            info.update(
                video_codec=cc.name,
                profile=cc.profile,
                width=cc.width,
                height=cc.height,
                fps=float(stream.average_rate or stream.guessed_rate or 0),
                frames=stream.frames,
                pix_fmt=pix_fmt,
                has_alpha=bool(
                    (pix_fmt and "a" in pix_fmt.replace("yuv", "").replace("gray", ""))
                    or tags.get("alpha_mode") == "1"
                ),
                alpha_mode=tags.get("alpha_mode"),
                color_range=cc.color_range,
                color_space=cc.colorspace,
                color_primaries=cc.color_primaries,
                color_trc=cc.color_trc,
            )
        if container.streams.audio:
            audio = container.streams.audio[0]
            info.update(
                has_audio=True,
                audio_codec=audio.codec_context.name,
                audio_sample_rate=audio.codec_context.sample_rate,
                audio_channels=audio.codec_context.channels,
            )
    if path.suffix.lower() in (".mp4", ".m4v", ".mov"):
        atoms = _mp4_atoms(path)
        if "moov" in atoms and "mdat" in atoms:
            info["faststart"] = atoms.index("moov") < atoms.index("mdat")
        info["atoms"] = atoms
    return info
