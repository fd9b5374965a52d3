"""Bars: the parts of an output frame that the picture does not cover, filled once per frame.

The compositor (``render.compose``) places the picture in its destination box
(``render.framing``); whatever lies outside it is a bar, filled in one of three ways:

``static``     the video's background at output size (a colour, an image, the studio gradient),
               or black under alpha 0 in a transparent WebM.
``blurred``    ``fit: contain`` without a background: a blurred, darkened, enlarged copy of the
               frame (far nicer than black bars, and it follows the person). Letterboxing is the
               look asked for there, so the bars read as bars.
``extended``   ``fit: cover`` whose window zoomed out round a big face (a square close-up at 9:16:
               a band under the chest, or one over the head, sometimes a few lines thin). Cover
               promises a full frame, and a blurred copy of a different part of the picture,
               meeting it at a hard edge, looked like a bar, or for a thin one like a glitch
               (2026-12-07, HDTF clips at 9:16). Each band instead continues the picture from
               its edge: the mean of the picture's outermost lines, blurred along the edge more
               the further from it, and fading a quarter of the way to black (a vignette), as an
               out-of-focus continuation of the shirt or the wall. At the edge it has the
               picture's colours, so no line shows. (Fading to half made a white backdrop's side
               bands mid-grey at the frame's edges.)

Each band is a ``render.band.Band``. With the background removed (``person``: a static fill
under a cover window that zoomed out, or round a ``contain`` picture) the band is the
background, but where the person reaches the picture's edge they go on into it
(``render.continuation``), continued as the picture is though not faded: their colour under
their alpha and the alpha itself (premultiplied, so the old backdrop's colours do not bleed in),
then laid over the background. A square close-up at
9:16 over a colour showed the chest cut by a straight line above a band of that colour, a bust
floating in the frame (2026-12-07, HDTF clips at 1080p 9:16); now the shirt and hair run on, out
of focus, to the frame's edge. Where the person does not reach the edge (hair inside the top of
the picture) the alpha there is 0 and the band stays the background. In a transparent WebM the
band takes the same colours, with the outline as its alpha.

Under ``contain`` with the background removed the picture stands on the frame's bottom edge
(``render.framing``), and footage that is narrower than the frame (a phone's portrait video at
16:9) cuts the person's shoulders at its sides: the jacket ended in two vertical lines, a
cut-out rectangle standing on the frame (2026-12-08, the portrait blazer clip at 720p 16:9 over a
colour). The side bands continue the person there too, but a shoulder does not go on level: the
continuation *falls* outwards. Where the person reaches the side edge in a
run that stands on the picture's bottom, the slope of that run's top near the edge (at least
``SHOULDER_SLOPE_MIN``) is carried on, steepening with distance as a shoulder turns into an arm
(``SHOULDER_BEND``), so the shoulder runs down out of the frame, out of focus, instead of ending
in a line. Over the picture, a head the footage's top cuts does not rise on as a column of
hair into a deep bar: it closes over in a dome (2026-12-08).

Every fill works on the I420 planes (``render.yuv``) at the output's size, in place.
"""

from __future__ import annotations

import cv2
import numpy as np

from twinstudio.render import yuv
from twinstudio.render.band import BLACK, Band, Rect
from twinstudio.render.continuation import PERSON_KEEP, PersonBand

__all__ = ["BarFill", "bar_rects"]

# Blurred bars: blur sigma in pixels of a ~48 px image; darken to this factor.
BLUR_SIGMA = 2.5
BLUR_DARKEN = 0.55


def bar_rects(out_size: tuple[int, int], dest: Rect) -> list[Rect]:
    """The parts of the output outside ``dest`` as (x0, y0, x1, y1) rectangles: a top and a
    bottom bar across the whole width, and left and right ones beside the picture."""
    ow, oh = out_size
    x0, y0, x1, y1 = dest
    rects = [(0, 0, ow, y0), (0, y1, ow, oh), (0, y0, x0, y1), (x1, y0, ow, y1)]
    return [r for r in rects if r[2] > r[0] and r[3] > r[1]]


class BarFill:
    """Fills the bars of every output frame of one video.

    ``style``: "static" (``background``, an I420 picture at output size, or black when None),
    "blurred" or "extended"; see the module docstring. ``dest`` is where the picture lies (even).
    """

    def __init__(
        self,
        out_size: tuple[int, int],
        dest: Rect,
        style: str,
        background: np.ndarray | None = None,
        *,
        person: bool = False,
    ) -> None:
        if style not in ("static", "blurred", "extended"):
            raise ValueError(f"unknown bar style {style!r}")
        self.out_size = out_size
        self.dest = dest
        self.style = style
        self.rects = bar_rects(out_size, dest)
        self._background = background
        if style == "blurred" and self.rects:
            self._blur_maps = self._plan_blur()
        self._bands = [Band(r, dest, out_size) for r in self.rects] if style == "extended" else []
        # ``person``: the person continued into a static background's bands (see the module
        # docstring).
        people = self.rects if person and style == "static" else []
        self._people = [PersonBand(r, dest, out_size) for r in people]
        self.person = bool(self._people)

    def fill(self, out: np.ndarray) -> None:
        """Fill the bars of ``out`` (I420 at output size, the picture already in ``dest``)."""
        if not self.rects:
            return
        if self.style == "blurred":
            self._fill_blurred(out)
        elif self.style == "extended":
            profiles = [band.profile(out) for band in self._bands]
            for band, profile in zip(self._bands, profiles, strict=True):
                band.fill(out, profile)
        else:
            for box in self.rects:
                if self._background is None:  # transparent: black under alpha 0
                    yuv.fill(out, box, BLACK)
                else:
                    behind = yuv.box_planes(self._background, box)
                    for dst, src in zip(yuv.box_planes(out, box), behind, strict=True):
                        dst[...] = src

    def person_bands(
        self,
        picture: np.ndarray,
        alpha: np.ndarray,
        source: int | None = None,
        changed: tuple[int, int, int, int] | None = None,
    ) -> list[np.ndarray | None]:
        """For :meth:`fill_person`: each band's continuation of the person (small; None where
        they do not reach its edge), read from ``picture`` (I420) and its ``alpha`` (uint8) in
        the view (the picture before it is laid over anything; the view is what ``dest``
        shows, at its own scale). ``source``: the footage frame they show outside ``changed``
        (a view box, as ``Compositor.compose_placed`` takes it): a band whose edge that box
        does not touch is made once per footage frame and kept (``PERSON_KEEP``)."""
        bands = []
        for band in self._people:
            key = None if band.reads(changed, alpha.shape) else source
            if key is not None and key in band.kept:
                bands.append(band.kept[key])
                continue
            made = band.person_band(picture, alpha, self.dest)
            if key is not None and len(band.kept) < PERSON_KEEP:
                band.kept[key] = made
            bands.append(made)
        return bands

    def fill_person(
        self,
        out: np.ndarray,
        bands: list[np.ndarray | None],
        out_alpha: np.ndarray | None = None,
    ) -> None:
        """Continue the person into the bands of ``out`` (I420 at output size, bars already
        filled), from :meth:`person_bands`: over the background, or, with none (a
        transparent WebM), into ``out_alpha`` (uint8 at output size) as well."""
        for band, small in zip(self._people, bands, strict=True):
            if small is not None:
                band.fill_person(out, small, self._background, out_alpha)

    # ------------------------------------------------------------------ blurred copy

    def _plan_blur(self) -> tuple[int, tuple[int, int], list[Rect]]:
        """Blurred bars: shrink the placed picture by an even factor (so its chroma planes shrink
        by an integer one), cover it over the output (centred), and note for each bar rectangle
        the part of that small image that lands there. Per frame each bar is then one small
        upscale per plane (warpAffine is ~10x slower here)."""
        ow, oh = self.out_size
        dx0, dy0, dx1, dy1 = self.dest
        pw, ph = dx1 - dx0, dy1 - dy0
        k = max(2, min(pw, ph) // 96 * 2)  # about 48 px on the short side: the blur is cheap there
        sw, sh = max(1, pw // k), max(1, ph // k)
        scale = max(ow / sw, oh / sh)
        cx, cy = (sw - ow / scale) / 2, (sh - oh / scale) / 2
        sources = []
        for x0, y0, x1, y1 in self.rects:
            sx0 = min(max(round(cx + x0 / scale), 0), sw - 1)
            sy0 = min(max(round(cy + y0 / scale), 0), sh - 1)
            sx1 = min(max(round(cx + x1 / scale), sx0 + 1), sw)
            sy1 = min(max(round(cy + y1 / scale), sy0 + 1), sh)
            sources.append((sx0, sy0, sx1, sy1))
        return k, (sw, sh), sources

    def _fill_blurred(self, out: np.ndarray) -> None:
        k, (sw, sh), sources = self._blur_maps
        dx0, dy0, _, _ = self.dest
        for index, plane in enumerate(yuv.planes(out)):
            f = 1 if index == 0 else 2  # chroma planes: half the pixels each way
            kk, x0, y0 = k // f, dx0 // f, dy0 // f
            picture = plane[y0 : y0 + sh * kk, x0 : x0 + sw * kk]
            small = cv2.resize(picture, (sw, sh), interpolation=cv2.INTER_AREA)
            small = cv2.GaussianBlur(small, (0, 0), BLUR_SIGMA)
            # Darken towards black: Y 16, chroma 128 (limited range).
            small = cv2.convertScaleAbs(
                small, alpha=BLUR_DARKEN, beta=BLACK[index] * (1 - BLUR_DARKEN)
            )
            for (bx0, by0, bx1, by1), (sx0, sy0, sx1, sy1) in zip(self.rects, sources, strict=True):
                cv2.resize(
                    small[sy0:sy1, sx0:sx1],
                    ((bx1 - bx0) // f, (by1 - by0) // f),
                    dst=plane[by0 // f : by1 // f, bx0 // f : bx1 // f],
                    interpolation=cv2.INTER_LINEAR,
                )
