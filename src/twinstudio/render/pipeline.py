"""The render pipeline: twin pack + speech → MP4/WebM, thumbnail and GIF preview.

It only orchestrates (check inputs → motion → lip-sync stream → compose → encode):
- motion: phoneme timings → one mouth target per output frame (``render.motion``);
- lip-sync: the engine for the pack's kind streams frames (+ alpha when removing the background);
- compose: framing, background, matte (``render.compose``);
- encode: exactly ``round(duration × fps)`` frames, so the video lasts as long as the speech.
Frames flow one at a time from decoder to encoder: memory does not grow with the video's length.
Three stages overlap on the cores: base-loop decoding (a prefetch thread, a few frames ahead),
lip-sync + compose (this thread), and RGB→YUV + x264 + muxing (the encoder's thread, behind a
4-frame queue).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from twinstudio.errors import RenderError
from twinstudio.render.types import RenderOptions, RenderResult
from twinstudio.speech.types import Speech

ProgressFn = Callable[[float], None]


def _thumbnail_index(norm_open: np.ndarray, speaking: np.ndarray) -> int:
    """A frame with the mouth clearly open, mid-speech (in the middle half when possible)."""
    n = len(norm_open)
    lo, hi = n // 4, max(n // 4 + 1, 3 * n // 4)
    score = norm_open * np.where(speaking, 1.0, 0.1)
    window = score[lo:hi]
    if len(window) and window.max() > 0:
        return lo + int(np.argmax(window))
    return int(np.argmax(score)) if score.max() > 0 else n // 2


def render_video(
    pack_dir: Path,
    speech: Speech,
    options: RenderOptions,
    workdir: Path,
    progress: ProgressFn | None = None,
) -> RenderResult:
    """Render ``speech`` spoken by the twin in ``pack_dir`` into ``workdir``.

    Writes ``video.mp4`` (or ``video.webm``), ``thumbnail.jpg`` and ``preview.gif``. Raises
    ``RenderError`` (``matting_required`` when a background removal is asked of a twin trained
    without matting, ``empty_speech`` for no audio, ``twin_not_ready`` for a missing pack).
    """
    from twinstudio.render.compose import Compositor
    from twinstudio.render.encode import GifWriter, VideoEncoder, make_thumbnail
    from twinstudio.render.lipsync.base import engine_for
    from twinstudio.render.motion import n_output_frames, track_for_pack
    from twinstudio.twins import pack as P

    report = progress or (lambda _f: None)
    pack = P.TwinPack.open(Path(pack_dir))
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    if speech.audio is None or len(speech.audio) == 0 or speech.sample_rate <= 0:
        raise RenderError(
            "empty_speech", "The speech has no audio; give a script or an audio file."
        )
    with_alpha = bool(options.remove_background)
    if with_alpha and not (pack.meta.get("matting") and pack.has(P.MATTE)):
        raise RenderError(
            "matting_required",
            "This avatar was trained without background removal; train it again with matting "
            "enabled, or render without remove_background.",
        )

    fps = pack.fps
    n = n_output_frames(speech.duration_s, fps)
    track = track_for_pack(pack, speech, n, options.expressiveness)
    engine = engine_for(pack)
    compositor = Compositor(pack.size, pack.face_box, options)
    ext = "webm" if options.output_format == "webm" else "mp4"
    video_path = workdir / f"video.{ext}"
    thumb_path = workdir / "thumbnail.jpg"
    gif_path = workdir / "preview.gif"
    thumb_at = _thumbnail_index(track.norm[:, 0], track.speaking)
    gif = GifWriter(gif_path, every_n=max(1, round(fps / 10)), width=480, fps=fps, seconds=4.0)

    written = 0
    with VideoEncoder(video_path, compositor.out_size, fps, np.asarray(speech.audio, dtype=np.float32),
                      speech.sample_rate, output_format=options.output_format) as encoder:  # fmt: skip
        for frame in engine.frames(pack, track, with_alpha=with_alpha):
            out = compositor.compose(frame.rgb, frame.alpha)
            encoder.write(out)
            gif.add(out)
            if written == thumb_at:
                make_thumbnail(out, thumb_path)
            written += 1
            if written % 10 == 0:
                report(min(0.99, written / n))
            if written >= n:
                break
        if written < n:
            raise RenderError("render_incomplete", f"Only {written} of {n} frames were rendered.")
        duration = encoder.close()
    gif.close()
    report(1.0)
    w, h = compositor.out_size
    return RenderResult(
        video_path=video_path,
        thumbnail_path=thumb_path,
        gif_path=gif_path,
        duration_s=float(duration),
        width=w,
        height=h,
    )
