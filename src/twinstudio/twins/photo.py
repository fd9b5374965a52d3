"""Training a photo twin: one still portrait → a pack for the photo engine.

A still has no mouth bank: the photo engine warps lips and jaw and paints the inside of the mouth.
The pack holds the image (≤1080p), its landmarks and a *synthetic* descriptor range (a typical
speaker's opening, in the face's own inter-ocular units) so motion targets map the same way as for
video twins. The quality report says plainly that photo twins are the lower-quality option.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from twinstudio.errors import FootageError
from twinstudio.twins import pack as P
from twinstudio.twins.bank import normalise_similarity, shape_descriptors
from twinstudio.twins.faces import inter_ocular, mouth_outside, still_landmarks
from twinstudio.twins.ingest import working_size
from twinstudio.twins.quality import ramp
from twinstudio.twins.still import read_still
from twinstudio.twins.types import TwinInfo, orientation_of

PHOTO_FPS = 25
# A typical speaker's range of inner-lip opening (IOD units), when no footage shows the person's.
TYPICAL_OPEN_P98 = 0.26


def load_image(source: Path) -> np.ndarray:
    """RGB uint8 of an image file, in sRGB whatever its colour profile (``twins.still.read_still``);
    FootageError(not_an_image) when it cannot be read."""
    return read_still(source, what="portrait photo")


def train_photo(
    source: Path,
    pack_dir: Path,
    *,
    matting: bool = False,
    progress: Callable[[float], None] | None = None,
) -> TwinInfo:
    """Train a photo twin from the still image ``source`` into ``pack_dir``."""
    import cv2

    report = progress or (lambda _f: None)
    pack_dir.mkdir(parents=True, exist_ok=True)
    rgb = load_image(source)
    size = working_size(rgb.shape[1], rgb.shape[0])
    if size != (rgb.shape[1], rgb.shape[0]):
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    report(0.2)
    faces = still_landmarks(rgb)
    if not faces:
        raise FootageError(
            "no_face",
            "No face was found in the photo. Use a well-lit, front-facing portrait with the whole "
            "face visible (no sunglasses or mask), filling at least a third of its height.",
        )
    iods = [float(inter_ocular(f)) for f in faces]
    if sum(1 for v in iods if v > 0.4 * max(iods)) > 1:
        raise FootageError(
            "multiple_faces", "More than one face is in the photo. Use a portrait of one person."
        )
    lm = faces[int(np.argmax(iods))]
    iod = max(iods)
    face_h = float(lm[:, 1].max() - lm[:, 1].min()) / size[1]
    if iod < 22 or face_h < 0.08:
        raise FootageError(
            "face_too_small",
            "The face is too small in the photo. Use a portrait where the face fills at least a "
            "third of the picture's height.",
        )
    if mouth_outside(lm, size):
        raise FootageError(
            "mouth_cut_off",
            "The mouth is cut off by the edge of the photo. Use a portrait with the whole face, "
            "chin included, inside the picture.",
        )
    x0, y0 = np.maximum(lm.min(axis=0).astype(int), 0)
    x1, y1 = lm.max(axis=0).astype(int)
    face = rgb[y0:y1, x0:x1].mean(axis=2)
    luma, contrast = float(face.mean()), float(face.std())
    if luma < 40:
        raise FootageError(
            "too_dark", "The photo is too dark to see the face. Use a brighter, well-lit portrait."
        )
    report(0.6)
    cv2.imwrite(str(pack_dir / P.IMAGE), rgb[:, :, ::-1])
    cv2.imwrite(str(pack_dir / P.PREVIEW_IMAGE), rgb[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 90])
    desc = shape_descriptors(normalise_similarity(lm[None].astype(np.float64)))[0]
    P.save_arrays(pack_dir / P.TRACK, landmarks=lm[None].astype(np.float32),
                  valid=np.ones(1, bool))  # fmt: skip
    if matting:
        from twinstudio.twins.matte import Matter, write_matte
        from twinstudio.twins.plate import PlateBuilder

        matter = Matter()
        try:
            alpha = matter.alpha(rgb)
        finally:
            matter.close()
        write_matte(pack_dir / P.MATTE, [alpha], fps=PHOTO_FPS)
        plate = PlateBuilder(size)
        plate.add(rgb, alpha)
        plate.save(pack_dir / P.BACKDROP)
    face_box = (int(x0), int(y0), min(size[0], int(x1)), min(size[1], int(y1)))
    quality = {
        "face_size": {"iod_px": round(iod, 1), "face_height_frac": round(face_h, 3),
                      "score": round(ramp(iod, 20, 90))},
        "lighting": {"face_luma": round(luma, 1), "face_contrast": round(contrast, 1),
                     "score": round(min(ramp(luma, 35, 90), ramp(luma, 250, 200)))},
        "overall": round(min(60.0, 0.6 * ramp(iod, 20, 90))),
        "engine": "photo",
        "advice": ["Photo twins synthesise the mouth and are lower quality; for a realistic twin, "
                   "record 1 to 2 minutes of yourself talking to the camera."],
    }  # fmt: skip
    width0 = float(desc[1])
    meta = {
        "kind": "photo",
        "width": size[0],
        "height": size[1],
        "fps": PHOTO_FPS,
        "n_frames": 1,
        "duration_s": 0.0,
        "orientation": orientation_of(*size),
        "face_box": list(face_box),
        "matting": bool(matting),
        "has_audio": False,
        "descriptors": ["open", "width", "jaw"],
        "ranges": {
            "open": {"p2": 0.0, "p50": 0.08, "p98": TYPICAL_OPEN_P98},
            "width": {"p2": 0.8 * width0, "p50": width0, "p98": 1.12 * width0},
            "jaw": {
                "p2": float(desc[2]),
                "p50": float(desc[2]) + 0.05,
                "p98": float(desc[2]) + 0.2,
            },
        },
        "photo": {"open_px": float(desc[0] * iod), "iod_px": iod},
        "quality": quality,
    }
    P.write_meta(pack_dir, meta)
    report(1.0)
    return TwinInfo(
        width=size[0], height=size[1], fps=PHOTO_FPS, duration_s=0.0, n_frames=1,
        orientation=orientation_of(*size), face_box=face_box,
        preview_image=pack_dir / P.PREVIEW_IMAGE, preview_video=None, matting=bool(matting),
        quality=quality, kind="photo",
    )  # fmt: skip
