"""The photo engine: one still portrait, lips and jaw warped, the inside of the mouth painted.

Lower quality than the sample engine and labelled so (``quality_label = "basic"``). Per frame:
- a smooth backward warp (``cv2.remap``) in the face's own axes (u along the eye line, v down):
  the upper lip rises by 30 % of the change in opening, the lower lip and the jaw drop by 70 %
  (fading out smoothly just past the mouth corners, below the chin and towards the cheeks), the
  corners spread or purse with the width;
- the gap between the moved inner lips is painted as the inside of a mouth: the upper teeth hang
  from the upper lip (for a still whose lips are closed, or apart with only dark between them,
  whose whole gap is painted over; one showing its own teeth keeps them), one by one
  with faint lines between them, as bright as the cheeks and tinted by the same light; below
  them the cavity, the lips' colour in deep shade; and as the mouth opens wider, a tongue rising
  from the lower lip. Until 2026-12-05 it was a dark gradient under a thin grey band of teeth:
  on the ten clips of the shared footage, each clip's most closed frame painted at the openings
  of its real open mouths, the inside's median luma was 0.08-0.29x the cheeks' against
  0.34-0.81x in the real ones; now 0.37-0.59x (mean |difference| 0.45 -> 0.16; the share of
  teeth-bright pixels' 0.26 -> 0.10; ``benchmarks/photo_mouth.py``). It is an almond that
  closes at the lips' inner corners (face-mesh points 78 and 308): until
  2026-12-04 it was as wide as the mouth with blunt ends, a dark bar that reached past the
  corners (seen on the demo portrait and on the three stills of the shared footage); nearer the
  corners the lips part less than they move, and the stretched lip line fills the rest;
- the eyes blink every few seconds (``render.lipsync.blink``): a still that talks without ever
  blinking stares;
- the whole picture (and its matte) then drifts, tilts and nods a little (``render.lipsync.sway``):
  a still whose head never moves while its mouth talks looks like a cut-out. That warp is
  bilinear (a bicubic one of the whole picture cost 2-3x the render); the face's box alone is
  warped again, bicubic, and feathered in, so the face keeps its detail.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from twinstudio.render.framing import View
from twinstudio.render.lipsync.base import LipSyncEngine, SyncedFrame, lipsync_engines
from twinstudio.render.lipsync.blink import Blinker, blink_curve
from twinstudio.render.lipsync.sway import Sway
from twinstudio.render.motion import MouthTrack
from twinstudio.twins import pack as P
from twinstudio.twins.faces import CHIN, EYE_L, EYE_R, LIPS_INNER, MOUTH_CORNERS, NOSE_TIP

_UPPER_INNER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
_LOWER_INNER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
# Inner-lip gap at normalised opening 1 (0.40 until 2026-12-04: a scream on an "a").
MAX_GAP_IOD = 0.35
LENS_POWER = 0.75  # the almond's ends: < 1 rounder, > 1 more pointed
# Where one tooth meets the next, across the upper teeth seen from the front, in half-widths of
# the mouth from the midline (central incisor, lateral incisor, canine, first premolar: widths
# 8.5, 6.5, 7.5 and 7 mm on a mouth ~50 mm wide, the arch foreshortening them towards the back).
TOOTH_EDGES = (0.0, 0.3, 0.53, 0.72, 0.86)
_LUMA = np.array([0.299, 0.587, 0.114], np.float32)
CLOSED_GAP_IOD = 0.03  # a still whose inner lips are closer than this has its mouth closed
_CHEEKS = (205, 425)  # face-mesh points on the cheeks beside the nose, one each side


class _Face:
    """The still's geometry in local (u, v) axes, and the per-frame warp + paint."""

    def __init__(self, image: np.ndarray, lm: np.ndarray) -> None:
        self.image = image
        self.lm = lm.astype(np.float64)
        left = lm[list(EYE_L)].mean(axis=0)
        right = lm[list(EYE_R)].mean(axis=0)
        d = right - left
        self.iod = float(np.linalg.norm(d))
        self.ex = d / self.iod  # u axis
        self.ey = np.array([-self.ex[1], self.ex[0]])  # v axis (down)
        self.centre = lm[[13, 14]].mean(axis=0)
        up = self._uv(lm[list(_UPPER_INNER)])
        lo = self._uv(lm[list(_LOWER_INNER)])
        self.half_w = float(np.abs(self._uv(lm[list(MOUTH_CORNERS)])[:, 0]).max())
        # Where the lips part: between the inner corners (78, 308), never wider than the mouth.
        inner = np.abs(self._uv(lm[[_UPPER_INNER[0], _UPPER_INNER[-1]]])[:, 0]).mean()
        self.inner_w = float(np.clip(inner, 0.6 * self.half_w, self.half_w))
        self.grid_u = np.linspace(-1.6 * self.half_w, 1.6 * self.half_w, 64)
        self.up_v = self._curve(up)
        self.lo_v = self._curve(lo)
        self.chin_v = float(self._uv(lm[[CHIN]])[0, 1])
        self.gap0 = float(np.clip(self.lo_v[32] - self.up_v[32], 0, None))
        # Region of interest: nose tip to below the chin, jaw wide.
        r = self.iod
        x0, _y0 = (self.centre - 1.3 * r).astype(int)
        x1, y1 = (self.centre + np.array([1.3 * r, 1.5 * r])).astype(int)
        h, w = image.shape[:2]
        self.roi = (max(0, x0), max(0, int(lm[NOSE_TIP, 1])), min(w, x1), min(h, y1))
        xs = np.arange(self.roi[0], self.roi[2], dtype=np.float64)
        ys = np.arange(self.roi[1], self.roi[3], dtype=np.float64)
        gx, gy = np.meshgrid(xs, ys)
        rel = np.stack([gx - self.centre[0], gy - self.centre[1]], axis=-1)
        self.u = rel @ self.ex
        self.v = rel @ self.ey
        self.lip_rgb, self.tongue_rgb, teeth = _mouth_colours(image, lm, self.iod)
        first_u, second_u = self._uv(lm[list(_CHEEKS)])[:, 0]
        if first_u > second_u:
            teeth = teeth[::-1]
        # The teeth lit as the cheek on each side is (−u side, +u side); the front teeth as
        # the brighter one (:meth:`_paint_teeth`).
        self.teeth_rgb = teeth
        self.lit_side = int(teeth[1] @ _LUMA > teeth[0] @ _LUMA)
        self.tooth_rgb = teeth[self.lit_side]
        # Lips apart with nothing but dark between them (no teeth showing): that gap is painted
        # over whole, teeth and all, as a closed mouth's is (its own dark would move with the
        # lips and leave the painted teeth floating in the middle of it).
        closed = self.gap0 < CLOSED_GAP_IOD * self.iod
        self.dark_gap = not closed and _dark_between_lips(image, lm, float(self.tooth_rgb @ _LUMA))
        self.paint_teeth = closed or self.dark_gap  # an open still's own teeth move with its lips

    def _uv(self, pts: np.ndarray) -> np.ndarray:
        rel = pts - self.centre
        return np.stack([rel @ self.ex, rel @ self.ey], axis=-1)

    def _curve(self, uv: np.ndarray) -> np.ndarray:
        order = np.argsort(uv[:, 0])
        return np.interp(self.grid_u, uv[order, 0], uv[order, 1])

    def render(self, opening: float, width: float) -> np.ndarray:
        import cv2

        r = self.iod
        gap_t = max(0.0, opening) * MAX_GAP_IOD * r
        delta = gap_t - self.gap0
        u, v = self.u, self.v
        hw = self.half_w
        # How far the lips move across the mouth: smoothly to nothing just past the corners.
        lips = np.clip(1 - (u / (1.15 * hw)) ** 2, 0, 1) ** 2
        # How far they part: an almond closing at the inner corners (an ellipse as wide as
        # the mouth ends blunt, like a painted bar).
        lens = np.minimum(lips, np.clip(1 - (u / self.inner_w) ** 2, 0, 1) ** LENS_POWER)
        jaw_u = np.clip((0.95 * r - np.abs(u)) / (0.5 * r), 0, 1)
        up_c = np.interp(u, self.grid_u, self.up_v)
        lo_c = np.interp(u, self.grid_u, self.lo_v)
        mid = (up_c + lo_c) / 2  # the photo's own mouth splits here: teeth move with their lip
        up_amt = -0.3 * delta * lips
        lo_amt = 0.7 * delta * lips
        # Below the lips: lips' profile near the mouth, the whole jaw further down, 0 under the chin.
        depth = np.clip((v - lo_c) / (0.25 * r), 0, 1)
        prof = lips * (1 - depth) + jaw_u * depth
        fade = np.clip(1 - (v - self.chin_v) / (0.3 * r), 0, 1)
        down = 0.7 * delta * prof * fade
        upper = up_amt * np.exp(-np.clip(up_c - v, 0, None) / (0.15 * r))
        split = mid + (up_amt + lo_amt) / 2 if delta <= 0 else mid + lo_amt
        below = v >= split
        src_v = v - np.where(below, down, upper)
        part = lens / np.maximum(lips, 1e-6)  # how much of the lips' parting shows the inside
        if self.dark_gap:  # the whole gap between the moved lips is painted
            top_gap, bottom_gap = up_c + up_amt * part, lo_c + lo_amt * part
        else:  # only the new gap, between the halves of the still's own mouth
            top_gap, bottom_gap = mid + up_amt * part, mid + lo_amt * part
        band = np.exp(-(((v - (up_c + lo_c) / 2) / (0.25 * r)) ** 2))
        spread = 0.1 * width * band * np.clip(1.4 - np.abs(u) / (1.6 * hw), 0, 1)
        src_u = u * (1 - spread)
        map_x = (self.centre[0] + src_u * self.ex[0] + src_v * self.ey[0]).astype(np.float32)
        map_y = (self.centre[1] + src_u * self.ex[1] + src_v * self.ey[1]).astype(np.float32)
        out = self.image.copy()
        x0, y0, x1, y1 = self.roi
        region = cv2.remap(self.image, map_x, map_y, cv2.INTER_CUBIC,
                           borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
        painted = gap_t if self.dark_gap else delta  # how far apart the painted edges are
        if painted > 0.01 * r:
            region = self._paint_interior(region, u, v, top_gap, bottom_gap, painted,
                                          teeth=self.paint_teeth)  # fmt: skip
        # Blend the warped region in with a soft border so the ROI edge never shows.
        wgt = np.clip(np.minimum.reduce([u + 1.25 * r, 1.25 * r - u, v - (y0 - self.centre[1]),
                                         (y1 - self.centre[1]) - v]) / (0.15 * r), 0, 1)  # fmt: skip
        base = out[y0:y1, x0:x1].astype(np.float32)
        out[y0:y1, x0:x1] = (base + (region.astype(np.float32) - base) * wgt[..., None]).astype(
            np.uint8
        )
        return out

    def _paint_interior(self, region: np.ndarray, u: np.ndarray, v: np.ndarray, top: np.ndarray,
                        bottom: np.ndarray, gap: float, teeth: bool) -> np.ndarray:  # fmt: skip
        """Paint the gap between the parted lips (``top`` to ``bottom``, per pixel) as the inside
        of a mouth; ``gap``: how far apart those edges are at the centre (px: the lips' parting
        beyond the still's own, or the whole parting for a still with a dark gap). ``teeth``:
        paint teeth too (:attr:`paint_teeth`)."""
        import cv2

        r = self.iod
        inside = np.clip(np.minimum(v - top, bottom - v) + 0.5, 0, 1)  # 1-px anti-aliased edge
        # A gap under a pixel high shows in proportion (at none, the edge's half-covered pixels
        # drew a faint line of the painting along the closed lips, out past the inner corners).
        inside *= np.clip(bottom - top, 0, 1)
        inside *= np.clip((1.05 * self.half_w - np.abs(u)) / 2.0 + 0.5, 0, 1)
        rows, cols = np.nonzero(inside.any(axis=1))[0], np.nonzero(inside.any(axis=0))[0]
        if not len(rows):
            return region
        # Only the box around the gap is painted (a few thousand pixels, not the whole ROI).
        box = np.s_[max(0, rows[0] - 1) : rows[-1] + 2, max(0, cols[0] - 1) : cols[-1] + 2]
        u, v, top, bottom, inside = u[box], v[box], top[box], bottom[box], inside[box]
        au = np.abs(u)
        side = np.clip(au / self.inner_w, 0, 1) ** 2  # 0 at the centre, 1 at the inner corners
        rel = np.clip((v - top) / np.maximum(bottom - top, 1.0), 0, 1)  # 0 upper lip, 1 lower
        # The cavity: the lips' own colour in deep shade, darkest towards the corners.
        colour = self.lip_rgb * ((0.16 + 0.12 * rel) * (1 - 0.5 * side))[..., None]
        # The tongue: a dome of lit tongue colour over the lower lip, rising into view as the
        # mouth opens (as high as 40 % of the gap at the centre, none in the outer quarter, so
        # it never lines the lower lip like a rim), darker towards the back and under the lip.
        rise = 0.4 * np.clip((gap - 0.06 * r) / (0.12 * r), 0, 1)
        dome = np.clip(1 - (au / (0.75 * self.inner_w)) ** 2, 0, 1)
        height = rise * gap * dome
        tongue = np.clip((v - (bottom - height)) / max(0.04 * r, 1.0), 0, 1) * (height > 0.5)
        lip_shadow = 0.7 + 0.3 * np.clip((bottom - v) / (0.04 * r), 0, 1)  # under the lower lip
        tongue_rgb = self.tongue_rgb * ((0.75 + 0.25 * rel) * lip_shadow)[..., None]
        colour += (tongue_rgb - colour) * tongue[..., None]
        if teeth:
            colour = self._paint_teeth(colour, u, side, v - top, gap)
        # Anti-aliasing of the painted edges (teeth, tongue); the lips' edge is ``inside``'s.
        colour = cv2.GaussianBlur(colour, (3, 3), 0)
        a = inside[..., None]
        out = region.copy()
        out[box] = (region[box].astype(np.float32) * (1 - a) + colour * a).astype(np.uint8)
        return out

    def _paint_teeth(self, colour: np.ndarray, u: np.ndarray, side: np.ndarray,
                     depth: np.ndarray, gap: float) -> np.ndarray:  # fmt: skip
        """Upper teeth hanging from the upper lip, the incisors longest: each tooth its own, with
        a faint dark line between neighbours and its edge rounded up a little into the gap, in
        the lip's shade at the top and darker towards the corners. No lower teeth: a band of
        them over the lower lip, in its shadow, read as a grey rim round the mouth. ``u``: each
        pixel's place across the mouth (signed, from the midline), ``side``
        (:meth:`_paint_interior`'s) how far towards the inner corners it lies, ``depth`` its
        distance below the upper lip's edge (px).

        Lit as the brighter cheek from that side's corner across both front teeth, then
        towards the other cheek's light at the other inner corner. Until 2026-12-07 every tooth
        had the two cheeks' median light: a portrait lit from one side (cheeks at luma 48 and
        163, ``liveportrait_d8``) got grey teeth (luma 114) right across the front, darker than
        the lit half of the face."""
        r = self.iod
        au = np.abs(u)
        toward_lit = u / self.inner_w * (1.0 if self.lit_side else -1.0)  # +1: the lit corner
        lit_share = np.clip((1 + toward_lit) / (1 - TOOTH_EDGES[1]), 0, 1)[..., None]
        dark = self.teeth_rgb[1 - self.lit_side]
        tooth_rgb = dark + (self.tooth_rgb - dark) * lit_share
        # Distance (px) to the nearest gap between two teeth (the midline included).
        edges = np.array(TOOTH_EDGES) * self.half_w
        between = np.abs(au[..., None] - edges).min(axis=-1)
        notch = np.exp(-((between / (0.015 * r)) ** 2))
        line = 0.3 * np.exp(-((between / (0.004 * r + 0.35)) ** 2))
        corners = np.clip((0.92 * self.inner_w - au) / (0.12 * self.inner_w), 0, 1)
        # Upper teeth: down from the upper lip, shaded by it, the biting edge a little translucent.
        length = min(0.45 * gap, 0.11 * r) * (1 - 0.45 * side) * (1 - 0.08 * notch)
        upper = np.clip(length - depth + 0.5, 0, 1) * corners
        lit = (0.86 + 0.14 * np.clip(depth / np.maximum(0.5 * length, 1.0), 0, 1)) * (
            1 - 0.08 * np.clip((depth - 0.8 * length) / np.maximum(0.2 * length, 1.0), 0, 1)
        )
        shade = (1 - 0.35 * side) * (1 - line)
        colour += (tooth_rgb * (lit * shade)[..., None] - colour) * upper[..., None]
        return colour


def _dark_between_lips(image: np.ndarray, lm: np.ndarray, tooth_luma: float) -> bool:
    """Whether the still's parted lips show only dark between them: the inside of the inner-lip
    outline has under 5 % of its pixels as bright as half a tooth (teeth showing: 20-60 %)."""
    import cv2

    mask = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(lm[list(LIPS_INNER), :2]).astype(np.int32)], (1,))
    inside = image[cv2.erode(mask, np.ones((3, 3), np.uint8)) > 0].astype(np.float32)
    return len(inside) > 0 and float(np.mean(inside @ _LUMA > 0.5 * tooth_luma)) < 0.05


FACE_FEATHER = 6  # px over which the bicubic face box blends into the bilinear picture


def _sharper_face(still: np.ndarray, move: np.ndarray, out: np.ndarray, box: np.ndarray) -> None:
    """Warp the face's box of ``still`` (``box``: its corners, still pixels) again into ``out``
    by ``move``, bicubic, feathered into the bilinear warp around it (in place)."""
    import cv2

    h, w = out.shape[:2]
    corners = np.array([[x, y, 1.0] for x in box[:, 0] for y in box[:, 1]]) @ move.T
    x0, y0 = np.maximum(np.floor(corners.min(axis=0)).astype(int), 0)
    x1, y1 = np.minimum(np.ceil(corners.max(axis=0)).astype(int), [w, h])
    if x1 - x0 < 4 * FACE_FEATHER or y1 - y0 < 4 * FACE_FEATHER:
        return
    shifted = move.copy()
    shifted[:, 2] -= (x0, y0)
    sharp = cv2.warpAffine(still, shifted, (int(x1 - x0), int(y1 - y0)), flags=cv2.INTER_CUBIC,
                           borderMode=cv2.BORDER_REPLICATE)  # fmt: skip

    def ramp(n: int) -> np.ndarray:  # 0 at both ends, 1 from FACE_FEATHER px in
        edge = np.minimum(np.arange(n), np.arange(n)[::-1])
        return np.clip((edge + 0.5) / FACE_FEATHER, 0, 1)

    weight = np.outer(ramp(int(y1 - y0)), ramp(int(x1 - x0))).astype(np.float32)[..., None]
    region = out[y0:y1, x0:x1]
    region[:] = (region + (sharp.astype(np.float32) - region) * weight + 0.5).astype(np.uint8)


def _patch(image: np.ndarray, at: np.ndarray, radius: int) -> np.ndarray:
    """The pixels (RGB rows) of the square of ``radius`` around ``at``, clipped to the image."""
    x, y = (int(c) for c in np.rint(at[:2]))
    h, w = image.shape[:2]
    cut = image[
        max(0, y - radius) : min(h, y + radius + 1), max(0, x - radius) : min(w, x + radius + 1)
    ]
    return cut.reshape(-1, 3).astype(np.float32)


def _mouth_colours(
    image: np.ndarray, lm: np.ndarray, iod: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The still's lip colour (the middle of both lips), a tongue colour (as bright as the lips,
    pinker: pale lips gave a grey tongue) and two tooth colours (2, 3), each lit as one cheek is
    (face-mesh points ``_CHEEKS``, in that order).

    Teeth are an off-white, 1.1x the luma of the cheek and tinted by it at a quarter strength
    (the colour of the light), never above 245: in the real open mouths of the shared footage's
    ten clips the bright inside of the mouth has a median luma 0.88-1.14x the cheeks' (every
    third frame opened > 0.08 IOD), and the painted teeth are shaded below their full
    brightness towards the lip and the corners."""
    radius = max(1, round(0.03 * iod))
    lips = np.concatenate([_patch(image, (lm[0] + lm[13]) / 2, radius),
                           _patch(image, (lm[17] + lm[14]) / 2, radius)])  # fmt: skip
    lip = np.median(lips, axis=0) if len(lips) else np.array([170.0, 100.0, 100.0], np.float32)
    teeth = []
    for point in _CHEEKS:
        patch = _patch(image, lm[point], 2 * radius)
        cheek = (
            np.median(patch, axis=0) if len(patch) else np.array([190.0, 150.0, 130.0], np.float32)
        )
        tint = 0.75 + 0.25 * cheek / max(float(cheek @ _LUMA), 1.0)
        white = np.array([1.0, 0.97, 0.9], np.float32) * tint
        teeth.append(np.clip(white * 1.1 * float(cheek @ _LUMA) / float(white @ _LUMA), 40, 245))
    tooth = np.array(teeth)
    pink = np.array([1.3, 0.85, 0.85], np.float32)
    tongue = np.clip(pink * 0.9 * float(lip @ _LUMA) / float(pink @ _LUMA), 0, 255)
    return lip.astype(np.float32), tongue.astype(np.float32), tooth.astype(np.float32)


@lipsync_engines.register("photo")
class PhotoEngine(LipSyncEngine):
    """Still-image twins: warped lips and jaw with a synthesised mouth interior."""

    name = "photo"
    kinds = ("photo",)
    quality_label = "basic"

    def stream(
        self,
        pack: P.TwinPack,
        tracks: Iterable[MouthTrack],
        *,
        with_alpha: bool = False,
        view: View | None = None,
        frames: int | None = None,
    ) -> Iterator[SyncedFrame]:
        import cv2

        image = cv2.imread(str(pack.file(P.IMAGE)))[:, :, ::-1].copy()
        landmarks = pack.track["landmarks"][0]
        face = _Face(image, landmarks)
        blinker = Blinker(image, landmarks)
        size = (image.shape[1], image.shape[0])
        sway = Sway(size, landmarks, pack.fps)
        iod = face.iod
        face_box = np.array([landmarks[:, :2].min(axis=0) - 0.2 * iod,
                             landmarks[:, :2].max(axis=0) + 0.2 * iod])  # fmt: skip
        # Each frame is moved and placed in the view by one warp, at the view's size. A view
        # that shrinks the still 2x or more is placed after the move instead (a warp would
        # alias there; ``yuv.Resizer`` shrinks it through INTER_AREA).
        to_out, out_size, direct = np.eye(3), size, True
        if view is not None and view.resize.k == 1:
            to_out, out_size = np.vstack([view.to_view, [0.0, 0.0, 1.0]]), view.size
        elif view is not None:
            direct = False
        matte: Any = None
        if with_alpha:
            from twinstudio.twins.matte import read_matte

            matte = next(iter(read_matte(pack.file(P.MATTE))))
        done = 0
        for track in tracks:
            closed = blink_curve(len(track), pack.fps, start=done)
            moves = sway.matrices(track.norm[:, 0], done)
            for t in range(len(track)):
                rgb = face.render(float(track.norm[t, 0]), float(track.norm[t, 1]))
                blink = float(closed[t])
                move = (to_out @ np.vstack([moves[t], [0.0, 0.0, 1.0]]))[:2]
                still = blinker.apply(rgb, blink)
                rgb = cv2.warpAffine(still, move, out_size, flags=cv2.INTER_LINEAR,
                                     borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
                _sharper_face(still, move, rgb, face_box)
                alpha = None
                if matte is not None:
                    alpha = cv2.warpAffine(matte, move, out_size, flags=cv2.INTER_LINEAR,
                                           borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
                    if view is not None:
                        alpha = view.feather(alpha) if direct else view.place_alpha(alpha)
                if view is not None and not direct:
                    rgb = view.place(rgb)
                yield SyncedFrame(rgb, alpha, blink=blink)
            done += len(track)
