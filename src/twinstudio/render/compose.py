"""Composition: one picture in the view (+ optional alpha) in, one output frame out.

A :class:`Compositor` is built once per video. Everything that does not change from frame to frame
(the framing, ``render.framing``; the background and its part behind the picture; the resizers)
is decided in ``__init__``, so :meth:`Compositor.compose_placed` costs one resize plus, when
matting, one blend. Frames are I420 pictures (``render.yuv``) from the engine to the encoder;
an RGB picture (the photo engine's) is converted once, at view size.

Bars (``contain``, or a cover window zoomed out round a big face) are the chosen background colour
or image; without one, made from the frame itself (``render.bars``): for ``contain`` a blurred,
darkened, enlarged copy, for ``cover`` the picture continued out of focus from its edge. With
``remove_background`` and no background, a neutral studio-grey gradient. With the background
removed, under ``cover`` the person goes on into a band where the footage's edge cuts them (the
chest, under a band below), and under ``contain`` the picture stands on the frame's bottom edge
(``render.framing``) with the shoulders its sides cut falling away into the bars beside it.

Matting (``remove_background`` with an alpha)
    The alpha comes feathered (a 3x3 blur that softens stair-stepped mask edges, applied where it
    is placed in the view: ``View.place_alpha``, in the engine's decoding thread), then the
    person is blended over the background, each plane with its alpha, into the handed-over
    picture itself (``yuv.blend_onto``: dense fixed-point SIMD inside the person's box, the
    background copied, or its flat colour filled, outside it). When the background is smooth (a
    colour or the studio gradient) the blend happens *in the view* and the composite is resized
    once: resizing is linear and its weights sum to one, so for a flat colour this is exactly the
    blend at output size (for the gradient, which barely changes over a pixel,
    indistinguishable), for one resize instead of two. Image backgrounds are blended at output
    size, where the image's own detail is. WebM output with no explicit background is
    transparent: the picture with the person's alpha (``yuv.AlphaPicture``). With an explicit
    background the WebM frame is the composite, fully opaque. The soft edge's pixels show the
    person's own colour, without the old backdrop's share, on every one of these paths: read so
    from the pack's front videos (``fronts``, ``twins.front``: the engine decodes them instead of
    the base), or, for a pack trained before them, unmixed here with its plate of the backdrop
    (``plate``, ``twins.plate``; ``render.backdrop``).

Output: an I420 picture, or for a transparent WebM a ``yuv.AlphaPicture`` (the picture and its
alpha), which the VP9-with-alpha encoder takes plane by plane.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from twinstudio.errors import FootageError, RenderError
from twinstudio.render import yuv
from twinstudio.render.backdrop import Backdrop, unmix
from twinstudio.render.bars import BarFill
from twinstudio.render.framing import View, _even_box, _make_view, plan_frame
from twinstudio.render.reuse import Box, KeptBlends, kept_or_made
from twinstudio.render.types import RenderOptions, output_size
from twinstudio.twins.still import read_still

__all__ = ["Compositor", "parse_color", "studio_background"]


def parse_color(color: str) -> tuple[int, int, int]:
    """ "#RRGGBB" (or "RRGGBB", or "#RGB") → (r, g, b); raises RenderError on anything else."""
    text = color.strip().lstrip("#")
    if len(text) == 3:
        text = "".join(ch * 2 for ch in text)
    try:
        if len(text) != 6:
            raise ValueError(text)
        value = int(text, 16)
    except ValueError:
        raise RenderError(
            "invalid_background",
            f"Background colour {color!r} is not a hex colour; use the form #RRGGBB, e.g. #1A2B3C.",
        ) from None
    return (value >> 16) & 255, (value >> 8) & 255, value & 255


def studio_background(size: tuple[int, int]) -> np.ndarray:
    """A neutral studio-grey backdrop: lighter behind the head, falling off to the edges."""
    width, height = size
    ys = (np.arange(height, dtype=np.float32) / max(height - 1, 1))[:, None]
    xs = (np.arange(width, dtype=np.float32) / max(width - 1, 1))[None, :]
    # A soft elliptical light centred a bit above the middle, plus a gentle top-to-bottom falloff.
    aspect = width / max(height, 1)
    dx = (xs - 0.5) * min(aspect, 1.8)
    dy = ys - 0.38
    radial = np.exp(-(dx * dx + dy * dy) / 0.35)
    level = 78.0 + 70.0 * radial - 18.0 * ys
    grey = np.clip(level, 0, 255)
    # A slightly cool neutral, the way studio paper photographs.
    rgb = np.stack([grey * 0.985, grey * 0.995, grey * 1.02], axis=-1)
    # Dither by a fraction of a level so the gradient does not band after 8-bit encoding.
    noise = np.random.default_rng(7).uniform(-0.5, 0.5, size=(height, width, 1)).astype(np.float32)
    return np.clip(rgb + noise + 0.5, 0, 255).astype(np.uint8)


def _cover_resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Scale ``image`` to cover ``size`` (w, h) and centre-crop it."""
    width, height = size
    ih, iw = image.shape[:2]
    scale = max(width / iw, height / ih)
    cw, ch = min(iw, round(width / scale)), min(ih, round(height / scale))
    x0, y0 = (iw - cw) // 2, (ih - ch) // 2
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(image[y0 : y0 + ch, x0 : x0 + cw], (width, height), interpolation=interp)


def _load_image(path: object, size: tuple[int, int]) -> np.ndarray:
    """The background image at ``path`` in sRGB (its own colour profile applied, transparency on
    white: ``twins.still``), covering ``size``; RenderError(invalid_background) if unreadable."""
    try:
        rgb = read_still(Path(str(path)), what="background image")
    except FootageError as exc:
        raise RenderError("invalid_background", exc.message) from exc
    return _cover_resize(rgb, size)


class Compositor:
    """Frames, mattes and backgrounds the frames of one video; see the module docstring."""

    def __init__(
        self,
        src_size: tuple[int, int],
        face_box: tuple[int, int, int, int],
        options: RenderOptions,
        *,
        rendition: tuple[int, int] | None = None,
        keep: int = 0,
        plate: np.ndarray | None = None,
        fronts: frozenset[str] = frozenset(),
    ) -> None:
        """``rendition``: the size of the pack's smaller copy of its footage, when it has one
        (``twins.rendition``): a view at or below that scale is placed from it. ``keep``: how
        many footage frames the video can show (``baseloop.frames_used``), when its frames
        say which one they are: their matte blends are then kept and reused
        (``render.reuse``). ``plate``: the pack's backdrop (``twins.plate``), taken out of the
        matte's soft edge when matting. ``fronts``: the view sources ("base", "rendition") for
        which the pack has front videos (``twins.front``): a matting render whose view is placed
        from one reads them and unmixes nothing (the plate is not used)."""
        if options.resolution not in ("720p", "1080p", "4k") or options.aspect_ratio not in (
            "16:9",
            "9:16",
        ):
            raise RenderError(
                "invalid_output",
                f"Unsupported output {options.resolution} {options.aspect_ratio}; "
                "use 720p/1080p/4k and 16:9 or 9:16.",
            )
        if src_size[0] < 2 or src_size[1] < 2:
            raise RenderError("invalid_source", f"Source size {src_size} is too small to render.")
        self.options = options
        self.src_size = (int(src_size[0]), int(src_size[1]))
        self._out_size = output_size(options.resolution, options.aspect_ratio)
        self.plan = plan_frame(self.src_size, face_box, self._out_size, options.fit,
                               standing=options.remove_background)  # fmt: skip

        dx0, dy0, dx1, dy1 = self.plan.dest
        dest_size = (dx1 - dx0, dy1 - dy0)
        self.view: View = _make_view(self.plan.crop, dest_size, self.src_size, rendition)
        # View → destination: nothing left to do when the view is already at the output scale.
        self._resize = yuv.PictureResizer(self.view.size, dest_size)
        self._resize_alpha = yuv.Resizer(self.view.size, dest_size)
        self._matting = options.remove_background
        self._backdrop: Backdrop | None = None
        if self._matting and self.view.source in fronts:
            self.view = replace(self.view, front=True)
        elif self._matting and plate is not None:
            source = rendition if self.view.source == "rendition" and rendition else src_size
            self._backdrop = Backdrop.place(plate, self.view, (int(source[0]), int(source[1])))
        self._webm = options.output_format == "webm"
        # WebM with alpha and no explicit background: transparent output.
        self._transparent = self._webm and self._matting and options.background is None
        colour = options.background.color if options.background is not None else None
        # The background colour as (Y, U, V), when it is one (a bad one is refused here)
        self._colour = yuv.colour_of(parse_color(colour)) if colour is not None else None
        self._background = self._make_background()  # I420 at output size, or None
        # Bars with no background: the frame's own, made per frame (``render.bars``).
        own = self._background is None and not self._transparent
        style = ("blurred" if options.fit == "contain" else "extended") if own else "static"
        # Where the footage's edge cuts the person (a cover window that zoomed out round a big
        # face; contain's sides and top) they go on into the band over the background
        # (``render.bars``), not cut by a line.
        self._bars = BarFill(self._out_size, self.plan.dest, style, self._background,
                             person=self._matting)  # fmt: skip
        self._behind: np.ndarray | None = None  # the background behind the picture (dest)
        self._behind_view: np.ndarray | None = None  # the same at view size, when smooth
        self._flat: tuple[int, int, int] | None = None  # its (Y, U, V) when a flat colour
        if self._matting and self._background is not None:
            self._behind = yuv.crop(self._background, self.plan.dest)
            smooth = options.background is None or options.background.image_path is None
            if smooth:
                self._behind_view = yuv.PictureResizer(dest_size, self.view.size)(self._behind)
                self._flat = self._colour
        # Blends kept by footage frame (``render.reuse``): for a matte over a smooth background,
        # blended in the view.
        reuse = keep > 0 and self._behind_view is not None
        self._kept = KeptBlends(keep) if reuse else None
        # Elsewhere (over an image, transparent WebM) every frame is blended afresh, but its
        # unmixed picture is kept the same way: unmixing costs about twice the blend.
        unmixed = keep > 0 and self._backdrop is not None and self._behind_view is None
        self._kept_unmixed = KeptBlends(keep) if unmixed else None

    def close(self) -> None:
        """Drop the kept blends (their temporary file)."""
        if self._kept is not None:
            self._kept.close()
        if self._kept_unmixed is not None:
            self._kept_unmixed.close()

    @property
    def out_size(self) -> tuple[int, int]:
        """(width, height) of the output frames."""
        return self._out_size

    @property
    def transparent(self) -> bool:
        """True when the output frames carry an alpha (a WebM with the background removed and
        none given in its place); every other output is opaque."""
        return self._transparent

    # ------------------------------------------------------------------ setup

    def _make_background(self) -> np.ndarray | None:
        """The static background at output size (I420), or None when there is none: blurred
        bars, or a transparent WebM."""
        background = self.options.background
        if self._transparent:
            return None
        if background is not None and background.image_path is not None:
            return yuv.from_rgb(_load_image(background.image_path, self._out_size))
        if self._colour is not None:
            out = yuv.new(self._out_size)
            yuv.fill(out, (0, 0, *self._out_size), self._colour)
            return out
        if self._matting:
            return yuv.from_rgb(studio_background(self._out_size))
        return None

    # ------------------------------------------------------------------ per frame

    def compose(
        self, rgb: np.ndarray, alpha: np.ndarray | None = None
    ) -> np.ndarray | yuv.AlphaPicture:
        """One output frame from a whole source frame (RGB uint8 (H, W, 3)): the same as
        ``compose_placed(view.place(rgb), view.place(alpha))``."""
        sw, sh = self.src_size
        if rgb.ndim != 3 or rgb.shape[:2] != (sh, sw) or rgb.shape[2] < 3:
            raise RenderError(
                "frame_size_mismatch",
                f"Frame of shape {rgb.shape} does not match the source size {sw}x{sh}.",
            )
        if alpha is not None and alpha.shape[:2] != (sh, sw):
            raise RenderError(
                "frame_size_mismatch",
                f"Alpha of shape {alpha.shape} does not match the source size {sw}x{sh}.",
            )
        placed_alpha = self.view.place_alpha(alpha) if alpha is not None and self._matting else None
        return self.compose_placed(self.view.place(rgb[:, :, :3]), placed_alpha)

    def compose_placed(
        self,
        picture: np.ndarray,
        alpha: np.ndarray | None = None,
        *,
        source: int | None = None,
        changed: Box | None = None,
    ) -> np.ndarray | yuv.AlphaPicture:
        """One output frame from a picture already in the view (:attr:`view`, as engines draw
        when given it): I420, or RGB (converted here); ``alpha`` in the view too. Returns I420,
        or a ``yuv.AlphaPicture`` for a transparent WebM. An I420 picture is handed over: when
        the output is the picture unchanged, it is returned itself, not copied. ``alpha`` is feathered, as
        ``View.place_alpha`` gives it.

        ``source``: the footage frame the picture (and alpha) show everywhere outside
        ``changed`` (a box of the view; None: nowhere), as ``SyncedFrame`` says; with ``keep``
        a matte blended in the view is then made from that frame's kept blend
        (``render.reuse``)."""
        vw, vh = self.view.size
        if yuv.is_picture(picture):
            ok = picture.shape == (vh * 3 // 2, vw)
        else:
            ok = picture.ndim == 3 and picture.shape[:2] == (vh, vw)
            if ok:
                picture = yuv.from_rgb(np.ascontiguousarray(picture[:, :, :3]))
        if not ok or (alpha is not None and alpha.shape[:2] != (vh, vw)):
            raise RenderError(
                "frame_size_mismatch",
                f"Picture of shape {picture.shape} does not match the view {vw}x{vh}.",
            )
        out_alpha: np.ndarray | None = None
        if self._matting and alpha is not None:
            # Read before the blend, which may lay the picture over the background in place.
            person = (
                self._bars.person_bands(picture, alpha, source, changed)
                if self._bars.person
                else None
            )
            out, out_alpha = self._blend(picture, alpha, source, changed)
            if person is not None:
                self._bars.fill_person(out, person, out_alpha)
        else:
            out = self._place(picture)
        return self._finish(out, out_alpha)

    def _place(self, picture: np.ndarray) -> np.ndarray:
        """``picture`` (view) resized into the destination, bars filled."""
        if self.plan.full:
            return self._resize(picture)
        out = yuv.new(self._out_size)
        self._resize(picture, dst=yuv.box_planes(out, self.plan.dest))
        self._bars.fill(out)
        return out

    def _blend(
        self,
        picture: np.ndarray,
        alpha: np.ndarray,
        source: int | None = None,
        changed: Box | None = None,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Person over background (or, transparent, the person and the alpha to carry); the
        alpha comes feathered (``View.place_alpha``). ``source``/``changed``: see
        :meth:`compose_placed`."""
        if self._backdrop is not None and self._behind_view is None:  # (else: in the view)
            picture = self._unmixed(picture, alpha, source, changed)
        if self._transparent:
            out_alpha = np.zeros((self._out_size[1], self._out_size[0]), np.uint8)
            dx0, dy0, dx1, dy1 = self.plan.dest
            self._resize_alpha(alpha, dst=out_alpha[dy0:dy1, dx0:dx1])
            return self._place(picture), out_alpha
        if self._behind_view is not None:  # blend in the view, in place; resize once
            return self._place(self._blend_in_view(picture, alpha, source, changed)), None
        assert self._behind is not None and self._background is not None
        placed = self._resize(picture)  # the picture itself at the same size: handed over
        composite = yuv.blend_onto(placed, self._resize_alpha(alpha), self._behind)
        if self.plan.full:
            return composite, None
        out = self._background.copy()
        for dst, src in zip(
            yuv.box_planes(out, self.plan.dest), yuv.planes(composite), strict=True
        ):
            dst[...] = src
        return out, None

    def _unmixed(
        self, picture: np.ndarray, alpha: np.ndarray, source: int | None, changed: Box | None
    ) -> np.ndarray:
        """``picture`` with its soft pixels unmixed (``render.backdrop``): whole, and kept, the
        first time footage frame ``source`` is shown; after that the kept copy with only the
        boxes that changed unmixed again (the same pixels: unmixing a box is exact)."""

        def whole() -> np.ndarray:
            unmix(picture, alpha, self._backdrop)
            return picture

        def part(box: Box) -> tuple[np.ndarray, ...]:
            return yuv.planes(self._unmixed_window(picture, alpha, box))

        return kept_or_made(self._kept_unmixed, source, changed, whole, part, self._even)

    def _blend_in_view(
        self, picture: np.ndarray, alpha: np.ndarray, source: int | None, changed: Box | None
    ) -> np.ndarray:
        """``picture`` over the background in the view: blended whole, or, when footage frame
        ``source`` was blended before, its kept blend with only the boxes blended again."""
        behind = self._behind_view
        assert behind is not None

        def whole() -> np.ndarray:
            unmix(picture, alpha, self._backdrop)  # (nothing without a plate)
            return yuv.blend_onto(picture, alpha, behind, self._flat)

        def part(box: Box) -> tuple[np.ndarray, ...]:
            x0, y0, x1, y1 = box
            window = self._unmixed_window(picture, alpha, box)
            yuv.blend_onto(window, alpha[y0:y1, x0:x1], yuv.crop(behind, box), self._flat)
            return yuv.planes(window)

        return kept_or_made(self._kept, source, changed, whole, part, self._even)

    def _unmixed_window(self, picture: np.ndarray, alpha: np.ndarray, box: Box) -> np.ndarray:
        """``box`` (even) of ``picture`` as a new picture, unmixed (as unmixing the whole
        picture gives there)."""
        x0, y0, x1, y1 = box
        window = yuv.crop(picture, box)
        if self._backdrop is not None:
            unmix(window, alpha[y0:y1, x0:x1], self._backdrop.crop(box))
        return window

    def _even(self, box: Box) -> Box:
        """``box`` made even inside the view (a chroma sample covers 2x2 pixels)."""
        return _even_box(box, self.view.size)

    def _finish(self, out: np.ndarray, alpha: np.ndarray | None) -> np.ndarray | yuv.AlphaPicture:
        """The encoder's frame: I420, with its alpha when the WebM is transparent.

        WebM frames used to go to the encoder as RGBA (I420 → RGB, stacked with the alpha), to
        be converted back by swscale there: 21 + 8 ms a 1080p frame on the 2 cores, where
        handing over the planes costs 0.6 ms (2026-12-06)."""
        if self._transparent and alpha is not None:
            return yuv.AlphaPicture(out, alpha)
        return out
