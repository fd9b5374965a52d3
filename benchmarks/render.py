"""Render speed, end to end (script → streamed TTS → finished video), against the raw encoder on the
same frames.

    python benchmarks/render.py [--seconds 60] [--long-minutes 10] [--memory-repeats 2]
                                [--cases 1080p:16:9:plain,...] [--clip PATH] [--pack DIR]
                                [--repeat 1] [--render-only]

What it does, in one run on one machine:
1. Script: a fixed English text, repeated sentence by sentence until Piper's ``en_US-joe-medium``
   speaks it for at least ``--seconds`` (the parent synthesises it to learn its length).
2. Twin: a video twin trained *with matting* from a real 1080p clip when the development footage
   is present (else the public demo photo twin), into a temporary folder (training not timed).
3. Each case (``RES:A:B:BACKGROUND[:FORMAT]``: resolution × aspect × background: ``plain``,
   ``matte`` removed onto a colour, ``image`` removed onto a picture, where every frame is
   blended afresh, ``clear`` removed and left transparent, which takes ``:webm``; MP4 unless
   ``:webm`` is given) runs in a fresh worker subprocess, so its
   peak memory (``VmHWM``) is its own. The worker first does what a running worker has done
   before: it loads the voice and renders a short script (the first three sentences) of the same
   case; then it resets its peak-memory count and times exactly what the product does:
   ``render_video(pack, synthesize_stream(script, VOICE), options, tmp, text_length=len(script))``
   — the pieces synthesised in the render's background speech thread and spooled to disk while
   the frames of those already made render, audio streamed into the encoder, GIF and thumbnail
   included. RTF = that wall time / the video's duration. ``tts_s`` is the time spent inside
   Piper (beside the frames, at the background priority: longer than Piper alone),
   ``first_piece_s`` the wait before the first piece exists, ``speech_done_s`` when the last
   one was made.
4. ``--render-only``: the same case again from the already synthesised speech (one
   :class:`Speech`), for the render's own RTF and fps.
5. Raw encoder, same frames: the first frames of that case's output are decoded (yuv420p; a
   WebM's yuva420p, alpha included) and re-encoded by the shipped encoder (``raw_encoder``:
   libx264, or libvpx-vp9 for WebM) with the shipped options, at the video's frame rate, nothing
   else running, ``RAW_REPEATS`` times: ``raw_fps`` is the median (each time is in the JSON),
   and ``raw_cores_busy`` the median CPU time / wall time of those encodes (how much of the
   machine the encoder can use by itself; runs before 2026-12-06 called these
   ``raw_x264_*``). ``ratio`` = render fps (end to end) / raw fps. Where the
   render's own CPU goes is in ``cpu_speech_s`` and ``cpu_render_s`` (by thread: see
   :class:`_RssSampler`).
6. Memory with length: the 1080p 16:9 case streamed the same way from the 1-minute script and
   from that script repeated to ``--long-minutes`` (skipped with ``--long-minutes 0``), each in
   its own worker: ``--memory-repeats`` (2) long runs, and two 1-minute runs after each plus one
   before them all (5), in turn (so a drift of the machine touches both alike). Two processes'
   start-up peaks differ by a few MB whatever they render (the same 1-minute 1080p render in
   six workers of one run, 569 to 574 MB; 2026-12-03), so one pair decides nothing. The peak is "no
   higher" when the long runs' median peak is at most the highest 1-minute peak (inside the
   spread of the 1-minute runs themselves), and when each long process's own peak rose by
   under 1 MB after its first minute of video had been written (``peak_first_video_min_mb``,
   ``peak_growth_after_first_min_mb``: length alone, free of that noise; measured for long
   runs of 3 minutes or more).

Writes ``benchmarks/out/render.json``. Nothing rendered is kept (the twin may be of a real person).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from footage import CLIPS, ROOT
from report import provenance

from twinstudio.cpu import SPEECH_NICE

DEFAULT_CLIP = CLIPS / "wav2lipgfpgan_woman_blazer_landscape_1080p_7s.mp4"
OUT = ROOT / "benchmarks" / "out" / "render.json"
VOICE = "en_US-joe-medium"
RAW_FRAMES = 120
# The raw encoder is timed this many times and the median taken: one 120-frame encode lasts under
# a second, and single timings of the same frames spread by ±15 % on this VM (209–274 fps at 720p).
RAW_REPEATS = 5
DEFAULT_CASES = (
    "720p:16:9:plain",
    "720p:9:16:plain",
    "1080p:16:9:plain",
    "1080p:9:16:plain",
    "720p:16:9:matte",
    "1080p:16:9:matte",
    "1080p:9:16:matte",
    "1080p:16:9:image",
    "720p:16:9:clear:webm",
    "1080p:16:9:clear:webm",
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


def _reset_peak_rss() -> None:
    """Start this process's ``VmHWM`` afresh (Linux ≥ 4.0: ``clear_refs`` value 5)."""
    with contextlib.suppress(OSError):  # else the peak includes the warm-up (an over-estimate)
        Path("/proc/self/clear_refs").write_text("5")


def _cpu_s() -> float:
    """CPU seconds this process has used so far, all threads, user + system."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _peak_rss_mb() -> float:
    """This process's peak resident memory. ``ru_maxrss`` survives ``exec`` (a worker forked from a
    big parent would report the parent's size), so read the kernel's per-image high-water mark."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_script(seconds: float) -> tuple[str, float]:
    """The script repeated, sentence by sentence, until Piper speaks it for ≥ ``seconds``; and how
    long it lasts. The parent speaks one copy to learn the voice's pace, then the repeated text
    (the workers stream that same text themselves, timed)."""
    from twinstudio.speech import synthesize

    sentences = [s.strip() + "." for s in SCRIPT.split(".") if s.strip()]
    per_char = synthesize(SCRIPT, VOICE).duration_s / len(SCRIPT)
    for margin in (1.0, 1.05, 1.1, 1.2, 1.5, 2.0):
        words: list[str] = []
        while len(" ".join(words)) * per_char < seconds * margin:
            words.append(sentences[len(words) % len(sentences)])
        script = " ".join(words)
        duration = synthesize(script, VOICE).duration_s
        if duration >= seconds:
            return script, duration
    return script, duration


def train(clip: Path | None, pack_dir: Path) -> str:
    from twinstudio.twins import train_twin
    from twinstudio.twins.demo import demo_source

    if clip is not None and clip.is_file():
        train_twin(clip, pack_dir, matting=True)
        return clip.name
    train_twin(demo_source(), pack_dir, kind="photo", matting=True)
    return "demo photo twin"


def run_case(
    pack: Path, script: Path, case: str, *, raw: bool, render_only: bool
) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--worker", str(pack), str(script), case]
    cmd += ["--raw"] if raw else []
    cmd += ["--render-only"] if render_only else []
    load = os.getloadavg()[0]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"case {case} failed:\n{proc.stderr[-3000:]}")
    row = dict(json.loads(lines[-1]))
    row["load_before"] = round(load, 2)
    row["load_after"] = round(os.getloadavg()[0], 2)
    return row


MEMORY_CASE = "1080p:16:9:plain"
GROWTH_LIMIT_MB = 1.0  # what the minutes after the first may add to a long render's own peak


def memory_with_length(pack: Path, short: Path, long: Path, repeats: int) -> dict[str, Any]:
    """Peak memory of the 1-minute and the long render of :data:`MEMORY_CASE`: ``repeats`` long
    runs and ``2 * repeats + 1`` short ones, in turn; see step 6 above."""
    one_min: list[dict[str, Any]] = []
    long_runs: list[dict[str, Any]] = []
    order = [(short, one_min)] + [(long, long_runs), (short, one_min), (short, one_min)] * repeats
    for script, runs in order:
        row = run_case(pack, script, MEMORY_CASE, raw=False, render_only=False)
        print(json.dumps(row), flush=True)
        runs.append(row)
    short_peaks = [float(r["peak_rss_mb"]) for r in one_min]
    long_peaks = [float(r["peak_rss_mb"]) for r in long_runs]
    key = "peak_growth_after_first_min_mb"
    growth = [float(r[key]) for r in long_runs if key in r]
    long_median = statistics.median(long_peaks)
    flat = bool(growth) and max(growth) <= GROWTH_LIMIT_MB
    return {
        "case": MEMORY_CASE,
        "one_min_s": one_min[0]["duration_s"],
        "long_s": long_runs[0]["duration_s"],
        "one_min_peaks_mb": short_peaks,
        "long_peaks_mb": long_peaks,
        "one_min_median_mb": statistics.median(short_peaks),
        "long_median_mb": long_median,
        "one_min_spread_mb": max(short_peaks) - min(short_peaks),
        "growth_after_first_min_mb": growth,
        "no_higher": long_median <= max(short_peaks) and flat,
        "under_1_5_gb": max(long_peaks) < 1536,
        "one_min_runs": one_min,
        "long_runs": long_runs,
    }


# ---------------------------------------------------------------------- worker side


def _first_frames(video: Path, n: int, webm: bool) -> tuple[list[Any], Any]:
    """The first ``n`` frames of ``video`` as the encoder was given them (yuv420p, or yuva420p
    from a WebM, whose alpha only libvpx's own decoder reads), and the video's frame rate."""
    import av

    frames: list[Any] = []
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        fps = stream.average_rate or 25
        if not webm:
            for frame in container.decode(stream):
                frames.append(frame.reformat(format="yuv420p"))
                if len(frames) == n:
                    break
            return frames, fps
        decoder = av.CodecContext.create("libvpx-vp9", "r")
        for packet in container.demux(stream):
            frames += decoder.decode(packet) if packet.size else []
            if len(frames) >= n:
                break
    return frames[:n], fps


def raw_encoder_fps(video: Path, n: int, repeats: int = RAW_REPEATS) -> list[tuple[float, float]]:
    """The shipped encoder alone (x264 for MP4, VP9 for WebM, with alpha when it has one),
    shipped preset and options, on the first ``n`` frames of ``video``, encoded ``repeats``
    times by a fresh encoder: (fps, cores busy) of each time. Cores busy is the process's CPU time over the wall
    time: how much of the machine the encoder can use by itself."""
    import av

    from twinstudio.render.encode import vp9_options, x264_options

    webm = video.suffix == ".webm"
    frames, fps = _first_frames(video, n, webm)
    runs = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            out = av.open(str(Path(tmp) / f"raw{video.suffix}"), "w")
            stream = out.add_stream("libvpx-vp9" if webm else "libx264", rate=fps)
            stream.width, stream.height = frames[0].width, frames[0].height
            stream.pix_fmt = frames[0].format.name if webm else "yuv420p"  # alpha if it has one
            stream.options = dict(vp9_options() if webm else x264_options())
            stream.codec_context.thread_count = 0
            t0, cpu0 = time.perf_counter(), _cpu_s()
            for i, f in enumerate(frames):
                f.pts = i
                for packet in stream.encode(f):
                    out.mux(packet)
            for packet in stream.encode(None):
                out.mux(packet)
            elapsed, cpu = time.perf_counter() - t0, _cpu_s() - cpu0
            out.close()
        runs.append((len(frames) / elapsed, cpu / elapsed))
    return runs


class _TimedPieces:
    """Wraps ``synthesize_stream``: counts the time spent inside Piper (in the render's speech
    thread, beside the frames), keeps each piece (for the render-only rerun, only when asked),
    and when the first and the last piece were made."""

    def __init__(self, pieces: Iterator[Any], t0: float, keep: bool) -> None:
        self.pieces, self.t0, self.keep = pieces, t0, keep
        self.tts_s = 0.0
        self.first_s: float | None = None
        self.last_s: float | None = None
        self.kept: list[Any] = []

    def __iter__(self) -> Iterator[Any]:
        while True:
            t = time.perf_counter()
            piece = next(self.pieces, None)
            self.tts_s += time.perf_counter() - t
            if piece is None:
                self.last_s = time.perf_counter() - self.t0
                return
            if self.first_s is None:
                self.first_s = time.perf_counter() - self.t0
            if self.keep:
                self.kept.append(piece)
            yield piece


class _RssSampler:
    """Samples the process's RSS every 0.1 s during the render: the median (steady state) and
    95th percentile next to the peak, which a single coincidence (the TTS of the longest
    sentence while the encoder's buffers are full) decides.

    Each sample also splits RSS into its anonymous part (the process's own memory: heap, mapped
    buffers, Python's objects) and its file-backed part (pages of the shared libraries it has
    mapped). The file-backed part says nothing about the render: a library's pages count in RSS
    once the process has touched them, and the kernel maps up to 16 neighbours of each touched
    page that are in the page cache, so the same code reads tens of MB higher right after the
    virtual environment was installed (its files all in the page cache) than on a machine whose
    cache has long dropped them (2026-12-02: importing ``twinstudio.speech``, RssFile 39 MB in a
    long-standing checkout, 53 MB in a fresh clone; RssAnon 58.6 MB in both). ``VmHWM``, the
    peak, includes it; ``rss_anon_max_mb`` (the highest sampled anonymous RSS) does not, but it can
    miss an instant shorter than the sampling interval. Samples are kept as 4-byte floats, so
    the sampler adds ~20 kB a minute, not a growing list of Python objects.

    Where the peak was set: ``VmHWM`` is read every 50 ms as well, and the time (s from the
    start) and the render's progress (0..1, from ``render_video``'s callback: frames written over
    the expected total) of its last rise are kept: ``peak_at_s``, ``peak_at_progress``. A 10-minute render whose
    peak is set in its first seconds has a peak its length did not make.

    Growth with length, in one process: every rise of ``VmHWM`` is kept with the progress it
    came at, so ``summary(duration_s)`` can say what the peak was once the first minute of
    video was written (``peak_first_video_min_mb``) and how far the rest of a long render took
    it (``peak_growth_after_first_min_mb``). The 1-minute case runs in another process, whose
    start-up peak differs from this one's by ±2 MB of heap layout and touched library pages
    (five renders of the same script, 2026-12-02: 510.1–513.9 MB); within one process that
    noise is gone, and all of the long render's speech (made beside its frames) and its
    GIF and thumbnail at the end count against it, so it is the stricter test of "no higher
    for a longer video".

    Where the CPU goes, by thread: every 0.1 s each of the process's threads' CPU time is read
    (``/proc/self/task/*/stat``, user + system) and grouped: ``speech`` for every thread at the
    speech's background priority (``twinstudio.cpu``: the thread that makes the pieces and
    onnxruntime's pool), else by its Python thread's name (``main``, ``video-encoder``,
    ``prefetch``: the base loop's and the matte's decoding) or ``native`` (the threads libraries
    start themselves: x264's frame and lookahead threads, FFmpeg's decoders, OpenCV's pool).
    ``cpu_speech_s`` is the speech group's, ``cpu_render_s`` the others' (a thread that ends
    between two reads loses at most 0.1 s). The sampler's own reads are ``sampler``.
    """

    INTERVAL_S = 0.1
    # The kernel's high-water mark misses nothing whatever the polling; polling only says when
    # it rose. Every 5 ms (until 2026-12-03) the sampler took 0.3-0.5 CPU s of a 1-minute 720p
    # render (2-3 % of its CPU, beside the render's own threads); every 50 ms, 0.14 s.
    HWM_INTERVAL_S = 0.05

    def __init__(self) -> None:
        import threading
        from array import array

        self.samples = array("f")  # RSS, MB
        self.anon = array("f")  # RssAnon, MB
        self.file = array("f")  # RssFile, MB
        self.progress = 0.0  # set by the render's progress callback
        self.peak_at: tuple[float, float] | None = None  # (s, progress) of VmHWM's last rise
        self.rises = array("d")  # (progress, VmHWM kB) of every rise, in pairs
        self.cpu: dict[int, tuple[str, float]] = {}  # thread id → (group, CPU s so far)
        self.cpu_start: dict[int, float] = {}  # CPU s by thread when sampling began
        self._clock_ticks = os.sysconf("SC_CLK_TCK")  # /proc's CPU times are in these
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sampler", daemon=True)

    def report(self, fraction: float) -> None:
        """``render_video``'s progress callback."""
        self.progress = fraction

    def _run(self) -> None:
        fields = {"VmRSS:": self.samples, "RssAnon:": self.anon, "RssFile:": self.file}
        t0, hwm, ticks = time.perf_counter(), 0, 0
        every = round(self.INTERVAL_S / self.HWM_INTERVAL_S)
        while not self._stop.wait(self.HWM_INTERVAL_S):
            text = Path("/proc/self/status").read_text()
            at = text.find("VmHWM:")
            peak = int(text[at:].split(maxsplit=2)[1]) if at >= 0 else 0
            if peak > hwm:
                hwm = peak
                self.peak_at = (time.perf_counter() - t0, self.progress)
                self.rises.extend((self.progress, peak))
            ticks += 1
            if ticks % every:
                continue
            self._read_threads()
            for line in text.splitlines():
                key = line.split(maxsplit=1)[0] if line else ""
                if key in fields:
                    fields[key].append(int(line.split()[1]) / 1024)

    def _read_threads(self) -> None:
        import threading

        named = {t.native_id: t.name for t in threading.enumerate() if t.native_id}
        named[threading.main_thread().native_id or 0] = "main"
        tick = self._clock_ticks
        for tid in os.listdir("/proc/self/task"):
            try:
                stat = Path(f"/proc/self/task/{tid}/stat").read_text()
            except OSError:  # the thread has just ended
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            name = named.get(int(tid), "native")
            group = name if name in ("main", "video-encoder", "prefetch", "sampler") else "native"
            if int(fields[16]) == SPEECH_NICE:  # the nice value
                group = "speech"
            self.cpu[int(tid)] = (group, (int(fields[11]) + int(fields[12])) / tick)

    def cpu_split(self) -> dict[str, Any]:
        """CPU s of the speech's threads, and of the others by group."""
        self._read_threads()
        groups: dict[str, float] = {}
        for tid, (group, cpu) in self.cpu.items():
            groups[group] = groups.get(group, 0.0) + cpu - self.cpu_start.get(tid, 0.0)
        speech = groups.pop("speech", 0.0)
        return {
            "cpu_speech_s": round(speech, 2),
            "cpu_render_s": {k: round(v, 2) for k, v in sorted(groups.items())},
        }

    def __enter__(self) -> _RssSampler:
        self._read_threads()
        self.cpu_start = {tid: cpu for tid, (_, cpu) in self.cpu.items()}
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self, duration_s: float) -> dict[str, float]:
        """Percentiles of the samples, where the peak was set, and (for a render of 3 minutes or
        more) the peak once its first minute of video was written."""
        if not self.samples:
            return {}

        def pick(values: Any, q: float) -> int:
            ordered = sorted(values)
            return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))])

        out: dict[str, float] = {
            "rss_p50_mb": pick(self.samples, 0.5),
            "rss_p95_mb": pick(self.samples, 0.95),
        }
        if self.peak_at is not None:
            out["peak_at_s"] = round(self.peak_at[0], 2)
            out["peak_at_progress"] = round(self.peak_at[1], 4)
        if self.anon and self.file:
            out.update({
                "rss_anon_p50_mb": pick(self.anon, 0.5),
                "rss_anon_max_mb": round(max(self.anon)),
                "rss_file_p50_mb": pick(self.file, 0.5),
                "rss_file_max_mb": round(max(self.file)),
            })  # fmt: skip
        per_minute = round(60 / self.INTERVAL_S)  # samples
        if len(self.samples) >= 3 * per_minute:  # a long render: is memory flat with time?
            for name, minute in (("first", self.samples[:per_minute]),
                                 ("last", self.samples[-per_minute:])):  # fmt: skip
                out[f"rss_p50_{name}_min_mb"] = pick(minute, 0.5)
                out[f"rss_max_{name}_min_mb"] = round(max(minute))
        if duration_s >= 180 and self.rises:
            at = 60 / duration_s  # render_video's progress: frames written / total
            first = max((kb for p, kb in zip(self.rises[::2], self.rises[1::2], strict=True)
                         if p <= at), default=0.0)  # fmt: skip
            peak = self.rises[-1]
            out["peak_first_video_min_mb"] = round(first / 1024, 1)
            out["peak_growth_after_first_min_mb"] = round((peak - first) / 1024, 1)
        return out


def _backdrop_image(folder: Path) -> Path:
    """A 1920x1080 JPEG to put behind the person: a lit gradient with soft shapes (not flat, so
    no path can treat it as a colour)."""
    import cv2
    import numpy as np

    ys, xs = np.mgrid[0:1080, 0:1920].astype(np.float32)
    image = np.stack([90 + 60 * xs / 1920, 120 + 50 * ys / 1080, 170 - 40 * xs / 1920], axis=2)
    for k in range(12):
        cv2.circle(image, (160 * k + 80, 300 + 40 * (k % 5)), 90, (200 - 10 * k, 160, 90), -1)
    path = folder / "backdrop.jpg"
    cv2.imwrite(str(path), cv2.GaussianBlur(image, (0, 0), 9).clip(0, 255).astype(np.uint8))
    return path


def worker(pack: Path, script_path: Path, case: str, raw: bool, render_only: bool) -> None:
    from twinstudio.render import RenderOptions, render_video
    from twinstudio.render.types import Background
    from twinstudio.speech import join_speech, synthesize_stream
    from twinstudio.twins.pack import TwinPack

    resolution, a, b, bg, *rest = case.split(":")
    output_format = rest[0] if rest else "mp4"
    if bg == "clear" and output_format != "webm":
        raise SystemExit(f"case {case}: a clear background needs webm (RES:A:B:clear:webm)")
    background = None
    images = tempfile.TemporaryDirectory()  # removed when the worker ends
    if bg == "matte":
        background = Background(color="#2f6fb0")
    elif bg == "image":  # a picture behind: every frame blended (and unmixed) afresh
        background = Background(image_path=_backdrop_image(Path(images.name)))
    options = RenderOptions(
        resolution=resolution,
        aspect_ratio=f"{a}:{b}",
        fit="cover",
        remove_background=bg in ("matte", "image", "clear"),
        background=background,
        output_format=output_format,
    )
    script = script_path.read_text()
    fps = TwinPack.open(pack).fps
    # A running worker has loaded the voice and rendered before: warm up with a short render of
    # the same case (its first sentences), then start the peak-memory count afresh.
    warm_up = " ".join(s.strip() + "." for s in script.split(".")[:3] if s.strip())
    with tempfile.TemporaryDirectory() as tmp:
        render_video(pack, synthesize_stream(warm_up, VOICE), options, Path(tmp))
    _reset_peak_rss()
    with tempfile.TemporaryDirectory() as tmp, _RssSampler() as rss:
        t0, cpu0 = time.perf_counter(), _cpu_s()
        pieces = _TimedPieces(synthesize_stream(script, VOICE), t0, keep=render_only)
        result = render_video(pack, pieces, options, Path(tmp), rss.report, text_length=len(script))
        e2e_s, cpu_s = time.perf_counter() - t0, _cpu_s() - cpu0
        split = rss.cpu_split()
        frames = round(result.duration_s * fps)
        res: dict[str, Any] = {
            "case": case,
            "size": f"{result.width}x{result.height}",
            "duration_s": round(result.duration_s, 2),
            "frames": frames,
            "e2e_s": round(e2e_s, 2),
            "rtf": round(e2e_s / result.duration_s, 3),
            "fps": round(frames / e2e_s, 1),
            "tts_s": round(pieces.tts_s, 2),
            "cpu_s": round(cpu_s, 1),  # every thread of the worker, user + system
            "cores_busy": round(cpu_s / e2e_s, 2),  # of the machine's os.cpu_count()
            "first_piece_s": round(pieces.first_s or 0.0, 2),
            "speech_done_s": round(pieces.last_s or 0.0, 2),
            "peak_rss_mb": round(_peak_rss_mb()),
            **rss.summary(result.duration_s),
            **split,
        }
        if raw:
            runs = raw_encoder_fps(result.video_path, RAW_FRAMES)
            res["raw_encoder"] = "libvpx-vp9" if output_format == "webm" else "libx264"
            res["raw_fps"] = round(statistics.median(r[0] for r in runs), 1)
            res["raw_fps_runs"] = [round(r[0], 1) for r in runs]
            res["raw_cores_busy"] = round(statistics.median(r[1] for r in runs), 2)
            res["ratio"] = round(res["fps"] / res["raw_fps"], 2)
    if render_only:
        speech = join_speech(pieces.kept)
        pieces.kept.clear()
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            render_video(pack, speech, options, Path(tmp))
            render_s = time.perf_counter() - t0
        res["render_only_s"] = round(render_s, 2)
        res["render_only_rtf"] = round(render_s / result.duration_s, 3)
        res["render_only_fps"] = round(frames / render_s, 1)
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
    ap.add_argument("--memory-repeats", type=int, default=2)
    ap.add_argument("--render-only", action="store_true", help="also time a pre-synthesised run")
    ap.add_argument("--worker", nargs=3, default=None, metavar=("PACK", "SCRIPT", "CASE"))
    ap.add_argument("--raw", action="store_true")
    args = ap.parse_args()
    if args.worker:
        pack_arg, script_arg, case_arg = args.worker
        worker(Path(pack_arg), Path(script_arg), case_arg, args.raw, args.render_only)
        return 0

    from twinstudio.render.encode import x264_preset

    started = time.time()
    uptime_before = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        source = "given pack"
        pack = args.pack
        if pack is None:
            pack = tmp / "pack"
            source = train(args.clip, pack)
        script, script_s = make_script(args.seconds)
        script_path = tmp / "script.txt"
        script_path.write_text(script)
        rows = []
        for case in args.cases.split(","):
            for _ in range(args.repeat):
                row = run_case(pack, script_path, case, raw=True, render_only=args.render_only)
                print(json.dumps(row), flush=True)
                rows.append(row)
        memory = None
        if args.long_minutes > 0 and args.memory_repeats > 0:
            long_path = tmp / "script_long.txt"
            copies = max(1, math.ceil(args.long_minutes * 60 / script_s))
            long_path.write_text(" ".join([script] * copies))
            memory = memory_with_length(pack, script_path, long_path, args.memory_repeats)
    uptime_after = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    report = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "source": source,
        "x264_preset": x264_preset(),
        **provenance(started),
        "uptime_before": uptime_before,
        "uptime_after": uptime_after,
        "script_s": round(script_s, 2),
        "script_chars": len(script),
        "cases": rows,
        "memory": memory,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2))
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
