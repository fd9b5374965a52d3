"""The loop's crossfades: at each jump back of the base loop, the frame that would have followed in
the footage is morphed into the loop frame over ~0.2 s (``baseloop.crossfades``), so there is no
jump, and no double face as a plain dissolve would show.

:class:`LoopMorph` moves both frames to an in-between head position (one affine each, on the
stable face points), moves brows and eyelids to their in-between shape (``_expression_flow``),
meets what the affine cannot align half way along a dense optical flow (:class:`Residual`), and
dissolves. The sample engine (``render.lipsync.sample``) pastes the mouth on the morph, where the
loop frame's face has moved to, and along the same residual flow. :class:`Partners` decodes the
partner frames once per render and keeps each morph for the jumps after the first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import cv2
import numpy as np

from twinstudio.render import yuv
from twinstudio.render.baseloop import base_frames, crossfade_partners, matte_frames
from twinstudio.render.framestore import FrameStore, KeptFrames
from twinstudio.render.framing import View
from twinstudio.twins import pack as P
from twinstudio.twins.bank import apply_affine, compose_affine, fit_affine, invert_affine
from twinstudio.twins.faces import STABLE
from twinstudio.twins.loop import EXPRESSION

if TYPE_CHECKING:
    from twinstudio.render.lipsync.sample import Paster


class Partners:
    """The footage frames (and mattes) that loop-point crossfades fade with: the same few
    frames at every jump, so they are decoded once, on first use, and kept in a frame store
    (``KeptFrames``): they are read only until the first jump's fades are morphed.

    So are the morphs themselves (:meth:`morph`): a loop frame and its partner morph the same
    way at every jump back (same frames, same weight), before any mouth is pasted, so each is
    morphed once and read back from a frame store at later jumps; the mouth is then pasted on
    the morph, where the loop frame's face has moved to (``LoopMorph.to_view``, then along the
    residual flow kept around the face: ``LoopMorph.residual``). Morphing two
    pasted frames at every jump (two mouths pasted, four warps of whole pictures and mattes) took
    ~10 % of the compositing thread's time in a 720p render (py-spy, 2026-12-02).
    """

    def __init__(
        self,
        pack: P.TwinPack,
        with_alpha: bool,
        view: View,
        place_alpha: Callable[[np.ndarray], np.ndarray],
        paster: Paster,
    ) -> None:
        wanted = crossfade_partners(pack)
        keys = wanted.tolist()

        # Read only until every fade is morphed (the first jump), so kept off the process's
        # memory: a loop's 15 partner frames are 45 MB at 1080p, their mattes 30 MB more.
        def pictures() -> Iterable[tuple[int, np.ndarray]]:
            return zip(keys, base_frames(pack, wanted, view), strict=False)

        def mattes() -> Iterable[tuple[int, np.ndarray]]:
            alphas = matte_frames(pack, wanted, view.source, place=place_alpha)
            return zip(keys, alphas, strict=False)

        self.pictures = KeptFrames(pictures, len(keys))
        self.alphas = KeptFrames(mattes, len(keys)) if with_alpha else None
        self.paster = paster
        self._fades: dict[tuple[int, int, float], tuple[int, LoopMorph]] = {}
        self._morphed = FrameStore(2 * len(wanted) + 2)  # more than one loop's fades
        self._morphed_alpha = FrameStore(2 * len(wanted) + 2)

    def morph(
        self, b: int, p: int, w: float, base: np.ndarray, alpha: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray | None, LoopMorph]:
        """Loop frame ``b`` (``base``, ``alpha``) morphed with partner ``p`` at weight ``w``:
        a fresh picture (the caller pastes on it), its alpha, and the morph's geometry."""
        key = (b, p, round(w, 6))
        known = self._fades.get(key)
        if known is None:
            known = self._fades[key] = (len(self._fades), LoopMorph.in_view(self.paster, b, p, w))
        slot, fade = known
        residual = None  # lives only while this fade frame is first morphed
        if self._morphed.covers(slot, 1):
            picture = self._morphed.get(slot)
        else:
            picture, residual = fade.pictures(base, self.pictures.get(p))
            self._morphed.put(slot, picture)  # before the mouth is pasted on it
            if residual is not None:
                fade.residual = Residual(residual, yuv.size_of(picture), fade.face_box, -w)
        if alpha is not None and self.alphas is not None and p in self.alphas:
            if self._morphed_alpha.covers(slot, 1):
                alpha = self._morphed_alpha.get(slot)
            else:
                alpha = fade.alphas(alpha, self.alphas.get(p), residual)
                self._morphed_alpha.put(slot, alpha)
        return picture, alpha, fade

    def close(self) -> None:
        self.pictures.close()
        if self.alphas is not None:
            self.alphas.close()
        self._morphed.close()
        self._morphed_alpha.close()


# The flow that moves brows and eyelids at a loop crossfade: Gaussian weights of this share of
# the distance between the eyes' outer corners (~1.3 inter-ocular distances) around each point,
# on a grid of this many px (then resized).
FLOW_SIGMA_SPAN = 0.18
FLOW_STEP = 4

Flow = tuple[tuple[int, int, int, int], np.ndarray, np.ndarray]


def _expression_flow(
    targets: np.ndarray, offsets: np.ndarray, anchors: np.ndarray, span: float
) -> Flow | None:
    """A backward flow (box, fx, fy) that fetches the pixel at each ``targets`` point from
    ``targets + offsets`` and leaves the ``anchors`` (and everything ~3 sigma away) in place:
    normalised Gaussian weights, with a constant that lets the flow fade out far from every
    point; ``span`` (px) is the distance between the eyes' outer corners. None when nothing
    moves by a tenth of a pixel."""
    finite = np.isfinite(targets).all() and np.isfinite(offsets).all() and np.isfinite(span)
    if not len(targets) or not finite or float(np.abs(offsets).max()) < 0.1 or span <= 0:
        return None
    sigma = FLOW_SIGMA_SPAN * span
    lo = np.floor((targets.min(axis=0) - 3 * sigma) / 2).astype(int) * 2
    hi = np.ceil((targets.max(axis=0) + 3 * sigma) / 2).astype(int) * 2
    xs = np.arange(lo[0], hi[0], FLOW_STEP, dtype=np.float64)
    ys = np.arange(lo[1], hi[1], FLOW_STEP, dtype=np.float64)
    points = np.vstack([targets, anchors])
    values = np.vstack([offsets, np.zeros_like(anchors)])
    d2 = (xs[None, :, None] - points[None, None, :, 0]) ** 2 + (
        ys[:, None, None] - points[None, None, :, 1]
    ) ** 2
    g = np.exp(-d2 / (2 * sigma * sigma))
    norm = g.sum(axis=-1) + np.exp(-2.0)  # far from every point the flow fades to 0
    size = (int(hi[0] - lo[0]), int(hi[1] - lo[1]))
    fx = cv2.resize((g @ values[:, 0] / norm).astype(np.float32), size)
    fy = cv2.resize((g @ values[:, 1] / norm).astype(np.float32), size)
    return (int(lo[0]), int(lo[1]), int(hi[0]), int(hi[1])), fx, fy


# The residual flow of a loop crossfade: DIS optical flow on the lumas shrunk to at most
# RESIDUAL_PIXELS, a 1080p picture at a quarter of its size (the two aligned frames differ by
# a few px; the flow is smoothed so that it moves regions, not single pixels), applied in
# bands of rows so that its maps never exist for a whole 1080p picture at once. Where it stays under RESIDUAL_MIN_PX (95th percentile of its
# length) the two frames already agree and it is not applied. At half size with DIS's
# "medium" preset it cost a 1080p render 1.8 s of the compositing thread (15 fade frames)
# and 58 MB more at its peak; at a quarter with "fast", the hair and background of
# katie_hill's jump still show one outline.
#
# The flow stays at its small size and each band of rows is brought to full size only when
# it is applied (:func:`_flow_band`: the bilinear values ``cv2.resize`` of the whole gives,
# within a few hundredths of a px; see there). Brought to full size at once it was 16.6 MB
# at 1080p, held through both pictures' moves and the matte's, and with the bands' maps it set a 1080p render's peak:
# fades are morphed the first time each comes round (then kept), so in the first seconds,
# while both of the speech's decoders run (2026-12-05).
#
# A quarter of every picture's size, before 2026-12-06, left a 512-px view's flow 128 px
# across: katie_hill's nostrils (~12 px) were 3 px to it, and through the fade of her jump,
# where her head turns, they showed twice (four dark blobs in one frame). Shrunk by the smallest
# whole factor that fits the budget, a 512-px view's flow is made at half size (1280 × 720 at
# a third, 1080p at a quarter as before).
RESIDUAL_PIXELS = 480 * 270
RESIDUAL_SMOOTH_PX = 1.5  # at the flow's own scale
RESIDUAL_MIN_PX = 0.75
RESIDUAL_BAND = 256  # rows


def _residual_scale(w: int, h: int) -> int:
    """The smallest whole factor that shrinks a ``w`` × ``h`` plane to ``RESIDUAL_PIXELS``."""
    scale = 1
    while (w // scale) * (h // scale) > RESIDUAL_PIXELS:
        scale += 1
    return scale


def _residual_size(w: int, h: int) -> tuple[int, int]:
    """The (w, h) at which the residual flow of two ``w`` × ``h`` planes is made and kept."""
    scale = _residual_scale(w, h)
    return max(8, w // scale), max(8, h // scale)


def _residual_flow(
    a: np.ndarray, b: np.ndarray, face: tuple[float, float, float, float] | None = None
) -> np.ndarray | None:
    """Dense flow from luma plane ``a`` to ``b`` at ``_residual_size``, (h', w', 2) float32
    in full-size luma px: a(x) ≈ b(x + flow(x)) (:func:`_flow_band` brings rows of it to full
    size). None when the two already agree (see ``RESIDUAL_MIN_PX``) over the whole picture
    and over ``face`` (a box, px), if given: a face that fills a twentieth of the picture or
    less could move with the rest still, and was then left unaligned."""
    h, w = a.shape
    small = _residual_size(w, h)
    a_s = cv2.resize(a, small, interpolation=cv2.INTER_AREA)
    b_s = cv2.resize(b, small, interpolation=cv2.INTER_AREA)
    dis = cv2.DISOpticalFlow.create(cv2.DISOpticalFlow_PRESET_FAST)
    flow = dis.calc(a_s, b_s, np.zeros((small[1], small[0], 2), np.float32))
    to_full = np.array([w / small[0], h / small[1]], np.float32)  # flow px → full-size px
    flow = np.asarray(cv2.GaussianBlur(flow, (0, 0), RESIDUAL_SMOOTH_PX), np.float32) * to_full
    if not np.isfinite(flow).all():
        return None
    length = np.sqrt((flow * flow).sum(axis=-1))
    moved = float(np.percentile(length, 95))
    if face is not None:  # the box in flow px (np.round halves to even, as round does)
        box = np.asarray(face, np.float64) / np.tile(to_full.astype(np.float64), 2)
        x0, y0, x1, y1 = np.round(box).astype(int).clip(0)
        inside = length[y0:y1, x0:x1]
        if inside.size:
            moved = max(moved, float(np.percentile(inside, 95)))
    if moved < RESIDUAL_MIN_PX:
        return None
    return flow


class Residual:
    """A loop fade's residual flow around the face, kept for the mouths pasted on its morph.

    The morph moves the loop frame's picture ``share`` (−w) of the way along the residual flow
    (:meth:`LoopMorph.pictures`), but a mouth is pasted on the morph afterwards, placed by the
    face's affine alone. Where the flow is large (a head turned between the two frames of a
    jump: sadtalker_hdtf_katie_hill_8s), the pasted lower face then sat a few pixels off the
    morph's, and its cheek showed a second outline of the face for a frame or two. So the paste
    (its pixels and its alpha) is moved along the same flow. Only the flow's part around the
    face is kept (``face_box``, view px): its quarter-size whole would be ~1 MB a fade frame at
    1080p, for the render's length."""

    def __init__(
        self, flow: np.ndarray, size: tuple[int, int], face_box: tuple[float, ...], share: float
    ) -> None:
        fh, fw = flow.shape[:2]
        self.scale = (fw / size[0], fh / size[1])  # view px → flow px
        x0, y0, x1, y1 = face_box
        qx0 = int(np.clip(np.floor(x0 * self.scale[0]) - 1, 0, fw - 1))
        qy0 = int(np.clip(np.floor(y0 * self.scale[1]) - 1, 0, fh - 1))
        qx1 = int(np.clip(np.ceil(x1 * self.scale[0]) + 2, qx0 + 1, fw))
        qy1 = int(np.clip(np.ceil(y1 * self.scale[1]) + 2, qy0 + 1, fh))
        self.flow = flow[qy0:qy1, qx0:qx1].copy()
        self.origin = (qx0, qy0)
        self.share = share
        longest = float(np.sqrt((self.flow * self.flow).sum(axis=-1)).max())
        self.reach = int(np.ceil(abs(share) * longest))  # px a pasted pixel can move

    def displacement(self, box: tuple[int, int, int, int]) -> np.ndarray:
        """(h, w, 2) float32: how far each view pixel of ``box`` fetches from (luma px)."""
        return _flow_box(self.flow, self.scale, box, self.origin) * np.float32(self.share)

    def move(
        self, box: tuple[int, int, int, int], luma: np.ndarray, chroma: np.ndarray,
        alpha: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
        """A paste's luma and alpha (box size) and chroma (half size, 2 channels) moved along
        the flow as the morph moved the loop frame: out(x) = in(x + share · flow(x))."""
        d = self.displacement(box)
        map_x, map_y = yuv.fetch_maps(d[..., 0], d[..., 1])
        luma = cv2.remap(luma, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        alpha = cv2.remap(alpha, map_x, map_y, cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=(0,))  # fmt: skip
        hw, hh = chroma.shape[1], chroma.shape[0]
        half = np.asarray(cv2.resize(d, (hw, hh), interpolation=cv2.INTER_AREA), np.float32)
        half *= np.float32(0.5)  # chroma px
        cx, cy = yuv.fetch_maps(half[..., 0], half[..., 1])
        chroma = cv2.remap(chroma, cx, cy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        return luma, chroma, alpha


def _flow_band(flow: np.ndarray, size: tuple[int, int], y0: int, y1: int) -> np.ndarray:
    """Rows ``y0:y1`` of ``flow`` (any size) bilinearly resized to ``size`` (w, h), as rows
    ``y0:y1`` of ``cv2.resize(flow, size)`` (half-pixel centres, edges held), without the rest.

    One affine warp: its coordinates are fixed-point (1/32 px of the small flow), so where the
    scale is not a power of two it differs from the resize by up to a few hundredths of a pixel
    (0.023 px at 1280 × 720, made at a third); at a half or a quarter (512-px views, 1080p), by
    under 1e-5 px.
    """
    w, h = size
    return _flow_box(flow, (flow.shape[1] / w, flow.shape[0] / h), (0, y0, w, y1))


def _flow_box(
    flow: np.ndarray, scale: tuple[float, float], box: tuple[int, int, int, int],
    origin: tuple[int, int] = (0, 0),
) -> np.ndarray:  # fmt: skip
    """The flow at the full-size pixels of ``box`` (x0, y0, x1, y1), bilinear, half-pixel
    centres, edges held (see :func:`_flow_band`). ``scale``: flow px per full-size px;
    ``flow`` may be a crop of the whole flow, its top left at ``origin`` (flow px)."""
    x0, y0, x1, y1 = box
    sx, sy = scale
    ox, oy = origin
    to_flow = np.array([[sx, 0.0, (x0 + 0.5) * sx - 0.5 - ox],
                        [0.0, sy, (y0 + 0.5) * sy - 0.5 - oy]])  # fmt: skip
    band = cv2.warpAffine(flow, to_flow, (x1 - x0, y1 - y0),
                          flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
    return np.asarray(band, dtype=np.float32)


def _move_along(moves: list[tuple[np.ndarray, float]], flow: np.ndarray) -> None:
    """Move each I420 picture of ``moves`` (in place, all of one size) its ``share`` of the way
    along ``flow`` (a backward fetch: out(x) = in(x + share · flow(x)); ``flow`` at any size,
    see :func:`_flow_band`), a band of rows at a time, each band of the flow made once for all
    of them."""
    w, h = yuv.size_of(moves[0][0])
    sources = [picture.copy() for picture, _ in moves]  # every band fetches from them as they were
    for y0 in range(0, h, RESIDUAL_BAND):
        y1 = min(h, y0 + RESIDUAL_BAND)
        band = _flow_band(flow, (w, h), y0, y1)
        for (picture, share), source in zip(moves, sources, strict=True):
            yuv.displace(picture, (0, y0, w, y1), share * band[..., 0], share * band[..., 1],
                         source=source)  # fmt: skip


def _plane_along(plane: np.ndarray, flow: np.ndarray, share: float) -> np.ndarray:
    """A single plane (an alpha) moved ``share`` of the way along ``flow``, as
    :func:`_move_along` moves a picture, into a new array, a band of rows at a time."""
    h, w = plane.shape[:2]
    out = np.empty_like(plane)
    xs = np.arange(w, dtype=np.float32)
    for y0 in range(0, h, RESIDUAL_BAND):
        y1 = min(h, y0 + RESIDUAL_BAND)
        band = _flow_band(flow, (w, h), y0, y1)
        band *= share
        map_x = band[..., 0]
        map_x += xs
        map_y = band[..., 1]
        map_y += np.arange(y0, y1, dtype=np.float32)[:, None]
        out[y0:y1] = cv2.remap(plane, map_x, map_y, cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
    return out


def _clip_flow(flow: Flow, size: tuple[int, int]) -> Flow:
    """``flow`` cut to a picture of ``size`` (w, h)."""
    (x0, y0, x1, y1), fx, fy = flow
    cx0, cy0 = max(0, x0), max(0, y0)
    cx1, cy1 = min(size[0] - size[0] % 2, x1), min(size[1] - size[1] % 2, y1)
    if cx1 <= cx0 or cy1 <= cy0:
        return (0, 0, 0, 0), fx[:0, :0], fy[:0, :0]
    cut = (slice(cy0 - y0, cy1 - y0), slice(cx0 - x0, cx1 - x0))
    return (cx0, cy0, cx1, cy1), fx[cut], fy[cut]


class LoopMorph:
    """Crossfade of a loop frame with its partner *and* of their geometry.

    A plain dissolve of two head positions shows two faces for a moment. Here both frames are
    first moved (one affine each, fitted on the stable face points) to the same in-between head
    position, ``w`` of the way from the loop frame to the partner, then dissolved: the head
    glides from where the footage was to where the loop goes on.

    The brows and eyelids are moved as well, to their in-between shape (a smooth flow around
    them, zero at the stable points and away from the eyes): the two frames of a jump often
    differ in expression, and dissolving a frown over raised brows showed two pairs of brows for
    a few frames. The lower face is left to the affine, so the mouth pasted on the morph fits.

    What the face's affine cannot align (hair that swung, a head turned a little, the
    background the affine moved with the head) is then met half way by a dense optical flow
    between the two aligned frames (:func:`_residual_flow`): each is moved its share of the way
    along it before the dissolve, and the matte with it. Without it, a jump between two head
    poses showed two outlines of the hair and of the background for the fade's few frames
    (sadtalker_hdtf_katie_hill_8s, whose loop jumps every 3.4 s). The flows are made once per
    fade frame, like the morphs.
    """

    def __init__(self, lm_partner: np.ndarray, lm_base: np.ndarray, w: float) -> None:
        idx = list(STABLE)
        m = fit_affine(lm_partner[idx].astype(np.float64), lm_base[idx].astype(np.float64))
        eye = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
        self.w = w
        self.to_mid_partner = eye + (1.0 - w) * (m - eye)  # partner → in-between
        self.to_mid_base = eye + w * (invert_affine(m) - eye)  # base → in-between
        self.to_view = self.to_mid_base  # the loop frame's px → its place in the morph
        self.partner_region: tuple[np.ndarray, ...] = ()
        self.face_box = (0.0, 0.0, 0.0, 0.0)  # around where mouths go on the morph (view px)
        self.residual: Residual | None = None  # set once the morph is made (``Partners``)
        expr = list(EXPRESSION)
        moved_b = apply_affine(self.to_mid_base, lm_base.astype(np.float64))
        moved_p = apply_affine(self.to_mid_partner, lm_partner.astype(np.float64))
        target = (1.0 - w) * moved_b[expr] + w * moved_p[expr]
        anchors = 0.5 * (moved_b[idx] + moved_p[idx])
        span = float(np.linalg.norm(moved_b[33] - moved_b[263]))  # the eyes' outer corners
        # What the brow-and-eyelid flows are made from: they are made in ``pictures`` and not
        # kept (a render keeps its morphs' geometry to the end: ~2 MB of flows each at 1080p,
        # 13 MB for a 1080p render of this benchmark's twin; mattes do not use them).
        self._flow_from = (target, moved_b[expr] - target, moved_p[expr] - target, anchors, span)

    @classmethod
    def in_view(cls, paster: Paster, b: int, p: int, w: float) -> LoopMorph:
        """Loop frame ``b`` towards partner ``p`` at weight ``w``, in the paster's view, with
        where a mouth pasted on the morph goes: ``to_view`` takes the loop frame's source px to
        the in-between position, and ``partner_region`` (view px) is the partner's lower face
        there, which widens the paste so that neither frame's own chin shows under it."""
        fade = cls(apply_affine(paster.to_view, paster.landmarks[p]),
                   apply_affine(paster.to_view, paster.landmarks[b]), w)  # fmt: skip
        fade.to_view = compose_affine(fade.to_mid_base, paster.to_view)
        inv = compose_affine(fade.to_view, invert_affine(paster.to_crop[b]))  # crop → view
        regions = [apply_affine(inv, paster.polygon(b).astype(np.float64))]
        if paster.valid[p]:
            partner_to_view = compose_affine(fade.to_mid_partner, paster.to_view)
            inv = compose_affine(partner_to_view, invert_affine(paster.to_crop[p]))
            fade.partner_region = (apply_affine(inv, paster.polygon(p).astype(np.float64)),)
            regions += fade.partner_region
        pts = np.vstack(regions)
        (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
        mx, my = 0.5 * (x1 - x0), 0.5 * (y1 - y0)  # a mouth from another frame lands nearby
        fade.face_box = (x0 - mx, y0 - my, x1 + mx, y1 + my)
        return fade

    def pictures(
        self, base: np.ndarray, partner: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """The morph of two I420 pictures, and the residual flow it used (for :meth:`alphas`;
        None when the two aligned frames already agree)."""
        target, off_base, off_partner, anchors, span = self._flow_from
        a = yuv.warp(base, self.to_mid_base)
        b = yuv.warp(partner, self.to_mid_partner)
        for picture, offsets in ((a, off_base), (b, off_partner)):
            flow = _expression_flow(target, offsets, anchors, span)
            if flow is not None:
                yuv.displace(picture, *_clip_flow(flow, yuv.size_of(picture)))
        residual = _residual_flow(yuv.planes(a)[0], yuv.planes(b)[0], self.face_box)
        if residual is not None:
            _move_along([(a, -self.w), (b, 1.0 - self.w)], residual)
        return yuv.crossfade(a, b, self.w), residual

    def alphas(
        self, base: np.ndarray, partner: np.ndarray, residual: np.ndarray | None = None
    ) -> np.ndarray:
        """The morph of two alphas (h, w), along the pictures' ``residual`` flow when given."""
        size = (base.shape[1], base.shape[0])
        a = cv2.warpAffine(base, self.to_mid_base, size, flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
        b = cv2.warpAffine(partner, self.to_mid_partner, size, flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
        if residual is not None and residual.shape[1::-1] == _residual_size(*size):
            a = _plane_along(a, residual, -self.w)
            b = _plane_along(b, residual, 1.0 - self.w)
        return cv2.addWeighted(a, 1.0 - self.w, b, self.w, 0.0)
