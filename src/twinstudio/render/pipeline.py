"""The render pipeline: twin pack + speech → MP4/WebM, thumbnail and GIF preview.

It only orchestrates (check inputs → motion → lip-sync stream → compose → encode):
- motion: phoneme timings → one mouth target per output frame (``render.motion``);
- lip-sync: the engine for the pack's kind streams frames (+ alpha when removing the background);
- compose: framing, background, matte (``render.compose``);
- encode: exactly ``round(duration × fps)`` frames, so the video lasts as long as the speech.

Speech may come whole (a :class:`Speech`) or as pieces (any iterable of them, e.g.
``speech.synthesize_stream``'s sentence groups). Pieces are made *while* the frames render: a
thread at the background CPU priority writes them to disk as they come (``speech.spool``, and
``twinstudio.cpu`` for why the priority), and the renderer reads them back one at a time, waiting
for a piece only when it has caught up with the speech. Each piece's audio is fed to the encoder
and its mouth track computed when the engine reaches it, so neither the audio nor the track is
ever held whole.

Why beside and not before: the frames keep ~1.6 of the 2 cores busy, so made first the speech
added its whole time (3.5–4 s for a minute of speech) in front of a render that then left ~0.4
core idle. At the background priority it takes only those idle cycles, and all of both cores
while the renderer waits for it. (Made beside the frames at the *same* priority, as an earlier
version did, it was no faster: Piper's threads took their share from the frames' critical path.)
The whole duration is known once the speech is done; until then progress is told against an
estimate from the script's length (``text_length``), and never goes back.

A piece covers the output frames whose start lies in its audio: piece k ends at frame
``round(audio_end_k × fps)``, and its phoneme times are shifted by the (< ½ frame) difference
between its audio start and its first frame, so the mouth stays on the sound across pieces.

Frames flow one at a time from decoder to encoder. Stages overlap on the cores: base-loop decoding
(a prefetch thread), lip-sync + compose (this thread), and RGB→YUV + x264 + muxing (the encoder's
thread, behind a 4-frame queue).
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from twinstudio.cpu import opencv_on_calling_threads
from twinstudio.errors import RenderError
from twinstudio.memory import keep_heap_flat, release_free_memory
from twinstudio.render import yuv
from twinstudio.render.types import ProgressFn, RenderOptions, RenderResult
from twinstudio.speech.types import Speech, Timing

if TYPE_CHECKING:
    from twinstudio.render.encode import VideoEncoder
    from twinstudio.render.motion import MouthTrack
    from twinstudio.speech.spool import SpeechSpool
    from twinstudio.twins.pack import TwinPack


# Frames between two returns of the heap's free pages to the system (~2 s of video; each costs
# a few ms: see twinstudio.memory).
RELEASE_EVERY = 50


def _thumbnail_index(norm_open: np.ndarray, speaking: np.ndarray) -> int:
    """A frame with the mouth clearly open, mid-speech (in the middle half when possible)."""
    n = len(norm_open)
    lo, hi = n // 4, max(n // 4 + 1, 3 * n // 4)
    score = norm_open * np.where(speaking, 1.0, 0.1)
    window = score[lo:hi]
    if len(window) and window.max() > 0:
        return lo + int(np.argmax(window))
    return int(np.argmax(score)) if score.max() > 0 else n // 2


def _shifted(timings: list[Timing], delta_ms: float) -> list[Timing]:
    d = round(delta_ms)
    return timings if d == 0 else [replace(t, start_ms=t.start_ms + d, end_ms=t.end_ms + d) for t in timings]  # fmt: skip


class _Timeline:
    """Turns speech pieces into mouth tracks, one piece at a time, feeding their audio to the
    encoder. (The words, for the captions, are read once the frames are done: see
    ``speech.spool``.)

    ``total_frames``: the whole video's frames when known before the first one (whole speech),
    else None and :meth:`expected_frames` tells them from ``spool`` (the pieces being made) and
    ``text_length`` (the script's characters) or ``duration_s`` (the whole speech's length,
    when the pieces of a recording are timed one by one)."""

    def __init__(
        self,
        pack: TwinPack,
        options: RenderOptions,
        rate: int,
        total_frames: int | None,
        spool: SpeechSpool | None = None,
        text_length: int | None = None,
        duration_s: float | None = None,
    ) -> None:
        self.pack = pack
        self.options = options
        self.rate = rate
        self.spool = spool
        self.text_length = text_length
        self.duration_s = duration_s
        self.samples = 0  # audio samples of the pieces so far
        self.frames = 0  # output frames planned so far
        self.thumbnail_at = -1
        self._total = total_frames
        self._told = 0.0  # the progress last told (it never goes back)

    def expected_frames(self) -> int | None:
        """The whole video's frames: exact once all of the speech is made; before that, those
        of the speech made so far scaled by the share of the script it covers, or those of
        ``duration_s`` (None without either)."""
        if self._total is not None or self.spool is None:
            return self._total
        done = self.spool.done  # read before the samples: both only grow until done
        made = round(self.spool.samples / self.rate * self.pack.fps)
        if done:
            self._total = max(1, made)
            return self._total
        if self.duration_s:
            return max(made, round(self.duration_s * self.pack.fps))
        if self.text_length and self.spool.chars:
            return max(made, round(made * self.text_length / self.spool.chars))
        return None

    def tracks(self, pieces: Iterable[Speech], encoder: VideoEncoder) -> Iterator[MouthTrack]:
        """One track per piece (a piece of under half a frame gives none, unless all of the
        speech is: then one frame). Only the current piece is held: no look-ahead, and its
        timings are let go before its frames are rendered (its audio array lives on in the
        encoder, which keeps it, uncopied, until it is converted)."""
        tail: tuple[Speech, np.ndarray, float] | None = None
        for piece in pieces:
            if piece.sample_rate != self.rate:
                raise RenderError(
                    "invalid_audio",
                    f"Speech pieces at {piece.sample_rate} Hz and {self.rate} Hz cannot be joined.",
                )
            audio = np.asarray(piece.audio, dtype=np.float32).reshape(-1)
            encoder.feed_audio(audio)
            start_s = self.samples / self.rate
            self.samples += audio.size
            n = round(self.samples / self.rate * self.pack.fps) - self.frames
            if n <= 0:  # a piece shorter than half a frame: its sound plays over the next one
                tail = (piece, audio, start_s) if self.frames == 0 else None
                continue
            tail = None
            track = self._track(piece, audio, start_s, n)
            del piece, audio
            yield track
        if tail is not None:  # every piece under half a frame: one frame for all of it
            yield self._track(*tail, 1)

    def _track(self, piece: Speech, audio: np.ndarray, start_s: float, n: int) -> MouthTrack:
        from twinstudio.render.motion import read_sound, track_for_pack

        delta_ms = (start_s - self.frames / self.pack.fps) * 1000
        local = Speech(audio, self.rate, _shifted(piece.phonemes, delta_ms), [], piece.text)
        sound = read_sound(audio, self.rate, recognised=self.options.recognised_phones,
                           synthetic=self.options.synthetic_voice, pack=self.pack)  # fmt: skip
        track = track_for_pack(self.pack, local, n, self.options.expressiveness, sound.share,
                               sound.echo, sound.over_pauses)  # fmt: skip
        if self.thumbnail_at < 0:
            self.thumbnail_at = self.frames + _thumbnail_index(track.norm[:, 0], track.speaking)
        self.frames += n
        return track

    def progress(self, written: int) -> float:
        """Frames written over the expected total, at most 0.99, never less than told before."""
        total = self.expected_frames()
        if total:
            self._told = max(self._told, min(0.99, written / total))
        return self._told


BLINK_FREE = 0.05  # a thumbnail shows eyes at most this closed (``SyncedFrame.blink``)
EMPTY_SPEECH = "The speech has no audio; give a script or an audio file."


def render_video(
    pack_dir: Path,
    speech: Speech | Iterable[Speech],
    options: RenderOptions,
    workdir: Path,
    progress: ProgressFn | None = None,
    *,
    text_length: int | None = None,
    duration_s: float | None = None,
) -> RenderResult:
    """Render ``speech`` (whole, or pieces in order) spoken by the twin in ``pack_dir``.

    Writes ``video.mp4`` (or ``video.webm``), ``thumbnail.jpg`` and ``preview.gif`` into
    ``workdir``. Pieces are made while the frames render (in a background thread, kept on disk
    until read); ``text_length``: the characters of the script they come from, when they carry
    their ``text``, so progress can be told before all of them are made; ``duration_s``: the
    whole speech's length, when the pieces are parts of one recording. Raises ``RenderError``
    (``matting_required`` when a background removal is asked of a twin trained without
    matting, ``empty_speech`` for no audio); errors raised while producing the pieces (a TTS
    failure) come through unchanged, and no partial video is left behind.
    """
    from twinstudio.speech.spool import SpeechSpool
    from twinstudio.twins import pack as P

    keep_heap_flat()
    report = progress or (lambda _f: None)
    pack = P.TwinPack.open(Path(pack_dir))
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    if options.remove_background and not (pack.meta.get("matting") and pack.has(P.MATTE)):
        raise RenderError(
            "matting_required",
            "This avatar was trained without background removal; train it again with matting "
            "enabled, or render without remove_background.",
        )
    spool: SpeechSpool | None = None
    try:
        if isinstance(speech, Speech):
            if len(speech.audio) == 0 or speech.sample_rate <= 0:
                raise RenderError("empty_speech", EMPTY_SPEECH)
            pieces: Iterable[Speech] = [speech]
            rate = speech.sample_rate
            total: int | None = max(1, round(len(speech.audio) / rate * pack.fps))
        else:
            spool = SpeechSpool(Path(tempfile.mkdtemp(prefix="speech-", dir=workdir)))
            spool.fill(speech)
            spool.wait_for_first()  # the encoder needs the sound's rate
            # Only no piece at all is known empty now; pieces whose audio all comes to nothing
            # are found once they are read (``_render``).
            if spool.count == 0 or spool.sample_rate <= 0:
                raise RenderError("empty_speech", EMPTY_SPEECH)
            pieces, rate, total = spool, spool.sample_rate, None
        timeline = _Timeline(pack, options, rate, total, spool, text_length, duration_s)
        # The speech takes the cores' idle time: OpenCV's pool would only contend for them.
        serial = opencv_on_calling_threads() if spool is not None else contextlib.nullcontext()
        with serial:
            result = _render(pack, timeline, pieces, options, workdir, report)
        words = speech.words if isinstance(speech, Speech) else spool.words() if spool else []
        return replace(result, words=tuple(words))
    finally:
        if spool is not None:
            spool.remove()


def _rendition(pack: TwinPack, with_alpha: bool) -> tuple[int, int] | None:
    """The size of the pack's 720p rendition when it has one that holds every frame a render
    reads (``twins.rendition``), else None."""
    from twinstudio.render.baseloop import frames_used

    rendition = pack.rendition(with_matte=with_alpha) if pack.kind == "video" else None
    if rendition is None or not rendition.covers(*frames_used(pack)):
        return None
    return rendition.size


def _shown(pack: TwinPack) -> int:
    """How many footage frames a render of a video twin can show (0 for a photo)."""
    from twinstudio.render.baseloop import frames_used

    if pack.kind != "video":
        return 0
    first, last = frames_used(pack)
    return last - first + 1


def _plate(pack: TwinPack) -> np.ndarray | None:
    """The pack's plate of its backdrop (``twins.plate``), when it has one."""
    from twinstudio.twins import pack as P
    from twinstudio.twins.plate import read_plate

    return read_plate(pack.file(P.BACKDROP)) if pack.has(P.BACKDROP) else None


def _fronts(pack: TwinPack) -> frozenset[str]:
    """The view sources ("base", "rendition") whose front videos (``twins.front``) the pack has,
    holding every frame a render reads."""
    from twinstudio.render.baseloop import uses_front

    return frozenset(s for s in ("base", "rendition") if uses_front(pack, s == "rendition"))


def _render(
    pack: TwinPack,
    timeline: _Timeline,
    pieces: Iterable[Speech],
    options: RenderOptions,
    workdir: Path,
    report: ProgressFn,
) -> RenderResult:
    """Pieces → tracks → engine frames → composed frames → encoder, GIF and thumbnail."""
    from twinstudio.render.compose import Compositor
    from twinstudio.render.encode import VideoEncoder
    from twinstudio.render.lipsync.base import engine_for
    from twinstudio.render.preview import GifWriter, make_thumbnail

    engine = engine_for(pack)
    with_alpha = bool(options.remove_background)
    compositor = Compositor(pack.size, pack.face_box, options,
                            rendition=_rendition(pack, with_alpha), keep=_shown(pack),
                            plate=_plate(pack) if with_alpha else None,
                            fronts=_fronts(pack) if with_alpha else frozenset())  # fmt: skip
    fps = pack.fps
    ext = "webm" if options.output_format == "webm" else "mp4"
    video_path = workdir / f"video.{ext}"
    thumb_path = workdir / "thumbnail.jpg"
    gif_path = workdir / "preview.gif"
    gif = GifWriter(gif_path, every_n=max(1, round(fps / 10)), side=480, fps=fps, seconds=4.0)
    written, thumbed = 0, False
    out: np.ndarray | yuv.AlphaPicture | None = None
    try:
        with VideoEncoder(video_path, compositor.out_size, fps, None, timeline.rate,
                          output_format=options.output_format,
                          transparent=compositor.transparent) as encoder:  # fmt: skip
            tracks = timeline.tracks(pieces, encoder)
            frames = engine.stream(pack, tracks, with_alpha=with_alpha, view=compositor.view,
                                   frames=timeline.expected_frames())  # fmt: skip
            for frame in frames:
                out = compositor.compose_placed(frame.picture, frame.alpha, source=frame.source,
                                                changed=frame.changed)  # fmt: skip
                encoder.write(out)
                gif.add(out)
                # At the chosen frame, or the first one after it with the eyes open.
                if (
                    not thumbed
                    and written >= timeline.thumbnail_at >= 0
                    and frame.blink < BLINK_FREE
                ):
                    make_thumbnail(out, thumb_path)
                    thumbed = True
                written += 1
                if written % 10 == 0:
                    report(timeline.progress(written))
                if written % RELEASE_EVERY == 0:
                    release_free_memory()  # flat memory with length (twinstudio.memory)
            if timeline.samples == 0:
                raise RenderError("empty_speech", EMPTY_SPEECH)
            if written != timeline.frames or written == 0 or out is None:
                raise RenderError(
                    "render_incomplete",
                    f"Only {written} of {timeline.frames} frames were rendered.",
                )
            if not thumbed:  # the eyes never opened after the chosen frame: the last one
                make_thumbnail(out, thumb_path)
            duration = encoder.close()
    finally:
        compositor.close()  # the kept blends' file
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
