"""Encoding: frames + audio → MP4 (H.264/AAC) or WebM (VP9/Opus, with alpha when transparent).
The thumbnail and the GIF preview are ``render.preview``'s; probing what was written,
``render.mediainfo``'s; the audio's resampling as it streams, ``render.audiofeed``'s.

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
import os
import queue
import threading
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any

import av
import numpy as np

from twinstudio.errors import RenderError
from twinstudio.render import yuv
from twinstudio.render.audiofeed import AudioFeed

__all__ = [
    "AUDIO_BITRATE",
    "AUDIO_RATE",
    "X264_CRF",
    "X264_PRESET",
    "X264_TUNING",
    "VideoEncoder",
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
        self._audio = AudioFeed(sample_rate, AUDIO_RATE)
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
