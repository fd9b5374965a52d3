"""The twin pack: a folder of safe files (JSON, ``.npz`` without pickle, video, images).

```
pack_dir/
  meta.json        version, kind ("video" | "photo"), size, fps, frame count, face box,
                   crop geometry, base-loop points, descriptor ranges, quality report, ...
  base.mp4         video twins: the footage normalised (constant fps, ≤1080p, H.264, no audio)
  track.npz        per-frame arrays: landmarks (T,478,2) px, valid (T,), pose (T,3),
                   to_crop (T,2,3) image→crop affine, crop_origin (T,2) where each bank
                   cut starts in its frame, desc (T,4) descriptors of each frame's
                   own mouth (revision 6; see below), sharp (T,),
                   template (K,2) canonical stable points, bank_index (N,) frames in the bank
  mouths.npz       encoded bytes of the N bank cuts (lower face, unwarped): data, offsets (N+1,),
                   format (revision 3: "webp-lossless"; older packs: JPEG, no ``format`` key)
  audio.npz        samples (float32 mono), sample_rate (when the footage had sound)
  audio_model.npz  ridge weights audio features → mouth opening (when it had speech);
                   (revision 9) held_out_open (T,): each frame's opening, cross-validated
  labels.npz       (revision 2) per-frame labels from the footage's sound: phone (T,) int8 index
                   into meta["labels"]["phones"] (ARPAbet, 0 = SIL), viseme (T,) int8 index into
                   meta["labels"]["visemes"] (Oculus 15: sil PP FF TH DD kk CH SS nn RR aa E ih
                   oh ou), voiced (T,) bool (VAD)
  matte.mov        per-frame alpha of the person (when trained with matting; ``twins.matte``)
  backdrop.png     (revision 7) the backdrop behind the person, RGBA: colour and trust, small
                   (when trained with matting and enough of it was seen; ``twins.plate``)
  base_small.mp4   (revision 4) the loop ± 1 s again at 720 px on the short side, for 720p
  matte_small.mov  outputs (``twins.rendition``; footage with a short side ≥ 900 px); the matte's
                   the same frames, when trained with matting; meta["rendition"]: size, first, count
  base_front.mp4   (revision 8) the same frames as the rendition (the loop ± 1 s) with the person's
  base_front_small.mp4  colour found under the matte's soft edge, at the base's size and (with a
                   rendition) at the rendition's: what background-removal renders read
                   (``twins.front``; when trained with matting); meta["front"]: first, count
  image.png        photo twins: the still image (≤1080p)
  preview.jpg      a frame for the dashboard;  preview.mp4  a short small clip (video twins)
```
Readers check ``version`` and refuse a pack newer than they understand.

Revision 2 (same ``version``: it only adds, so older readers still read it) adds:
``labels.npz``; in ``track.npz`` ``eye_open`` (T,) eyelid gap in IOD units; in ``audio_model.npz``
``audio_weights``/``audio_mean``/``audio_std`` (MFCC ±100 ms → open, width, jaw) and, when the
footage was labelled, ``viseme_weights``/``viseme_mean``/``viseme_std`` (audio + viseme context),
with ``feature_kind`` (see ``twins.audio_model.predict_descriptors``); in ``meta.json``
``revision``, ``labels`` (source transcript|recognition|none, phones, visemes, reliable,
viseme_frames), ``blinks`` (count, starts), ``speech`` (VAD figures, ``noisy``) and
``audio_model`` (held-out R² and r, with and without visemes).

Revision 3 (same ``version``) stores the bank cuts in ``mouths.npz`` as lossless WebP instead of
JPEG, with a ``format`` entry; readers decode either (``twins.cuts.MouthCrops``), so packs of
every revision render, and an older reader with OpenCV's WebP decoder reads revision 3 too.

Revision 4 (same ``version``) adds the 720p rendition (``base_small.mp4``, ``matte_small.mkv``,
``meta["rendition"]``); a pack without it renders from the full base as before.

Revision 5 (same ``version``) stores the mattes as PNG frames in QuickTime, ``matte.mov`` and
``matte_small.mov``, instead of FFV1 in Matroska (``matte.mkv``, ``matte_small.mkv``): cheaper to
decode and exactly seekable (``twins.matte``). :meth:`TwinPack.file` and :meth:`TwinPack.has`
answer for the new names with the old files in older packs, which render as before; a reader
older than revision 5 does not see a newer pack's matte (it refuses background removal).

Revision 6 (same ``version``, same files) computes ``desc`` from each frame's own landmarks
rather than the smoothed track's (``landmarks`` stay smoothed: they place the paste): the
opening stored is the one the frame's pixels show. Older packs render as before, with their
smoothed descriptors; training again gives the better bank indexing.

Revision 7 (same ``version``) adds ``backdrop.png`` to packs trained with matting: the renderer
takes the filmed backdrop out of the matte's soft edge with it (``render.backdrop``). Older packs,
and readers that do not know the file, blend the edge as before.

Revision 8 (same ``version``) adds ``base_front.mp4`` (and ``base_front_small.mp4`` beside a
rendition) to packs trained with matting, and ``meta["front"]``: renders that remove the
background read them and unmix nothing (``twins.front``). Older packs unmix with the plate at
render time (``render.backdrop``); older readers ignore the files.

Revision 9 (same ``version``) adds ``held_out_open`` to ``audio_model.npz``: each footage frame's
opening predicted by the audio model fitted without its stretch of footage
(``twins.audio_model.held_out_opening``). The renderer judges from it whether this person's mouth
follows the sound where the recogniser hears a pause (``render.habits.pauses_from_footage``);
older packs render as before (their pauses kept).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from twinstudio.errors import RenderError

PACK_VERSION = 1
PACK_REVISION = 9  # additive changes within a version (older readers ignore what they don't know)
META = "meta.json"
BASE_VIDEO = "base.mp4"
TRACK = "track.npz"
MOUTHS = "mouths.npz"
AUDIO = "audio.npz"
AUDIO_MODEL = "audio_model.npz"
LABELS = "labels.npz"
MATTE = "matte.mov"
BASE_SMALL = "base_small.mp4"
MATTE_SMALL = "matte_small.mov"
BACKDROP = "backdrop.png"
BASE_FRONT = "base_front.mp4"
BASE_FRONT_SMALL = "base_front_small.mp4"
# Files of older revisions that stand for a current name when the pack has no file of that name.
LEGACY_NAMES = {MATTE: "matte.mkv", MATTE_SMALL: "matte_small.mkv"}
IMAGE = "image.png"
PREVIEW_IMAGE = "preview.jpg"
PREVIEW_VIDEO = "preview.mp4"


def write_meta(pack_dir: Path, meta: dict[str, Any]) -> None:
    """Write ``meta.json`` atomically (write then rename), stamping the format version."""
    meta = {"version": PACK_VERSION, **meta}
    tmp = pack_dir / (META + ".tmp")
    tmp.write_text(json.dumps(meta, indent=2, sort_keys=True))
    tmp.replace(pack_dir / META)


def save_arrays(path: Path, **arrays: np.ndarray) -> None:
    """Compressed ``.npz``; object arrays are refused so the file never needs pickle."""
    for name, arr in arrays.items():
        if np.asarray(arr).dtype == object:
            raise TypeError(f"{name}: object arrays are not allowed in a twin pack")
    np.savez_compressed(path, **arrays)  # type: ignore[arg-type]


def load_arrays(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


@dataclass(frozen=True)
class Rendition:
    """A smaller copy of base frames ``first .. first + count - 1`` (``twins.rendition``)."""

    size: tuple[int, int]
    first: int
    count: int

    def covers(self, first: int, last: int) -> bool:
        """Whether base frames ``first .. last`` (inclusive) are all in it."""
        return self.first <= first and last < self.first + self.count


@dataclass
class TwinPack:
    """A loaded pack: ``meta`` eagerly, arrays on first use."""

    path: Path
    meta: dict[str, Any]
    _track: dict[str, np.ndarray] | None = field(default=None, repr=False)

    @classmethod
    def open(cls, pack_dir: Path) -> TwinPack:
        meta_path = pack_dir / META
        if not meta_path.is_file():
            raise RenderError(
                "twin_not_ready", f"{pack_dir} is not a trained twin (no {META}); train it first."
            )
        meta = json.loads(meta_path.read_text())
        if int(meta.get("version", 0)) > PACK_VERSION:
            raise RenderError(
                "twin_pack_too_new",
                f"This twin was trained by a newer twinstudio (pack version {meta['version']}); "
                "upgrade this server or train the twin again.",
            )
        return cls(pack_dir, meta)

    @property
    def kind(self) -> str:
        return str(self.meta.get("kind", "video"))

    @property
    def fps(self) -> int:
        return int(self.meta["fps"])

    @property
    def size(self) -> tuple[int, int]:
        return int(self.meta["width"]), int(self.meta["height"])

    @property
    def face_box(self) -> tuple[int, int, int, int]:
        x0, y0, x1, y1 = self.meta["face_box"]
        return int(x0), int(y0), int(x1), int(y1)

    @property
    def track(self) -> dict[str, np.ndarray]:
        if self._track is None:
            self._track = load_arrays(self.path / TRACK)
        return self._track

    def rendition(self, with_matte: bool = False) -> Rendition | None:
        """The 720p rendition (``twins.rendition``) when the pack has one (and its matte, when
        ``with_matte``), else None."""
        info = self.meta.get("rendition")
        if not info or not self.has(BASE_SMALL) or (with_matte and not self.has(MATTE_SMALL)):
            return None
        w, h = info["size"]
        return Rendition((int(w), int(h)), int(info["first"]), int(info["count"]))

    def front(self, small: bool = False) -> Rendition | None:
        """The base frames with the person's colour found under the matte's edge
        (``twins.front``), at the base's size or (``small``) the rendition's, when the pack has
        them, else None."""
        info = self.meta.get("front")
        if not info or not self.has(BASE_FRONT_SMALL if small else BASE_FRONT):
            return None
        size = self.size
        if small:
            rendition = self.rendition(with_matte=True)
            if rendition is None:
                return None
            size = rendition.size
        return Rendition(size, int(info["first"]), int(info["count"]))

    def file(self, name: str) -> Path:
        """The path of the pack's file ``name``: an older revision's file standing for it
        (:data:`LEGACY_NAMES`) when only that exists."""
        path = self.path / name
        legacy = LEGACY_NAMES.get(name)
        if legacy is not None and not path.is_file() and (self.path / legacy).is_file():
            return self.path / legacy
        return path

    def has(self, name: str) -> bool:
        """Whether the pack has file ``name`` (or an older revision's file standing for it)."""
        return self.file(name).is_file()
