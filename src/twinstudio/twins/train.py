"""Training a video twin: footage → twin pack (see ``twins.pack`` for the files).

Before the pictures, the sound: decode it, check that a person is heard talking (``twins.voice``)
and start labelling every frame with its phoneme/viseme (``twins.labels``) in a background thread,
so pocketsphinx runs while the frames are tracked.

Two passes over the frames, each streaming:
1. decode at constant fps → write ``base.mp4``; track face landmarks; sample face counts and light;
2. decode ``base.mp4`` again (so the bank holds exactly the pixels the renderer will see) → canonical
   mouth crops, descriptors (of each frame's own landmarks: what its pixels show), preview clip.
Between them: refuse bad footage (faces first: "no face" is the more useful message when both are
wrong; footage without speech stops pass 1 early), fill brief tracking losses, smooth, fit the crop
geometry. After them: the audio-to-mouth model, blinks, the matte, the quality report.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from twinstudio.errors import FootageError
from twinstudio.twins import pack as P
from twinstudio.twins.bank import (
    DESCRIPTORS,
    CropGeometry,
    apply_affine,
    frame_to_crop,
    invert_affine,
    shape_descriptors,
    sharpness,
    teeth_score,
)
from twinstudio.twins.cuts import MouthCropWriter
from twinstudio.twins.faces import (
    N_LANDMARKS,
    FaceTracker,
    fill_gaps,
    head_pose,
    inter_ocular,
    mouth_outside,
    smooth_track,
)
from twinstudio.twins.ingest import (
    SourceInfo,
    iter_frames,
    probe,
    read_audio,
    tracking_size,
    without_borders,
    working_size,
)
from twinstudio.twins.labels import FrameLabels, label_frames, viseme_counts
from twinstudio.twins.loop import (
    blink_frames,
    eye_openness,
    frame_thumbnail,
    picture_jumps,
    plan_loop,
)
from twinstudio.twins.quality import quality_report
from twinstudio.twins.rendition import (
    RenditionWriter,
    rendition_size,
    rendition_span,
    shrink_matte,
)
from twinstudio.twins.types import TwinInfo, orientation_of
from twinstudio.twins.video import VideoWriter, read_frames
from twinstudio.twins.voice import (
    SpeechCheck,
    check_speech,
    lacks_speech,
    levelled,
    refuse_without_speech,
)

ProgressFn = Callable[[float], None]
MIN_IOD_PX = 22.0  # below this the mouth is a handful of pixels
MIN_FACE_LUMA = 40.0
# Footage whose lips leave the frame this often is refused: the twin's mouths would be cut too.
# Found on the dev clips enlarged to their middle 65 % (``benchmarks/recode.py tight``): the
# ed_markey copy, its mouth under the frame's lower edge in 88 % of frames, trained and scored r
# -0.15; the radio34 copy (3 %, a nod) scored 0.48, as the clip; the other clips 0 %.
MAX_MOUTH_CUT = 0.25
_CROP_CORNERS = np.array([[0, 0], [1, 0], [0, 1], [1, 1]], np.float64)


def _noop(_: float) -> None:
    pass


class _Pass1:
    """What the first pass learns: raw landmarks, validity, face counts, light samples."""

    def __init__(self, n: int) -> None:
        self.landmarks = np.zeros((n, N_LANDMARKS, 2), np.float32)
        self.valid = np.zeros(n, bool)
        self.face_counts: list[int] = []
        self.luma: list[float] = []
        self.contrast: list[float] = []
        self.change = np.zeros(n, np.float32)  # mean |Δ| from the previous frame (64 px grey)
        self.n = 0


def _face_light(rgb: np.ndarray, lm: np.ndarray) -> tuple[float, float]:
    x0, y0 = np.maximum(lm.min(axis=0).astype(int), 0)
    x1, y1 = lm.max(axis=0).astype(int)
    face = rgb[y0:y1, x0:x1]
    if face.size == 0:
        return 0.0, 0.0
    grey = face.mean(axis=2)
    return float(grey.mean()), float(grey.std())


def _first_pass(
    source: Path, info: SourceInfo, size: tuple[int, int], pack_dir: Path, progress: ProgressFn,
    *, refusing: bool = False,
) -> _Pass1:  # fmt: skip
    """``refusing``: the footage will be refused anyway (no speech): look only at its start."""
    n_out = max(1, round(info.duration_s * info.fps))
    result = _Pass1(n_out)
    tracker = FaceTracker()
    sample_every = max(1, round(info.fps * 1.0))
    give_up_at = min(n_out // 3, 10 * info.fps)
    try:
        with VideoWriter(pack_dir / P.BASE_VIDEO, size, info.fps, preset="ultrafast") as writer:
            small = tracking_size(size)
            previous: np.ndarray | None = None
            for i, (yuv, rgb) in enumerate(iter_frames(source, info, size, small)):
                writer.write(yuv)
                thumb = frame_thumbnail(rgb)
                if previous is not None:
                    result.change[i] = float(np.abs(thumb - previous).mean())
                previous = thumb
                lm = tracker.landmarks(rgb, size)
                if lm is not None:
                    result.landmarks[i] = lm
                    result.valid[i] = True
                if i % sample_every == 0:
                    result.face_counts.append(tracker.count_faces(rgb))
                    if lm is not None:
                        luma, contrast = _face_light(rgb, lm * (small[0] / size[0]))
                        result.luma.append(luma)
                        result.contrast.append(contrast)
                result.n = i + 1
                if i == give_up_at and (refusing or not result.valid.any()):
                    break  # nobody in the first seconds: refuse now, not after 10 minutes
                if i % 10 == 0:
                    progress(0.55 * i / n_out)
    finally:
        tracker.close()
    result.landmarks = result.landmarks[: result.n]
    result.valid = result.valid[: result.n]
    result.change = result.change[: result.n]
    return result


def _check_faces(p1: _Pass1, size: tuple[int, int]) -> None:
    """Raise FootageError for footage a twin cannot be made from."""
    valid_frac = float(p1.valid.mean()) if p1.n else 0.0
    counts = np.array(p1.face_counts or [0])
    if valid_frac < 0.4:
        raise FootageError(
            "no_face",
            f"A face was found in only {valid_frac:.0%} of the footage. Record yourself facing the "
            "camera, face fully visible and well lit, for the whole recording, close enough that "
            "your face fills about a third of the frame height.",
        )
    if np.mean(counts >= 2) >= 0.3:
        raise FootageError(
            "multiple_faces",
            "More than one face is in the footage. Record only yourself, alone in the frame "
            "(no second person, photos of faces or screens showing people behind you).",
        )
    lm = p1.landmarks[p1.valid]
    iod = inter_ocular(lm)
    face_h = float(np.median(lm[:, :, 1].max(axis=1) - lm[:, :, 1].min(axis=1))) / size[1]
    if float(np.median(iod)) < MIN_IOD_PX or face_h < 0.08:
        raise FootageError(
            "face_too_small",
            f"The face is too small in the frame ({face_h:.0%} of its height). Sit closer to the "
            "camera so that your face fills about a third of the frame height.",
        )
    cut = float(mouth_outside(lm, size).mean())
    if cut >= MAX_MOUTH_CUT:
        raise FootageError(
            "mouth_cut_off",
            f"Your mouth is cut off by the edge of the frame in {cut:.0%} of the footage. Record "
            "with your whole face, chin included, inside the frame: hold the camera a little "
            "further away, or centre your face.",
        )
    if p1.luma and float(np.median(p1.luma)) < MIN_FACE_LUMA:
        raise FootageError(
            "too_dark",
            "The footage is too dark to see your face and mouth clearly. Record facing a window or "
            "a lamp, with the light behind the camera.",
        )


def _face_box(lm: np.ndarray, size: tuple[int, int]) -> tuple[int, int, int, int]:
    x0 = float(np.percentile(lm[:, :, 0].min(axis=1), 2))
    y0 = float(np.percentile(lm[:, :, 1].min(axis=1), 2))
    x1 = float(np.percentile(lm[:, :, 0].max(axis=1), 98))
    y1 = float(np.percentile(lm[:, :, 1].max(axis=1), 98))
    w, h = size
    return (max(0, int(x0)), max(0, int(y0)), min(w, int(np.ceil(x1))), min(h, int(np.ceil(y1))))


def _head_motion(lm: np.ndarray, valid: np.ndarray, fps: int) -> tuple[float, float]:
    """(median speed in IOD units per second, p5–p95 span in IOD units) of the stable points."""
    from twinstudio.twins.faces import STABLE

    pts = lm[valid][:, list(STABLE), :].mean(axis=1)
    iod = float(np.median(inter_ocular(lm[valid])))
    if len(pts) < 3 or iod <= 0:
        return 0.0, 0.0
    speed = float(np.median(np.linalg.norm(np.diff(pts, axis=0), axis=1))) * fps / iod
    span = np.percentile(pts, 95, axis=0) - np.percentile(pts, 5, axis=0)
    return speed, float(np.linalg.norm(span)) / iod


def train_video(
    source: Path,
    pack_dir: Path,
    *,
    matting: bool = False,
    transcript: str | None = None,
    progress: ProgressFn | None = None,
) -> TwinInfo:
    """Train a video twin into ``pack_dir`` (created if needed). See ``twinstudio.twins``."""
    report = progress or _noop
    info = without_borders(source, probe(source))
    audio, gain_db = levelled(read_audio(source, start_s=info.start_s) if info.has_audio else None)
    heard = check_speech(audio, gain_db)
    n_expected = max(1, round(info.duration_s * info.fps))
    pack_dir.mkdir(parents=True, exist_ok=True)
    # pocketsphinx runs beside the face tracker (both spend most of their time outside the GIL).
    pool = ThreadPoolExecutor(1, thread_name_prefix="twin-labels")
    try:
        labelling = pool.submit(
            label_frames, None if lacks_speech(heard) else audio, info.fps, n_expected,
            transcript, heard.voiced(n_expected, info.fps),
        )  # fmt: skip
        return _train_frames(source, pack_dir, info, audio, heard, labelling.result,
                             matting=matting, report=report)  # fmt: skip
    finally:
        # A refused footage does not wait for its labels: the thread ends on its own, writing
        # nothing to disk.
        pool.shutdown(wait=False, cancel_futures=True)


def _train_frames(
    source: Path, pack_dir: Path, info: SourceInfo, audio: np.ndarray | None, heard: SpeechCheck,
    labels_of: Callable[[], FrameLabels], *, matting: bool, report: ProgressFn,
) -> TwinInfo:  # fmt: skip
    import time

    import cv2

    clock = [time.perf_counter()]
    phases: dict[str, float] = {}

    def lap(name: str) -> None:
        now = time.perf_counter()
        phases[name] = round(now - clock[0], 2)
        clock[0] = now

    size = working_size(info.width, info.height)
    fps = info.fps
    p1 = _first_pass(source, info, size, pack_dir, report, refusing=lacks_speech(heard))
    _check_faces(p1, size)
    refuse_without_speech(heard)
    lap("track")
    valid = fill_gaps(p1.landmarks, p1.valid, max_gap=max(2, fps // 2))
    lm = smooth_track(p1.landmarks, valid, fps)
    n = p1.n
    # The descriptors (what the selection matches against the target) come from each frame's
    # *own* landmarks, not the smoothed track: the renderer pastes that frame's pixels, and the
    # smoothing (zero-lag One-Euro, tuned to steady the head) halves the mouth's frame-to-frame
    # motion, so a quick opening was stored as a half-open one. Filled gaps keep the smoothed
    # estimate. On the 10 dev clips' self-reconstruction: mean r 0.433 → 0.480, M-LMD 0.0414 →
    # 0.0403, |A/V offset| ≤ 1 on 8 of 9 measured clips instead of 5 of 7; with the first 30 %
    # of each clip held back instead of the last, r 0.250 → 0.258 (2026-12-03). Picked per
    # frame in the loop below (a whole-track copy would be another 27 MB for 2 minutes).
    eyes = eye_openness(lm)
    blinks = blink_frames(eyes, valid)

    geom = CropGeometry.fit(lm[valid], inter_ocular(lm[valid]))
    to_crop = np.zeros((n, 2, 3), np.float32)
    desc = np.zeros((n, len(DESCRIPTORS)), np.float32)
    sharp = np.zeros(n, np.float32)
    crop_origin = np.zeros((n, 2), np.int32)
    crops = MouthCropWriter(spool_dir=pack_dir)  # beside the pack: it can be ~1 GB
    bank_index: list[int] = []
    loop = plan_loop(lm, valid & ~picture_jumps(p1.change), fps, blinks=blinks)
    loop_start, loop_end = loop.start, loop.end
    preview_at = (loop_start + loop_end) // 2
    short = min(size)
    pv_scale = min(1.0, 480 / short)
    pv_size = (round(size[0] * pv_scale / 2) * 2, round(size[1] * pv_scale / 2) * 2)
    small = rendition_size(size)
    span = rendition_span((loop_start, loop_end), n, fps)
    rendition = RenditionWriter(pack_dir / P.BASE_SMALL, small, fps, span) if small else None
    with VideoWriter(pack_dir / P.PREVIEW_VIDEO, pv_size, fps, crf=26) as preview:
        for i, frame in enumerate(read_frames(pack_dir / P.BASE_VIDEO, convert=_as_is)):
            if i >= n:
                break
            rgb = frame.to_ndarray(format="rgb24")
            if rendition is not None:
                rendition.add(i, frame)
            if i < 4 * fps:
                preview.write(cv2.resize(rgb, pv_size, interpolation=cv2.INTER_LINEAR))
            if i == preview_at:
                cv2.imwrite(str(pack_dir / P.PREVIEW_IMAGE), rgb[:, :, ::-1],
                            [cv2.IMWRITE_JPEG_QUALITY, 90])  # fmt: skip
            if not valid[i]:
                continue
            m = frame_to_crop(geom, lm[i])
            to_crop[i] = m
            crop = cv2.warpAffine(rgb, m, geom.size, flags=cv2.INTER_LINEAR,
                                  borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
            lmc = apply_affine(m, p1.landmarks[i] if p1.valid[i] else lm[i])
            desc[i, :3] = shape_descriptors(geom.to_units(lmc))
            desc[i, 3] = teeth_score(crop, lmc)
            mouth = crop[crop.shape[0] // 3 :, crop.shape[1] // 4 : 3 * crop.shape[1] // 4]
            sharp[i] = sharpness(cv2.cvtColor(mouth, cv2.COLOR_RGB2GRAY))
            # Store the bank frame's pixels *unwarped* (an integer cut around the crop region): the
            # renderer then resamples them once, straight onto the base frame, which keeps teeth
            # and lips as sharp as the footage (two resamplings visibly soften them).
            corners = apply_affine(invert_affine(m), _CROP_CORNERS * np.array(geom.size))
            x0, y0 = np.maximum(np.floor(corners.min(axis=0)).astype(int), 0)
            x1, y1 = np.ceil(corners.max(axis=0)).astype(int)
            crops.add(rgb[y0:y1, x0:x1])
            crop_origin[i] = (x0, y0)
            bank_index.append(i)
            if i % 10 == 0:
                report(0.55 + 0.3 * i / n)
    crops.save(pack_dir / P.MOUTHS)
    if rendition is not None:
        span = (span[0], rendition.close())
    lap("bank")
    pose = head_pose(lm)
    P.save_arrays(
        pack_dir / P.TRACK,
        landmarks=lm.astype(np.float32),
        valid=valid,
        pose=pose,
        to_crop=to_crop,
        crop_origin=crop_origin,
        desc=desc,
        sharp=sharp,
        template=geom.template.astype(np.float32),
        bank_index=np.array(bank_index, np.int32),
        eye_open=eyes.astype(np.float32),
    )

    labels = labels_of()
    lap("labels_wait")
    phone = _fit_length(labels.phone, n)
    viseme = _fit_length(labels.viseme, n)
    voiced = heard.voiced(n, fps)
    P.save_arrays(pack_dir / P.LABELS, phone=phone, viseme=viseme, voiced=voiced)
    has_audio = audio is not None and float(np.sqrt(np.mean(audio**2))) > 1e-4
    audio_fit: dict[str, object] | None = None
    if has_audio and audio is not None:
        from twinstudio.twins.audio_model import fit_audio_model

        P.save_arrays(pack_dir / P.AUDIO, samples=audio, sample_rate=np.array(16000))
        audio_fit = fit_audio_model(audio, desc, valid, fps, pack_dir / P.AUDIO_MODEL,
                                    viseme=viseme if labels.source != "none" else None)  # fmt: skip
        if audio_fit is not None:
            audio_fit["reliable"] = not heard.noisy
    report(0.88)
    lap("audio_model")

    front: dict[str, int] | None = None
    if matting:
        from twinstudio.twins.front import bake_front
        from twinstudio.twins.matte import build_matte

        build_matte(pack_dir / P.BASE_VIDEO, pack_dir / P.MATTE,
                    lambda f: report(0.88 + 0.08 * f), plate_path=pack_dir / P.BACKDROP)  # fmt: skip
        if small:
            shrink_matte(pack_dir / P.MATTE, pack_dir / P.MATTE_SMALL, small, span, fps)
        lap("matte")
        written = bake_front(pack_dir, span, small, fps, lambda f: report(0.96 + 0.03 * f))
        front = {"first": span[0], "count": written}
        lap("front")
    else:
        lap("matte")
    v = valid
    face_box = _face_box(lm[v], size)
    iod = inter_ocular(lm[v])
    face_h = float(np.median(lm[v][:, :, 1].max(axis=1) - lm[v][:, :, 1].min(axis=1))) / size[1]
    head_speed, head_range = _head_motion(lm, v, fps)
    counts = viseme_counts(viseme, v)
    audio_r2 = None if audio_fit is None else float(audio_fit["r2"])  # type: ignore[arg-type]
    quality = quality_report(
        iod_px=float(np.median(iod)),
        face_height_frac=face_h,
        mouth_sharpness=float(np.median(sharp[v])),
        face_luma=float(np.median(p1.luma)) if p1.luma else 0.0,
        face_contrast=float(np.median(p1.contrast)) if p1.contrast else 0.0,
        opening=desc[v, 0],
        valid_frac=float(v.mean()),
        audio_r2=audio_r2,
        duration_s=n / fps,
        visemes=counts,
        labels_source=labels.source,
        head_speed=head_speed,
        head_range=head_range,
        speech=heard.report(),
        audio_model=audio_fit,
    )
    d = desc[v]
    meta = {
        "kind": "video",
        "width": size[0],
        "height": size[1],
        "fps": fps,
        "n_frames": n,
        "duration_s": round(n / fps, 3),
        "orientation": orientation_of(*size),
        "face_box": list(face_box),
        "matting": bool(matting),
        "has_audio": bool(has_audio),
        "crop": {"scale": geom.scale, "size": list(geom.size)},
        "loop": loop.as_meta(),
        "rendition": {"size": list(small), "first": span[0], "count": span[1]} if small else None,
        "front": front,
        "descriptors": list(DESCRIPTORS),
        # The person's own range of each descriptor: motion targets are scaled into it.
        "ranges": {
            name: {
                "p2": float(np.percentile(d[:, k], 2)),
                "p50": float(np.median(d[:, k])),
                "p98": float(np.percentile(d[:, k], 98)),
            }
            for k, name in enumerate(DESCRIPTORS)
        },
        "quality": quality,
        # Added in pack revision 2 (all optional for readers; see ``twins.pack``).
        "revision": P.PACK_REVISION,
        "labels": {**labels.meta(), "reliable": labels.source == "transcript" and not heard.noisy,
                   "viseme_frames": counts},
        "blinks": {"count": len(_runs(blinks)), "starts": [a for a, _ in _runs(blinks)]},
        "speech": heard.report(),
        "audio_model": audio_fit,
        # How the footage was coded ('BT.2020, limited range, HLG'): ``twins.colour``.
        "training": {"phases_s": phases, "footage_colour": info.colour.describe(),
                     "borders_cut": list(info.crop) if info.crop else None},
    }  # fmt: skip
    P.write_meta(pack_dir, meta)
    report(1.0)
    return TwinInfo(
        width=size[0],
        height=size[1],
        fps=fps,
        duration_s=round(n / fps, 3),
        n_frames=n,
        orientation=orientation_of(*size),
        face_box=face_box,
        preview_image=pack_dir / P.PREVIEW_IMAGE,
        preview_video=pack_dir / P.PREVIEW_VIDEO,
        matting=bool(matting),
        quality=quality,
        kind="video",
    )


def _as_is(frame: Any) -> Any:
    """``read_frames``' conversion that keeps the decoded ``av.VideoFrame``."""
    return frame


def _fit_length(arr: np.ndarray, n: int) -> np.ndarray:
    """``arr`` cut or padded (with its zero label, silence) to ``n`` entries."""
    out = np.zeros(n, arr.dtype)
    out[: min(n, len(arr))] = arr[:n]
    return out


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of every run of True."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(),
                    strict=True))  # fmt: skip
