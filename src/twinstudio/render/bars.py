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

With the background removed (``person``: a static fill under a cover window that zoomed out)
the band is the background, but where the person reaches the picture's edge they go on into it,
continued the same way: their colour under their alpha and the alpha itself (premultiplied, so
the old backdrop's colours do not bleed in), then laid over the background. A square close-up at
9:16 over a colour showed the chest cut by a straight line above a band of that colour, a bust
floating in the frame (2026-12-07, HDTF clips at 1080p 9:16); now the shirt and hair run on, out
of focus, to the frame's edge. Where the person does not reach the edge (hair inside the top of
the picture) the alpha there is 0 and the band stays the background. In a transparent WebM the
band takes the same colours, with the outline as its alpha.

Every fill works on the I420 planes (``render.yuv``) at the output's size, in place.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from twinstudio.render import yuv

__all__ = ["BarFill", "bar_rects"]

Rect = tuple[int, int, int, int]

# Blurred bars: blur sigma in pixels of a ~48 px image; darken to this factor.
BLUR_SIGMA = 2.5
BLUR_DARKEN = 0.55
# Limited-range black (Y, U, V): under alpha 0 in transparent WebM bars, and what darkened bars
# fade towards, plane by plane.
_BLACK = yuv.colour_of((0, 0, 0))

# Extended bands (cover zoomed out), in output pixels at distance d from the picture's edge:
# blurred along the edge with sigma EXTEND_SIGMA + EXTEND_SPREAD·d, and faded towards black to
# EXTEND_FAR at EXTEND_FADE of the output's short side (and beyond).
EXTEND_SAMPLES = 96  # samples along a band's edge (its detail before the blur)
EXTEND_SIGMA = 2.0
EXTEND_SPREAD = 1.0
EXTEND_FAR = 0.75
EXTEND_FADE = 0.3
EXTEND_STRIP = 2  # the picture's edge strip averaged: this many samples deep
# The band reaches this far back into the picture (of the output's short side: 32 px at 1080p),
# cross-faded. On the dev clips' zoomed-out windows at 1080p the face box lies 120-460 px from a
# band, so the fade touches the chest, the wall or the hair, not the face; except where the
# footage's own edge cuts the face (a chin at the bottom of the frame: 13 px), and there a fade
# is gentler on it than a line.
EXTEND_OVERLAP = 0.03
# The person's outline in a band (``BarFill.person``) blurs along the edge far less than the
# colours do (sigma EXTEND_SIGMA + PERSON_SPREAD·d): blurred as much, a chest 360 px wide at
# 1080p spread into a brown haze over the whole 9:16 width 250 px down; so the outline goes on
# nearly as it meets the edge, filled with the colours' out-of-focus continuation.
PERSON_SPREAD = 0.15


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
        # The person continued into a static background's bands (see the module docstring).
        self.person = bool(person and style == "static" and self.rects)
        if style == "blurred" and self.rects:
            self._blur_maps = self._plan_blur()
        if style == "extended" or self.person:
            self._bands = [_Band(r, dest, out_size, person=self.person) for r in self.rects]

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
                    yuv.fill(out, box, _BLACK)
                else:
                    behind = yuv.box_planes(self._background, box)
                    for dst, src in zip(yuv.box_planes(out, box), behind, strict=True):
                        dst[...] = src

    def person_profiles(
        self, picture: np.ndarray, alpha: np.ndarray
    ) -> list[tuple[list[np.ndarray], np.ndarray]]:
        """For :meth:`fill_person`: each band's edge of the person, read from ``picture`` (I420)
        and its ``alpha`` (uint8) in the view (the picture before it is laid over anything;
        the view is what ``dest`` shows, at its own scale)."""
        return [band.person_profile(picture, alpha, self.dest) for band in self._bands]

    def fill_person(
        self,
        out: np.ndarray,
        profiles: list[tuple[list[np.ndarray], np.ndarray]],
        out_alpha: np.ndarray | None = None,
    ) -> None:
        """Continue the person into the bands of ``out`` (I420 at output size, bars already
        filled), from :meth:`person_profiles`: over the background, or, with none (a
        transparent WebM), into ``out_alpha`` (uint8 at output size) as well."""
        for band, (colour, alpha) in zip(self._bands, profiles, strict=True):
            band.fill_person(out, colour, alpha, self._background, out_alpha)

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
                small, alpha=BLUR_DARKEN, beta=_BLACK[index] * (1 - BLUR_DARKEN)
            )
            for (bx0, by0, bx1, by1), (sx0, sy0, sx1, sy1) in zip(self.rects, sources, strict=True):
                cv2.resize(
                    small[sy0:sy1, sx0:sx1],
                    ((bx1 - bx0) // f, (by1 - by0) // f),
                    dst=plane[by0 // f : by1 // f, bx0 // f : bx1 // f],
                    interpolation=cv2.INTER_LINEAR,
                )


class _Band:
    """One extended bar: the picture continued from the edge it shares with the bar.

    Worked in the band's own frame: ``along`` the shared edge and ``depth`` away from it. The
    picture's strip at the edge is shrunk to a profile of samples along the edge; one linear
    operator (made here, the same for every frame and plane) turns it into a small band of rows,
    each the profile blurred and faded for its distance, already lying as the bar does; the band
    is then enlarged into the bar. It reaches ``overlap`` pixels back into the picture, where it
    is cross-faded with the picture's own edge, so the sharp picture turns into the blurred band
    with no line.
    """

    def __init__(
        self, rect: Rect, dest: Rect, out_size: tuple[int, int], *, person: bool = False
    ) -> None:
        x0, y0, x1, y1 = rect
        dx0, dy0, dx1, dy1 = dest
        # Which side of the picture the bar lies on.
        if y1 <= dy0:
            self.side = "top"
        elif y0 >= dy1:
            self.side = "bottom"
        else:
            self.side = "left" if x1 <= dx0 else "right"
        horizontal = self.side in ("top", "bottom")
        along0, along1 = (x0, x1) if horizontal else (y0, y1)
        pic0, pic1 = (dx0, dx1) if horizontal else (dy0, dy1)
        depth = (y1 - y0) if horizontal else (x1 - x0)
        picture_depth = (dy1 - dy0) if horizontal else (dx1 - dx0)
        overlap = min(round(EXTEND_OVERLAP * min(out_size)), picture_depth // 2)
        self.overlap = max(0, overlap - overlap % 2)  # even
        length = along1 - along0
        n = max(2, min(EXTEND_SAMPLES, length // 2))
        step = length / n  # output pixels a sample
        self.n_picture = max(1, min(round((pic1 - pic0) / step), (pic1 - pic0) // 2))
        span = depth + self.overlap
        m = max(2, math.ceil(span / step))
        # The region the band is drawn in (the bar and the overlap), and the picture's strip at
        # the edge that it continues, in output pixels (even, so chroma halves them exactly).
        strip = max(2, 2 * math.ceil(EXTEND_STRIP * step / 2))
        ov = self.overlap
        if self.side == "top":
            self.region: Rect = (x0, y0, x1, y1 + ov)
            self.strip: Rect = (dx0, dy0, dx1, min(dy0 + strip, dy1))
        elif self.side == "bottom":
            self.region = (x0, y0 - ov, x1, y1)
            self.strip = (dx0, max(dy1 - strip, dy0), dx1, dy1)
        elif self.side == "left":
            self.region = (x0, y0, x1 + ov, y1)
            self.strip = (dx0, dy0, min(dx0 + strip, dx1), dy1)
        else:
            self.region = (x0 - ov, y0, x1, y1)
            self.strip = (max(dx1 - strip, dx0), dy0, dx1, dy1)
        # The picture's part of the overlap, along the edge (the rest of it is another bar).
        self.pic_along = (pic0 - along0, pic1 - along0)

        # Sample i of the band's edge (centre along0 + (i + ½)·step) reads the profile linearly,
        # held at the picture's ends (the corners beside it).
        centres = along0 + (np.arange(n) + 0.5) * step
        pic_step = (pic1 - pic0) / self.n_picture
        pos = np.clip((centres - pic0) / pic_step - 0.5, 0, self.n_picture - 1)
        lo_index = np.floor(pos).astype(int)
        hi_index = np.minimum(lo_index + 1, self.n_picture - 1)
        frac = pos - lo_index
        read = np.zeros((n, self.n_picture))
        np.add.at(read, (np.arange(n), lo_index), 1 - frac)
        np.add.at(read, (np.arange(n), hi_index), frac)

        # Row j (distance d from the edge, negative inside the overlap): the read profile blurred
        # along by a Gaussian of sigma(d) (weights renormalised at the ends) and faded towards
        # black by gain(d).
        distance = (np.arange(m) + 0.5) * span / m - self.overlap
        ahead = np.maximum(distance, 0.0)
        self.gain = 1 - (1 - EXTEND_FAR) * np.clip(ahead / (EXTEND_FADE * min(out_size)), 0, 1)
        index = np.arange(n)

        def blurred(spread: float, gain: np.ndarray) -> np.ndarray:
            rows = []
            for d, g in zip(ahead, gain, strict=True):
                sigma = (EXTEND_SIGMA + spread * d) / step
                w = np.exp(-0.5 * ((index[:, None] - index[None, :]) / sigma) ** 2)
                w /= w.sum(axis=1, keepdims=True)
                rows.append(g * (w @ read))
            return np.concatenate(rows).astype(np.float32)  # (m·n, n_picture)

        operator = blurred(EXTEND_SPREAD, self.gain)
        black = [np.repeat((1 - self.gain) * level, n) for level in _BLACK]
        # The band's samples, rows of depth (from inside the picture outwards) by columns along
        # the edge, turned once here to lie as the region does: the operator's rows are put in
        # that order, so each frame's product is already the turned band.
        order = np.arange(m * n).reshape(m, n)
        if self.side == "top":
            order = order[::-1]
        elif self.side == "left":
            order = order.T[:, ::-1]
        elif self.side == "right":
            order = order.T
        self.shape = order.shape
        self.operator = operator[order.ravel()]
        # For a person (``person_profile``): each sample's fade, which an alpha does not take,
        # and the outline's own, narrower blur.
        self._gain = np.repeat(self.gain, n)[order.ravel()].astype(np.float32)
        self._outline = (blurred(PERSON_SPREAD, np.ones_like(self.gain))[order.ravel()]
                         if person else None)  # fmt: skip
        # What each sample's fade adds of black, per plane (Y, U, V).
        self._black = [b[order.ravel()].astype(np.float32) for b in black]
        # Per plane scale (1: luma, 2: chroma): the region's size there, its part that is all
        # band, the overlap's part beside the picture, and the band's cross-fade weights over
        # that overlap (a smoothstep from 0 inside the picture to 1 at its edge).
        self._layout = {f: self._plan_overlap(f) for f in (1, 2)}

    def _plan_overlap(
        self, f: int
    ) -> tuple[tuple[int, int], tuple[slice, slice], tuple[slice, slice], np.ndarray]:
        rx0, ry0, rx1, ry1 = self.region
        h, w = ry1 // f - ry0 // f, rx1 // f - rx0 // f
        ov = self.overlap // f
        a0, a1 = (v // f for v in self.pic_along)
        ramp = _ramp(ov)
        bar: tuple[slice, slice]
        mix: tuple[slice, slice]
        if self.side == "bottom":
            bar, mix = np.s_[ov:, :], np.s_[:ov, a0:a1]
        elif self.side == "top":
            bar, mix, ramp = np.s_[: h - ov, :], np.s_[h - ov :, a0:a1], ramp[::-1]
        elif self.side == "right":
            bar, mix, ramp = np.s_[:, ov:], np.s_[a0:a1, :ov], ramp.T
        else:
            bar, mix, ramp = np.s_[:, : w - ov], np.s_[a0:a1, w - ov :], ramp.T[:, ::-1]
        return (w, h), bar, mix, ramp

    def profile(self, out: np.ndarray) -> list[np.ndarray]:
        """The picture's edge strip in ``out`` as a profile per plane (float32, n_picture)."""
        sx0, sy0, sx1, sy1 = self.strip
        size = (self.n_picture, 1) if self.side in ("top", "bottom") else (1, self.n_picture)
        profiles = []
        for index, plane in enumerate(yuv.planes(out)):
            f = 1 if index == 0 else 2
            strip = plane[sy0 // f : sy1 // f, sx0 // f : sx1 // f]
            shrunk = cv2.resize(strip, size, interpolation=cv2.INTER_AREA)
            profiles.append(shrunk.astype(np.float32).ravel())
        return profiles

    def person_profile(
        self, picture: np.ndarray, alpha: np.ndarray, dest: Rect
    ) -> tuple[list[np.ndarray], np.ndarray]:
        """The person at this band's edge of the view: per plane the colour times the alpha
        (0–1), and the alpha, each shrunk to a profile of ``n_picture`` samples along the edge."""
        ys, us, vs = yuv.planes(picture)
        vh, vw = ys.shape
        dx0, dy0, dx1, dy1 = dest
        horizontal = self.side in ("top", "bottom")
        # The strip's depth in view pixels, as deep as the output's strip (even: chroma halves it).
        out_depth = (
            (self.strip[3] - self.strip[1]) if horizontal else (self.strip[2] - self.strip[0])
        )
        scale = vh / max(1, dy1 - dy0) if horizontal else vw / max(1, dx1 - dx0)
        depth = max(2, 2 * math.ceil(out_depth * scale / 2))
        size = (self.n_picture, 1) if horizontal else (1, self.n_picture)
        edge = _person_strip(self.side, alpha, depth).astype(np.float32) * (1 / 255)
        half = cv2.resize(edge, (edge.shape[1] // 2, edge.shape[0] // 2),
                          interpolation=cv2.INTER_AREA)  # fmt: skip
        colour = []
        for plane, weight, f in ((ys, edge, 1), (us, half, 2), (vs, half, 2)):
            strip = _person_strip(self.side, plane, depth // f).astype(np.float32)
            colour.append(cv2.resize(strip * weight, size, interpolation=cv2.INTER_AREA).ravel())
        return colour, cv2.resize(edge, size, interpolation=cv2.INTER_AREA).ravel()

    def fill_person(
        self,
        out: np.ndarray,
        colour: list[np.ndarray],
        alpha: np.ndarray,
        background: np.ndarray | None,
        out_alpha: np.ndarray | None = None,
    ) -> None:
        """Lay the person's continuation (:meth:`person_profile`) over ``background`` in this
        bar of ``out``, or with no background write it and its outline into ``out_alpha``;
        cross-fading the overlap as :meth:`fill` does."""
        rx0, ry0, rx1, ry1 = self.region
        assert self._outline is not None, "a band made without person=True"
        if float(alpha.max()) < 0.5 / 255:  # the person does not reach this edge: background
            return
        # The colours' blur of the alpha (to un-premultiply them) and the outline's own; both
        # small (samples along the edge by rows of depth), enlarged once and laid over the
        # background by the matte's own blend (``yuv.blend_onto``).
        spread = np.maximum((self.operator @ alpha) / self._gain, 1e-3)
        outline = np.clip(self._outline @ alpha * 255 + 0.5, 0, 255).astype(np.uint8)
        drawn = yuv.new((rx1 - rx0, ry1 - ry0))
        for index, (plane, profile) in enumerate(zip(yuv.planes(drawn), colour, strict=True)):
            own = (self.operator @ profile) / spread + self._black[index]
            small = np.clip(own + 0.5, 0, 255).astype(np.uint8).reshape(self.shape)
            cv2.resize(small, plane.shape[::-1], dst=plane, interpolation=cv2.INTER_LINEAR)
        reach = cv2.resize(outline.reshape(self.shape), (rx1 - rx0, ry1 - ry0),
                           interpolation=cv2.INTER_LINEAR)  # fmt: skip
        layers = list(zip(yuv.planes(out), yuv.planes(drawn), (1, 2, 2), strict=True))
        if background is not None:
            yuv.blend_onto(drawn, reach, yuv.crop(background, self.region))
        elif out_alpha is not None:
            layers.append((out_alpha, reach, 1))
        for plane, mine, f in layers:
            self._lay(plane, mine, f)

    def fill(self, out: np.ndarray, profiles: list[np.ndarray]) -> None:
        """Fill this bar of ``out`` from ``profiles`` (:meth:`profile`, taken before any band
        was drawn), and cross-fade the overlap."""
        for index, (plane, profile) in enumerate(zip(yuv.planes(out), profiles, strict=True)):
            f = 1 if index == 0 else 2
            band = self.operator @ profile + self._black[index]
            small = np.clip(band + 0.5, 0, 255).astype(np.uint8).reshape(self.shape)
            self._lay(
                plane, cv2.resize(small, self._layout[f][0], interpolation=cv2.INTER_LINEAR), f
            )

    def _lay(self, plane: np.ndarray, drawn: np.ndarray, f: int) -> None:
        """Put ``drawn`` (the region at 1/``f`` scale) into ``plane``: the bar as it is, the
        overlap cross-faded with the picture's own edge."""
        rx0, ry0, rx1, ry1 = self.region
        _, bar, mix, ramp = self._layout[f]
        region = plane[ry0 // f : ry1 // f, rx0 // f : rx1 // f]
        region[bar] = drawn[bar]
        if self.overlap:
            mine = region[mix].astype(np.float32)
            mixed = mine + (drawn[mix] - mine) * ramp
            region[mix] = np.clip(mixed + 0.5, 0, 255).astype(np.uint8)


def _person_strip(side: str, plane: np.ndarray, depth: int) -> np.ndarray:
    """The ``depth`` rows (or columns) of ``plane`` at its ``side`` edge."""
    depth = max(1, min(depth, plane.shape[0] if side in ("top", "bottom") else plane.shape[1]))
    if side == "top":
        return plane[:depth]
    if side == "bottom":
        return plane[-depth:]
    return plane[:, :depth] if side == "left" else plane[:, -depth:]


def _ramp(length: int) -> np.ndarray:
    """Weights rising smoothly from near 0 to near 1 over ``length`` rows, as a column."""
    t = (np.arange(length, dtype=np.float32) + 0.5) / max(length, 1)
    return (t * t * (3 - 2 * t))[:, None]
