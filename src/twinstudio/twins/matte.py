"""Background matting: a per-frame alpha of the person, refined at the edges and steady over time.

Pipeline per frame (:meth:`Matter.alpha`):

1. **Segment** with mediapipe's bundled selfie-segmentation model (a 256x256 network; loaded once,
   lazily). Its mask is soft and blobby at the edges and flickers a little from frame to frame.
2. **Steady it** at working resolution (long side ``WORK_SIZE``): a per-pixel exponential filter
   whose weight rises with the size of the change, so noise of a few percent is averaged away but
   a real movement (a head turn, a hand) is followed in the same frame: no lag, no ghost.
3. **Refine the edges** with a fast guided filter (He et al., 2010/2015): the low-resolution mask
   is fitted locally as a linear function of the frame's luminance and the coefficients are
   upsampled to full size, so the alpha edge snaps to the real edge of hair and shoulders.
   ``cv2.ximgproc`` is not in headless OpenCV, so the box-filter form is written out here.
4. **Firm it up**: a gentle contrast curve pushes the core to 0/255 and keeps a narrow soft edge.
5. **Refine the outline from the colours** (``edge_key``, on by default). For each pixel of the
   soft band (0 < alpha < 255, and a rim of ``EDGE_RIM`` px of alpha 255 inside it where it
   meets the background) the backdrop just behind it is estimated from the sure-background
   pixels around it, and the person's colour in front of it from the sure-person ones (alpha
   255, a rim in from the outline): normalised convolutions at ~240 px, which follow a
   textured or unevenly lit wall.
   - *Key*: a band pixel of the backdrop's own colour (CIELAB distance, lightness at half
     weight, under ``EDGE_KEY_NEAR``) becomes transparent, ramping back by ``EDGE_KEY_FAR``:
     the network's mask reaches a few pixels past the person (a blue halo on studio grey).
   - *Split* (2026-12-05): the camera mixes person and backdrop over 2-4 px at the outline,
     where the network's alpha is anything from a guess to 255 (a line of the old wall round
     the blazer twin's face on yellow; a blond fringe at half alpha). The pixel is fitted as
     ``a · person + c · backdrop`` and its alpha set to a / (a + c), a light-independent share
     (:func:`_person_share`), as far as the fit is trusted: the two colours point apart (the
     sine of their angle, ``EDGE_ANGLE_*``: a white shirt on a grey wall cannot be told), the
     fit misses little (``EDGE_MISS_*``: texture, a busy backdrop) and its light is near the
     colours' (``EDGE_LIGHT_*``: a dark thread of a suit and a dim patch of wall look alike).
     This raises alphas too: the network's doubts inside hair became see-through patches, and
     the renderer's unmixing (``render.backdrop``, which divides by the alpha) would have
     turned them orange.
   Measured on the ten development clips laid over known walls (``benchmarks/matte.py``, mean
   |composite - truth| on the outline over yellow): the split alone took the error on a blue
   wall from 13.18 to 10.81 levels and on a green screen from 11.18 to 8.94; on a dull green
   and a light grey wall, whose colours are close to skin and hair, it stays where it was
   (10.66 -> 10.52, 8.70 -> 8.75). With the renderer's unmixing, which needs an alpha this
   close: 9.97, 8.27, 9.37 and 6.09 (-24 %, -26 %, -12 %, -30 %). It costs training ~20 ms a
   1080p frame (the 7 s blazer clip trained in 28-31 s against 25-27 s).
6. **Drop islands that are not the person**: the network also calls a drawn figure on the wall, a
   poster or a photo a person. Of the mask's solid parts (over one half, at working resolution)
   the largest is the person; another part is kept when it is large (``ISLAND_KEEP`` of the
   largest: a second person), rises from the bottom edge (a hand, a shoulder), or lies within
   ``ISLAND_GAP`` of the person (a hand held apart); the rest are cleared, and so is whatever
   lies further than ``ISLAND_GAP`` from every part kept: the dropped parts' soft skirts, and the
   pale haze (never over one half) the network leaves on a wall. Found on the render benchmark's
   twin: a cartoon on its wall came out, pale, on every new background, and after it was dropped
   two faint grey wedges of the wall still did.

Optional (``colour_key=True``, default off): when the backdrop is a flat colour (a studio wall, a
blue or green screen), a clean-plate colour model of that backdrop, learned from pixels the network
calls background with high confidence, is used to cut away backdrop colour inside the soft band
of the mask. On footage with a busy background the check finds no flat backdrop and does nothing.

Storage (pack revision 5): lossless grayscale PNG frames ("up" row prediction, zlib level 3) in a
QuickTime file, read back frame by frame with :func:`read_matte` (from any frame: it seeks).
Every frame is a keyframe, so a seek lands on the frame asked for, and decoding costs less CPU
than the FFV1 used before (revision ≤ 4: FFV1 in Matroska, which every reader still decodes).
Measured on the development clip's mattes (2026-12-02, one core): 720p 1.0 ms a frame against
FFV1's 1.7, 1080p 1.8 against 3.3; FFV1 also decoded, at each jump back to the loop's start, the
frames from its keyframe (one every 60) up to the start. A 720p render with background removal
took 5 % less time, a 1080p one 8 % less. The price is size: ~1.8x FFV1's (~70 KB a 1080p frame;
zlib level 9 would save a fifth of it for 10x the training-time encoding).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

from twinstudio.errors import MissingDependency, RenderError
from twinstudio.twins.native_log import filtered_stderr

__all__ = [
    "MATTE_FORMAT",
    "Matter",
    "build_matte",
    "clear_edge",
    "guided_filter",
    "keep_person",
    "matte_stream",
    "read_matte",
    "soft_mask",
    "sure_background",
    "write_matte",
]

# Stored mattes (see the module docstring): PNG frames in a QuickTime container.
MATTE_FORMAT = "mov"
MATTE_CODEC = "png"
MATTE_OPTIONS = {"pred": "up", "compression_level": "3"}
# Working resolution of the mask (long side) for the temporal filter and the guided filter.
WORK_SIZE = 384
# Guided filter radius (in working pixels) and regularisation (on 0..1 luminance).
GF_RADIUS = 4
GF_EPS = 1e-3
# Temporal filter: minimum weight of the new mask, and the change at which it is taken whole.
TEMPORAL_MIN = 0.45
TEMPORAL_FULL = 0.2
# Contrast curve on the refined alpha: (alpha - low) / (high - low).
CURVE_LOW = 0.12
CURVE_HIGH = 0.88
# Edge key: backdrop estimated at about this long side; alpha below this is sure background.
EDGE_KEY_SIZE = 240
EDGE_KEY_BACKGROUND = 8
# CIELAB distance (lightness weighted by half) from the local backdrop: transparent under NEAR,
# the alpha unchanged from FAR on.
EDGE_KEY_NEAR = 6.0
EDGE_KEY_FAR = 18.0
# Mixed pixels (step 5): the rim of alpha-255 pixels looked at, in pixels of a 1920-px long side
# (at least 3); the sine of the angle between backdrop and person colour (RGB) from which their
# split is trusted, and from which it is trusted whole; the fit's miss (a share of the distance
# between the two colours) from which it is trusted less, and at which not at all.
EDGE_RIM = 6
# The rim is looked at within this many rims of sure background. At 2 a line of alpha-255 pixels
# half blond hair, half blue wall stayed on the blazer twin's hair (at its right, where the
# network's soft band is 18 px wide at 1080p, the sure wall began 19 px out): a blue-grey
# thread on yellow. At 4 it is gone (looked at, 1080p over yellow, 2026-12-06).
EDGE_RIM_REACH = 4
EDGE_ANGLE_LOW = 0.3
EDGE_ANGLE_HIGH = 0.45
EDGE_MISS_NEAR = 0.15
EDGE_MISS_FAR = 0.35
# ... and the light the fit finds on both (1: as lit as the colours around), trusted whole from
# FULL to TOP, not at all under LOW or over HIGH.
EDGE_LIGHT_LOW = 0.45
EDGE_LIGHT_FULL = 0.75
EDGE_LIGHT_TOP = 1.35
EDGE_LIGHT_HIGH = 1.8
# Islands (step 6): a part at least this share of the person's area is kept (a second person),
# and so is one within this share of the working size's long side of it.
ISLAND_KEEP = 0.3
ISLAND_GAP = 0.03
_SOFT = ((np.arange(256) > 0) & (np.arange(256) < 255)).astype(np.uint8)  # alpha → 0/1
_MISS_SLOPE = 1.0 / (EDGE_MISS_FAR - EDGE_MISS_NEAR)
_KEY_WEIGHTS = np.array([0.5, 1.0, 1.0], np.float32)  # the key's Lab distance: lightness at half
_WHOLE = np.where(np.arange(256) == 255, 255, 0).astype(np.uint8)
_SURE = np.where(np.arange(256) < EDGE_KEY_BACKGROUND, 255, 0).astype(np.uint8)


def _box(image: np.ndarray, radius: int) -> np.ndarray:
    return cv2.boxFilter(image, -1, (2 * radius + 1, 2 * radius + 1), borderType=cv2.BORDER_REFLECT)


def guided_filter(
    guide: np.ndarray, source: np.ndarray, radius: int, eps: float
) -> tuple[np.ndarray, np.ndarray]:
    """Gray-guide guided filter; returns the linear coefficients (a, b) so q = a * guide + b.

    ``guide`` and ``source`` are float32 of the same shape. Returning (a, b) rather than q lets the
    caller upsample them and apply them to a larger guide (the "fast guided filter").
    """
    mean_i = _box(guide, radius)
    mean_p = _box(source, radius)
    corr_ip = _box(guide * source, radius)
    corr_ii = _box(guide * guide, radius)
    var_i = corr_ii - mean_i * mean_i
    cov_ip = corr_ip - mean_i * mean_p
    a = cov_ip / (var_i + eps)
    b = mean_p - a * mean_i
    return _box(a, radius), _box(b, radius)


class Matter:
    """Stateful per-video matting: call :meth:`alpha` on consecutive frames of one video.

    Build a new ``Matter`` (or call :meth:`reset`) for each video, so the temporal filter does not
    carry one clip's mask into the next. The model is loaded on first use.
    """

    def __init__(
        self, *, model_selection: int = 0, colour_key: bool = False, edge_key: bool = True
    ) -> None:
        # model 0 ("general", 256x256) is sharper on head-and-shoulders shots than the
        # "landscape" 144x256 model, for ~1.3x its cost.
        self.model_selection = model_selection
        self.colour_key = colour_key
        self.edge_key = edge_key
        self._segmenter: Any = None
        self._fresh = False
        self._previous: np.ndarray | None = None
        # Per video: the flat backdrop's Lab mean and spread; False once found busy.
        self._backdrop: np.ndarray | bool | None = None

    def load(self) -> None:
        """Load the segmentation model (idempotent)."""
        if self._segmenter is not None:
            return
        try:
            from mediapipe.python.solutions import selfie_segmentation
        except ImportError as exc:  # pragma: no cover - mediapipe is a core dependency
            raise MissingDependency(
                "Background removal needs mediapipe: pip install --no-deps mediapipe==0.10.21"
            ) from exc
        with filtered_stderr():  # its start-up log lines (``twins.native_log``)
            self._segmenter = selfie_segmentation.SelfieSegmentation(
                model_selection=self.model_selection
            )
        self._fresh = True  # the first inference logs a few more

    def reset(self) -> None:
        """Forget the previous frame (call between videos)."""
        self._previous = None
        self._backdrop = None

    def close(self) -> None:
        if self._segmenter is not None:
            self._segmenter.close()
            self._segmenter = None

    def segment(self, rgb: np.ndarray) -> np.ndarray:
        """The model's raw person probability, float32 (H, W) in 0..1."""
        self.load()
        window = filtered_stderr() if self._fresh else nullcontext()
        self._fresh = False
        with warnings.catch_warnings(), window:
            # protobuf 4 warns about a deprecated call inside mediapipe on every frame.
            warnings.simplefilter("ignore", UserWarning)
            result = self._segmenter.process(np.ascontiguousarray(rgb))
        mask = result.segmentation_mask
        if mask is None:
            return np.zeros(rgb.shape[:2], np.float32)
        return np.asarray(mask, dtype=np.float32)

    def alpha(self, rgb: np.ndarray) -> np.ndarray:
        """Alpha of the person in ``rgb`` (H, W, 3 uint8): uint8 (H, W), 255 = person."""
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise RenderError("invalid_frame", f"Expected an RGB uint8 frame, got {rgb.shape}.")
        height, width = rgb.shape[:2]
        scale = min(1.0, WORK_SIZE / max(height, width))
        work = (max(1, round(width * scale)), max(1, round(height * scale)))

        mask = self.segment(rgb)
        mask = cv2.resize(mask, work, interpolation=cv2.INTER_AREA)
        small_rgb = cv2.resize(rgb, work, interpolation=cv2.INTER_AREA)
        if self.colour_key:
            mask = self._key_backdrop(small_rgb, mask)
        mask = keep_person(self._steady(mask))

        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32) * (1.0 / 255.0)
        small_gray = cv2.resize(gray, work, interpolation=cv2.INTER_AREA)
        a, b = guided_filter(small_gray, mask, GF_RADIUS, GF_EPS)
        a = cv2.resize(a, (width, height), interpolation=cv2.INTER_LINEAR)
        b = cv2.resize(b, (width, height), interpolation=cv2.INTER_LINEAR)
        refined = a * gray + b
        refined = (refined - CURVE_LOW) * (255.0 / (CURVE_HIGH - CURVE_LOW))
        alpha = np.clip(refined, 0, 255).astype(np.uint8)
        return clear_edge(rgb, alpha) if self.edge_key else alpha

    def _steady(self, mask: np.ndarray) -> np.ndarray:
        """Change-adaptive temporal smoothing: average away flicker, follow real motion."""
        previous = self._previous
        if previous is None or previous.shape != mask.shape:
            self._previous = mask
            return mask
        change = np.abs(mask - previous)
        weight = np.clip(change * (1.0 / TEMPORAL_FULL), TEMPORAL_MIN, 1.0)
        steady = previous + weight * (mask - previous)
        self._previous = steady
        return steady

    def _key_backdrop(self, rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Cut flat-backdrop colour out of the mask's soft band (no-op on busy backgrounds)."""
        if self._backdrop is False:
            return mask
        lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
        if self._backdrop is None or self._backdrop is True:
            sure_bg = mask < 0.05
            if sure_bg.mean() < 0.15:
                return mask
            samples = lab[sure_bg]
            mean = samples.mean(axis=0)
            spread = samples.std(axis=0)
            # A flat backdrop: little spread in lightness and colour.
            if spread.max() > 9.0:
                self._backdrop = False
                return mask
            self._backdrop = np.concatenate([mean, np.maximum(spread, 2.0)])
        assert isinstance(self._backdrop, np.ndarray)
        mean, spread = self._backdrop[:3], self._backdrop[3:]
        distance = np.sqrt((((lab - mean) / spread) ** 2).sum(axis=2))
        # Pixels within ~3 sigma of the backdrop colour are backdrop; ramp to person by ~6 sigma.
        backdrop_likeness = np.clip((6.0 - distance) / 3.0, 0.0, 1.0)
        # Only inside the uncertain band, and only to lower the mask: the key never adds person.
        band = (mask > 0.02) & (mask < 0.98)
        keyed = np.minimum(mask, 1.0 - backdrop_likeness)
        return np.where(band, keyed, mask).astype(np.float32)


def soft_mask(alpha: np.ndarray) -> np.ndarray:
    """1 where a matte (uint8) is neither 0 nor 255, else 0 (uint8; ``.view(np.bool_)`` makes it
    a boolean mask, whose ``np.flatnonzero`` is ~10x faster than a uint8 one's)."""
    return cv2.LUT(alpha, _SOFT)


def sure_background(alpha: np.ndarray) -> np.ndarray:
    """255 where a matte (uint8) is surely background (under ``EDGE_KEY_BACKGROUND``), else 0:
    what the edge key and the backdrop's plate (``twins.plate``) take as the wall."""
    return cv2.LUT(alpha, _SURE)


def keep_person(mask: np.ndarray) -> np.ndarray:
    """``mask`` (float32 (h, w) in 0..1, at working size) without its islands that are not the
    person and without the haze far from every part kept; see step 6 of the module docstring.
    Returned itself when there is nothing to clear."""
    solid = (mask > 0.5).view(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(solid, connectivity=8)
    if count <= 1:  # no solid part: nothing tells the person from the haze
        return mask
    height, width = mask.shape
    areas = stats[:, cv2.CC_STAT_AREA].copy()
    areas[0] = 0
    person = int(np.argmax(areas))
    reach = max(1, round(ISLAND_GAP * max(height, width)))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1, 2 * reach + 1))
    near = cv2.dilate((labels == person).view(np.uint8), kernel)
    keep = areas >= ISLAND_KEEP * areas[person]
    keep |= stats[:, cv2.CC_STAT_TOP] + stats[:, cv2.CC_STAT_HEIGHT] >= height  # from below
    keep[np.unique(labels[near > 0])] = True
    keep[0] = False
    kept = keep[labels].view(np.uint8)
    # Cleared: the parts dropped, and whatever lies beyond the reach of every part kept (the
    # dropped parts' soft skirts, and a pale haze the network leaves on the wall).
    clear = (cv2.dilate(kept, kernel) == 0) & (mask > 0)
    clear |= (labels > 0) & ~keep[labels]
    if not clear.any():
        return mask
    out = mask.copy()
    out[clear] = 0.0
    return out


def _spread(rgb: np.ndarray, sure: np.ndarray, out: np.ndarray) -> None:
    """The colour of the ``sure`` pixels (uint8 mask, 255) spread over the frame by normalised
    convolution at ``out``'s size, written to ``out`` (float32 (h, w, 4)): the colour (RGB) and
    its weight (0..1; ~0 where none of them is near)."""
    small = (out.shape[1], out.shape[0])
    colour = cv2.resize(cv2.copyTo(rgb, sure), small, interpolation=cv2.INTER_AREA)
    weight = cv2.resize(sure, small, interpolation=cv2.INTER_AREA)
    num = cv2.GaussianBlur(colour.astype(np.float32), (0, 0), 2.0)
    den = cv2.GaussianBlur(weight.astype(np.float32) * np.float32(1 / 255), (0, 0), 2.0)
    out[..., :3] = num / np.maximum(den, 1e-3)[:, :, None]
    out[..., 3] = den


def _dot(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Dot products along the last axis (colour) of two arrays of one shape."""
    return np.einsum("...c,...c->...", x, y)


# The fields :func:`clear_edge` samples at each band pixel (channels of one small image); _TRUST
# holds the person colour's weight until :func:`_split_fields` turns it into the angle's trust.
_B, _NEAR_B, _F, _TRUST, _B_LAB = slice(0, 3), 3, slice(4, 7), 7, slice(8, 11)
_FF, _BB, _FB, _DET, _DD = 11, 12, 13, 14, 15
_FIELDS = 16


def _split_fields(spread: np.ndarray) -> None:
    """Fill in the split's per-place terms of ``spread`` (float32 (h, w, 16), the backdrop and
    person colours and their weights already in): products of the two colours, and the trust
    their angle allows (see :func:`_person_share`), computed once at the small size."""
    front, behind = spread[..., _F], spread[..., _B]
    ff, bb, fb = _dot(front, front), _dot(behind, behind), _dot(front, behind)
    det = np.maximum(ff * bb - fb * fb, 1e-3)
    sine = np.sqrt(det / np.maximum(ff * bb, 1e-3))
    trust = np.clip((sine - EDGE_ANGLE_LOW) / (EDGE_ANGLE_HIGH - EDGE_ANGLE_LOW), 0.0, 1.0)
    trust *= spread[..., _TRUST] > 0.01  # a person's colour, however far
    spread[..., _TRUST] = trust
    spread[..., _FF], spread[..., _BB], spread[..., _FB], spread[..., _DET] = ff, bb, fb, det
    spread[..., _DD] = np.maximum(ff + bb - 2 * fb, 1.0)


def _person_share(seen: np.ndarray, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """How much of each band pixel's colour ``seen`` (float32 (n, 3) RGB) is the person colour
    in front of it rather than the backdrop colour behind it, and how far that is to be
    trusted: (share, trust), each (n,) in 0..1. ``at``: :func:`_split_fields`' fields there.

    The pixel is fitted as ``a * front + c * behind`` (least squares) and the share is
    a / (a + c): a light that dims or brightens both alike (a shadow on the skin at the
    outline, the person's shadow on the wall) changes a and c together and leaves the share
    alone, where a distance in any colour space read a shadow as a step towards the other
    colour. Trusted where the two colours point apart (the sine of their angle, from
    ``EDGE_ANGLE_LOW``: a white shirt on a grey wall cannot be told from a lit grey wall) and
    the fit leaves little over (texture, a busy backdrop: ``EDGE_MISS_NEAR``..``_FAR`` of the
    distance between the colours) and the light it finds, a + c, is near 1
    (``EDGE_LIGHT_*``)."""
    ff, bb, fb, det = at[:, _FF], at[:, _BB], at[:, _FB], at[:, _DET]
    fi, bi, ii = _dot(at[:, _F], seen), _dot(at[:, _B], seen), _dot(seen, seen)
    a = np.maximum((bb * fi - fb * bi) / det, 0.0)
    c = np.maximum((ff * bi - fb * fi) / det, 0.0)
    share = a / np.maximum(a + c, 1e-6)
    # |seen - a front - c behind|², expanded: no (n, 3) array for it.
    miss = ii - 2 * (a * fi + c * bi) + a * a * ff + 2 * a * c * fb + c * c * bb
    ratio = np.sqrt(np.maximum(miss, 0.0) / at[:, _DD])
    trust = at[:, _TRUST] * np.clip((EDGE_MISS_FAR - ratio) * _MISS_SLOPE, 0.0, 1.0)
    # Light alike on both explains a shadow, not a pixel much darker or brighter than either
    # colour: there a dark thread of a suit and a dim patch of wall look alike.
    light = a + c
    trust *= np.clip((light - EDGE_LIGHT_LOW) / (EDGE_LIGHT_FULL - EDGE_LIGHT_LOW), 0, 1)
    trust *= np.clip((EDGE_LIGHT_HIGH - light) / (EDGE_LIGHT_HIGH - EDGE_LIGHT_TOP), 0, 1)
    return share, trust


def clear_edge(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """``alpha`` (uint8 (H, W)) refined along the person's outline from the colours: the soft
    band's backdrop-coloured pixels made transparent, and every pixel of the band (and of a rim
    of alpha 255 inside it) set to its share of person where the colours tell it; see step 5 of
    the module docstring. ``rgb`` is the frame (uint8 (H, W, 3))."""
    height, width = alpha.shape
    whole = cv2.LUT(alpha, _WHOLE)
    rim = max(3, round(EDGE_RIM * max(height, width) / 1920))
    core = cv2.erode(whole, cv2.getStructuringElement(cv2.MORPH_RECT, (2 * rim + 1,) * 2))
    sure = sure_background(alpha)
    # The rim counts within EDGE_RIM_REACH rims of sure background only: alpha 255 beside a
    # soft patch inside the person (the network doubting hair or an ear) is not mixed with the
    # backdrop.
    reach = EDGE_RIM_REACH * rim
    outline = cv2.dilate(sure, cv2.getStructuringElement(cv2.MORPH_RECT, (2 * reach + 1,) * 2))
    rim_px = np.minimum(cv2.bitwise_and(cv2.subtract(whole, core), outline), 1)  # 0/1
    edge = cv2.bitwise_or(soft_mask(alpha), rim_px)
    band = np.flatnonzero(edge.view(np.bool_))  # soft, and the rim (bool: ~10x faster)
    if band.size == 0:
        return alpha
    # Behind each pixel the backdrop, in front of it the person: each one's sure pixels spread
    # by normalised convolution at ~240 px, with what the key and the split need of them.
    k = max(1, round(max(height, width) / EDGE_KEY_SIZE))
    spread = np.empty((max(1, height // k), max(1, width // k), _FIELDS), np.float32)
    _spread(rgb, sure, spread[..., 0:4])
    _spread(rgb, core, spread[..., 4:8])
    spread[..., _B_LAB] = cv2.cvtColor(cv2.convertScaleAbs(spread[..., _B]), cv2.COLOR_RGB2LAB)
    _split_fields(spread)
    # Sample them (bilinear) at the band's pixels: map full-size pixel centres to small ones.
    # The band's pixels as a block of 1024 columns: OpenCV works row by row (a column of N
    # single pixels was 5x slower) and remap refuses more than 32767 rows.
    n = band.size
    rows = -(-n // 1024)
    padded = np.resize(band, rows * 1024)
    ys, xs = np.divmod(padded, width)
    map_x = ((xs + 0.5) * (spread.shape[1] / width) - 0.5).astype(np.float32).reshape(rows, 1024)
    map_y = ((ys + 0.5) * (spread.shape[0] / height) - 0.5).astype(np.float32).reshape(rows, 1024)
    at = cv2.remap(spread, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    at = at.reshape(-1, _FIELDS)[:n]
    seen = np.take(rgb.reshape(-1, 3), band, axis=0)
    near_b = at[:, _NEAR_B] > 0.05  # sure background near: the estimates hold
    # Edge key: the backdrop's own colour (Lab, lightness at half weight) becomes transparent.
    off = cv2.cvtColor(seen.reshape(-1, 1, 3), cv2.COLOR_RGB2LAB).reshape(n, 3) - at[:, _B_LAB]
    distance = np.sqrt((off * off) @ _KEY_WEIGHTS)
    likeness = np.clip((EDGE_KEY_FAR - distance) / (EDGE_KEY_FAR - EDGE_KEY_NEAR), 0.0, 1.0)
    likeness *= near_b
    # Mixed pixels: their share of person, where backdrop and person colour are told apart.
    share, trust = _person_share(seen.astype(np.float32), at)
    trust *= near_b
    out = alpha.copy()
    flat = out.reshape(-1)
    keyed = flat[band] * (1.0 - likeness)
    flat[band] = np.round(keyed + trust * (255.0 * share - keyed)).astype(np.uint8)
    return out


# ---------------------------------------------------------------------- storage


def _frame_count(stream: Any) -> int:
    if stream.frames:
        return int(stream.frames)
    if stream.duration and stream.time_base and stream.average_rate:
        return round(float(stream.duration * stream.time_base * stream.average_rate))
    return 0


def build_matte(
    video_path: Path,
    out_path: Path,
    progress: Callable[[float], None] | None = None,
    *,
    matter: Matter | None = None,
    plate_path: Path | None = None,
) -> int:
    """Matte every frame of ``video_path`` into ``out_path`` (a stored matte, see the module
    docstring); returns the count. With ``plate_path``, the backdrop seen behind the person is
    stored there too (``twins.plate``; not written when too little of it was seen)."""
    from twinstudio.twins.plate import PlateBuilder

    matter = matter or Matter()
    matter.reset()
    try:
        source = av.open(str(video_path))
    except (av.FFmpegError, OSError) as exc:
        raise RenderError(
            "unreadable_media", f"Could not open {Path(video_path).name}: {exc}"
        ) from exc
    count = 0
    out_path = Path(out_path)
    try:
        with source, av.open(str(out_path), "w", format=MATTE_FORMAT) as sink:
            stream = source.streams.video[0]
            stream.thread_type = "AUTO"
            total = _frame_count(stream)
            size = (stream.codec_context.width, stream.codec_context.height)
            out = matte_stream(sink, stream.average_rate or 25, size)
            plate = PlateBuilder(size) if plate_path is not None else None
            for frame in source.decode(stream):
                rgb = frame.to_ndarray(format="rgb24")
                alpha = matter.alpha(rgb)
                if plate is not None:
                    plate.add(rgb, alpha)
                gray = av.VideoFrame.from_ndarray(alpha, format="gray")
                gray.pts = count
                for packet in out.encode(gray):
                    sink.mux(packet)
                count += 1
                if progress is not None and total:
                    progress(min(1.0, count / total))
            for packet in out.encode(None):
                sink.mux(packet)
        if plate is not None and plate_path is not None:
            plate.save(plate_path)
    except av.FFmpegError as exc:
        out_path.unlink(missing_ok=True)
        raise RenderError("matte_failed", f"Matting {Path(video_path).name} failed: {exc}") from exc
    if progress is not None:
        progress(1.0)
    return count


def read_matte(path: Path, start: int = 0, fps: float | None = None) -> Iterator[np.ndarray]:
    """Yield the alphas of a matte file in order from frame ``start``, uint8 (H, W) at full
    size, decoded with frame threads (one thread took ~8 ms a 1080p frame).

    With ``fps``, a start past 0 seeks to the keyframe before it (every frame of a PNG matte;
    one in 60 of an older pack's FFV1 one) and skips by timestamp, instead of decoding every
    frame from 0 (a render's loop starting 6 s into the footage decoded 180 needless 1080p
    frames per turn). A file without timestamps falls back to counting from frame 0. Raises
    ``RenderError`` (``unreadable_matte``) for a file that cannot be opened or decoded."""
    name = Path(path).name
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError) as exc:
        raise RenderError("unreadable_matte", f"Could not open matte {name}: {exc}") from exc
    with container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        seek = start > 0 and fps is not None and stream.time_base is not None
        try:
            if seek:
                assert fps is not None and stream.time_base is not None
                target = int(start / fps / stream.time_base)
                container.seek(target, stream=stream, backward=True, any_frame=False)
            index = 0
            for frame in container.decode(stream):
                if seek:
                    if frame.time is None:  # cannot tell where we are: count from 0 instead
                        yield from read_matte(path, start)
                        return
                    index = round(float(frame.time) * float(fps or 1))
                if index >= start:
                    yield frame.to_ndarray(format="gray")
                index += 1
        except av.FFmpegError as exc:
            raise RenderError("unreadable_matte", f"Matte {name} is damaged: {exc}") from exc


def matte_stream(sink: Any, rate: Any, size: tuple[int, int]) -> Any:
    """Add a stored matte's video stream (``size`` (w, h), ``rate`` frames a second) to ``sink``,
    a container opened for writing with ``format=MATTE_FORMAT``."""
    stream = sink.add_stream(MATTE_CODEC, rate=rate)
    stream.width, stream.height = size
    stream.pix_fmt = "gray"
    stream.options = dict(MATTE_OPTIONS)
    return stream


def write_matte(
    path: Path, alphas: Iterator[np.ndarray] | list[np.ndarray], fps: float = 25
) -> int:
    """Write given alphas as a stored matte (used by photo twins, tests and tools that matte
    elsewhere)."""
    count = 0
    with av.open(str(path), "w", format=MATTE_FORMAT) as sink:
        stream: Any = None
        for alpha in alphas:
            if stream is None:
                stream = matte_stream(sink, round(fps), (alpha.shape[1], alpha.shape[0]))
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(alpha), format="gray")
            frame.pts = count
            for packet in stream.encode(frame):
                sink.mux(packet)
            count += 1
        if stream is not None:
            for packet in stream.encode(None):
                sink.mux(packet)
    return count
