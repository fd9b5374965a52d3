"""Previews of a render: the JPEG thumbnail and the animated GIF.

Both are made from the frames the encoder gets (I420 pictures, with their alpha when the video is
transparent, or RGB/RGBA arrays); what is transparent is shown over a neutral grey, since neither
format carries the video's alpha here.

The GIF codes only what changed (``_FrameCoder``). It used to code every pixel of every frame:
Floyd–Steinberg dithering scatters its dots anew on each frame, so even a still background
changed everywhere and shimmered. Previews of the seed request's script (3.64 s), rendered
before → after (2026-12-06, `/tmp` script, twins trained on whole dev clips): the demo photo
at 1080p 2.66 → 0.70 MB (its MP4: 0.77 MB); ed_markey 720p 3.34 → 1.31 MB; blue_backdrop
1080p 9:16 1.99 → 0.68 MB; pcavs 1080p 3.12 → 1.43 MB. It costs a little less CPU, not more:
the demo's 31 frames 0.36 → 0.29 CPU s (best of seven; frames 0.24 → 0.22 s, the file 0.12 →
0.07 s), 83 frames of ed_markey 0.80 → 0.79 s; render times did not move beyond the machine's
noise.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from twinstudio.render import yuv

__all__ = ["GifWriter", "make_thumbnail"]

# Neutral grey behind transparent pixels in thumbnails and GIFs (which have no alpha here).
PREVIEW_BACKDROP = (128, 128, 128)
# A GIF pixel is coded again once its picture is this far (levels of any channel) from what the
# GIF shows there; below it, the frame before shows through (``_FrameCoder``).
CHANGE_LEVELS = 8
TRANSPARENT = 255  # the palette index left free for "unchanged"


def opaque_rgb(frame: np.ndarray | yuv.AlphaPicture) -> np.ndarray:
    """RGB for previews: I420 pictures converted, transparent frames over a neutral grey."""
    alpha: np.ndarray | None = None
    if isinstance(frame, yuv.AlphaPicture):
        rgb, alpha = yuv.to_rgb(frame.picture), frame.alpha
    else:
        rgb = yuv.as_rgb(frame)
        if rgb.ndim == 3 and rgb.shape[2] == 4:
            alpha = rgb[:, :, 3]
    if alpha is not None:
        weight = alpha[:, :, None].astype(np.uint16)
        backdrop = np.array(PREVIEW_BACKDROP, np.uint16)
        over = (rgb[:, :, :3] * weight + backdrop * (255 - weight) + 127) // 255
        return over.astype(np.uint8)
    return rgb[:, :, :3] if rgb.ndim == 3 else rgb


def make_thumbnail(frame: np.ndarray | yuv.AlphaPicture, path: Path, *, quality: int = 90) -> Path:
    """Write ``frame`` (an I420 picture, with or without alpha, or RGB or RGBA uint8) as a JPEG
    thumbnail at full size (what is transparent over a neutral grey)."""
    image = Image.fromarray(np.ascontiguousarray(opaque_rgb(frame)))
    image.save(Path(path), format="JPEG", quality=quality, optimize=True, subsampling="4:2:0")
    return Path(path)


class GifWriter:
    """An animated GIF preview, collected incrementally from the frames being encoded.

    Keeps every ``every_n``-th frame, downscaled so that its longer side is ``side`` (480×270
    for 16:9, 270×480 for 9:16: a portrait preview 480 wide was 854 tall, 3.2x the pixels; its
    dithering to the palette took 5.7 ms a frame on an idle core against 1.8 ms at 270×480, and
    the preview ~1.7 s of a 720p 9:16 render's compositing thread beside x264, py-spy,
    2026-12-04), for at most ``seconds`` of video, and writes the GIF as soon as it has them all
    (``done``), so a render does not carry its preview to the end. Each kept frame is reduced to
    the GIF's palette as it comes (one byte a pixel), so nothing bigger than one small RGB frame
    (and the picture the GIF shows, ``_FrameCoder``) is ever held. I420 pictures (the MP4 path)
    are shrunk plane by plane before any conversion, never converted at full size. ``close``
    writes what was kept when the video ended before the limit. Frames after the limit are
    ignored cheaply.
    """

    def __init__(
        self,
        path: Path,
        every_n: int = 3,
        side: int = 480,
        *,
        fps: float = 25.0,
        seconds: float = 4.0,
    ) -> None:
        self.path = Path(path)
        self.every_n = max(1, int(every_n))
        self.side = int(side) + int(side) % 2  # even, for I420
        self.fps = float(fps)
        self.max_frames = max(1, int(seconds * fps / self.every_n))
        self.done = False
        self._seen = 0
        self._frames: list[Image.Image] = []
        self._coder: _FrameCoder | None = None
        self._shrink: yuv.PictureResizer | None = None

    @property
    def full(self) -> bool:
        return self.done or len(self._frames) >= self.max_frames

    def add(self, frame: np.ndarray | yuv.AlphaPicture) -> None:
        """Take ``frame`` into the preview if it is one it keeps (``frame`` itself is not held)."""
        index = self._seen
        self._seen += 1
        if index % self.every_n or self.full:
            return
        small = self._small_rgb(frame)
        self._coder = self._coder or _FrameCoder(small)
        self._frames.append(self._coder.code(small))
        if len(self._frames) >= self.max_frames:
            self._write()

    def close(self) -> Path | None:
        """Write the GIF if it is not written yet; returns its path, or None when no frame was
        added."""
        if not self.done and self._frames:
            self._write()
        return self.path if self.done else None

    def _size(self, w: int, h: int) -> tuple[int, int]:
        """The preview's size for a ``w`` × ``h`` frame: its longer side ``side``, the other
        even."""
        if h > w:
            return max(2, 2 * round(w * self.side / h / 2)), self.side
        return self.side, max(2, 2 * round(h * self.side / w / 2))

    def _small_rgb(self, frame: np.ndarray | yuv.AlphaPicture) -> np.ndarray:
        if isinstance(frame, yuv.AlphaPicture):  # shrunk first, then laid over grey
            small = self._small_rgb(frame.picture)
            h, w = small.shape[:2]
            alpha = cv2.resize(frame.alpha, (w, h), interpolation=cv2.INTER_AREA)
            return opaque_rgb(np.dstack([small, alpha]))
        if yuv.is_picture(frame):
            w, h = yuv.size_of(frame)
            size = self._size(w, h)
            if self._shrink is None or self._shrink.dsize != size:
                self._shrink = yuv.PictureResizer((w, h), size)
            small = yuv.new(size)
            self._shrink(frame, yuv.planes(small))
            return yuv.to_rgb(small)
        rgb = opaque_rgb(frame)
        h, w = rgb.shape[:2]
        return cv2.resize(rgb, self._size(w, h), interpolation=cv2.INTER_AREA)

    def _write(self) -> None:
        images, self._frames = self._frames, []
        # Pillow's ``optimize`` (each frame's unused palette entries dropped) cost ~50 ms of the
        # seed request's preview and made the file larger, not smaller. Pillow crops each frame
        # after the first to the box of what differs from the one before.
        images[0].save(
            self.path,
            format="GIF",
            save_all=True,
            append_images=images[1:],
            duration=round(1000 * self.every_n / self.fps),
            loop=0,
            disposal=1,
            transparency=TRANSPARENT,
        )
        self.done = True


class _FrameCoder:
    """Shrunk RGB frames → the GIF's palette images, each after the first holding only what
    changed.

    The palette is the first frame's (fast octree, 255 colours: ~10 ms where median cut took
    ~0.5 s, with no visible difference on talking-head previews); index ``TRANSPARENT`` is left
    free. Every frame is dithered in full (Floyd–Steinberg), then each pixel whose picture is
    within ``CHANGE_LEVELS`` of what the GIF already shows there becomes ``TRANSPARENT``: the
    frame before shows through (disposal 1). Comparing with what is *shown*, not with the frame
    before, bounds how far a slowly drifting pixel can lag; the change is measured on the
    picture, not on the dithered dots (a pixel's dot differs from frame to frame even where the
    picture does not).
    """

    def __init__(self, first: np.ndarray) -> None:
        self.palette = Image.fromarray(first).quantize(
            colors=TRANSPARENT, method=Image.Quantize.FASTOCTREE
        )
        self.shown: np.ndarray | None = None

    def code(self, small: np.ndarray) -> Image.Image:
        image = Image.fromarray(small).quantize(
            palette=self.palette, dither=Image.Dither.FLOYDSTEINBERG
        )
        if self.shown is None:
            self.shown = small.copy()
            return image
        diff = cv2.absdiff(small, self.shown)
        largest = np.maximum(np.maximum(diff[:, :, 0], diff[:, :, 1]), diff[:, :, 2])
        # 255 where the picture changed, 0 where it did not; and the other way round.
        _, changed = cv2.threshold(largest, CHANGE_LEVELS - 1, 255, cv2.THRESH_BINARY)
        cv2.copyTo(small, changed, self.shown)
        unchanged = cv2.bitwise_not(changed)
        # TRANSPARENT is 255, the largest index: the maximum writes it where nothing changed.
        image.frombytes(cv2.max(np.asarray(image), unchanged).tobytes())
        return image
