"""The footage's colour, brought to the renderer's: the BT.601 matrix, limited range, SDR.

Every picture a render makes is I420 with the BT.601 matrix in limited range, and is tagged so
(``render.yuv``, ``render.encode``). Before 2026-12-06 the footage's planes went into the twin
unconverted whatever their tags said, so footage coded otherwise played back wrong. Measured on
a chart of 12 patches (``tests/unit/twins/test_colour.py``), as it came out of the twin:

- **full range** (``yuvj420p``, or ``yuv420p`` tagged ``pc``: webcams, screen recorders, some
  Android phones): black 16 → 0, greys 200 → 214 and 225 → 243, every step stretched by
  255/219;
- **the BT.709 matrix** (most HD cameras and phones tag it): colours off by up to 17 levels of a
  channel (red (200, 60, 50) → (187, 45, 52), green (60, 160, 70) → (69, 177, 74));
- **HDR** (iPhones record HLG in BT.2020 by default; PQ from other cameras): flat, grey and
  washed out; HLG's white patch 225 → 179 and grey 128 → 114, PQ's white 225 → 141.

Now ``Converter`` reads each frame with the matrix and range its tags name (every patch within
3 levels), and HDR is tone-mapped to SDR BT.709 first: ITU-R BT.2408's display-light mapping
(the HDR reference white of 203 cd/m² stands for SDR white) up to ``KNEE`` of that white, and
above it a roll-off that reaches white at the format's peak instead of clipping (the reference
white itself lands at 244 of 255; the chart, all below the knee, within 2 levels). A twin
trained from an HLG copy of a real clip: its frames 12.7–13.1 levels (mean |difference|) from
the filmed ones before, 2.2–2.8 now.

Footage without a matrix tag (screen recorders, editors' exports, and nine of the ten dev
clips) is limited range and, when it is SDR, coded as its primaries' tag says, else by its size:
BT.601 up to 1024 × 576, BT.709 above (``SD_MAX``). That is how the players its maker watched
it in take it (VLC: taller than 576 lines; QuickTime: taller than 576 or wider than 704; CSS
Color 4 recommends BT.709 for untagged 720p and 1080p), and HD cameras code with BT.709. Until
2026-12-07 all of it was taken as BT.601 (swscale's default), so untagged HD coded with BT.709
came out of the twin as the BT.709 row above shows: colours off by up to 17 levels.

Cost on the 2-core machine (training only; renders read the twin's own BT.601 video): a
1080p frame converted from another SDR coding ~10 ms; from HDR 58 ms, of which the tone map is
44 ms (in bands of rows, one per core; 85-91 ms on one). The 1080p blazer clip's HLG copy
(7.4 s, HEVC Main 10) trained in 31.7-32.9 s against 14.2-14.7 s for the original.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import cv2
import numpy as np

from twinstudio.render import yuv

__all__ = ["SDR_BT601", "Converter", "FootageColour", "footage_colour"]

# FFmpeg's colour tags (AVCOL_*).
_SPC_BT709 = 1
_SPC_UNSPECIFIED = 2
_SPC_BT601 = (5, 6)  # BT.470BG, SMPTE 170M: the same matrix
_PRI_BT709 = 1
_PRI_SD = (4, 5, 6)  # BT.470M, BT.470BG, SMPTE 170M: standard-definition television's
# An untagged picture larger than this either way is HD, taken as coded with the BT.709 matrix
# (576: PAL's lines, as VLC and QuickTime draw the line; 1024: PAL widescreen's square pixels).
SD_MAX = (1024, 576)
_SPC_BT2020 = (9, 10)  # non-constant and constant luminance (the latter decoded as the former)
_RANGE_JPEG = 2
_TRC_PQ = 16  # SMPTE ST 2084
_TRC_HLG = 18  # ARIB STD-B67

# HDR → SDR (BT.2100, BT.2408).
HDR_REFERENCE_WHITE = 203.0  # cd/m²: HDR's graphics white, which SDR white stands for
HLG_PEAK = 1000.0  # cd/m²: the nominal display HLG's system gamma of 1.2 is set for
PQ_CEILING = 10.0  # × reference white: PQ light above ~2,000 cd/m² is taken as that much
KNEE = 0.8  # SDR light above this (relative to white) rolls off towards 1 instead of clipping
SDR_GAMMA = 2.4  # BT.1886 display
_LUT_STEPS = 65536
# Linear BT.2020 RGB → linear BT.709 RGB (ITU-R BT.2087).
_BT2020_TO_BT709 = np.array(
    [
        [1.6605, -0.5876, -0.0728],
        [-0.1246, 1.1329, -0.0083],
        [-0.0182, -0.1006, 1.1187],
    ],
    dtype=np.float32,
)
_BT2020_LUMA = np.array([[0.2627, 0.6780, 0.0593]], dtype=np.float32)
_HLG_A, _HLG_B, _HLG_C = 0.17883277, 0.28466892, 0.55991073
_PQ_M1, _PQ_M2 = 2610 / 16384, 2523 / 4096 * 128
_PQ_C1, _PQ_C2, _PQ_C3 = 3424 / 4096, 2413 / 4096 * 32, 2392 / 4096 * 32


@dataclass(frozen=True)
class FootageColour:
    """How a recording's pictures are coded, from its tags (and its size when it has none)."""

    matrix: str = "bt601"  # "bt601" (also untagged SD), "bt709" (also untagged HD) or "bt2020"
    full_range: bool = False
    transfer: str = "sdr"  # "sdr", "hlg" or "pq"

    @property
    def hdr(self) -> bool:
        return self.transfer != "sdr"

    @property
    def native(self) -> bool:
        """True when the planes are already the renderer's (BT.601, limited range, SDR)."""
        return self.matrix == "bt601" and not self.full_range and not self.hdr

    def describe(self) -> str:
        """Short words for logs and training notes, e.g. 'BT.709, full range, HLG'."""
        words = [self.matrix.upper().replace("BT", "BT.")]
        words.append("full range" if self.full_range else "limited range")
        if self.hdr:
            words.append(self.transfer.upper())
        return ", ".join(words)


SDR_BT601 = FootageColour()  # the renderer's own coding, and untagged SD footage's


def footage_colour(frame: Any) -> FootageColour:
    """The colour coding of a decoded ``av.VideoFrame``, from its tags and pixel format."""
    spc = int(getattr(frame, "colorspace", 2) or 2)
    trc = int(getattr(frame, "color_trc", 2) or 2)
    fmt = str(frame.format.name)
    full = int(getattr(frame, "color_range", 0) or 0) == _RANGE_JPEG or fmt.startswith("yuvj")
    transfer = {_TRC_HLG: "hlg", _TRC_PQ: "pq"}.get(trc, "sdr")
    if spc == _SPC_UNSPECIFIED and transfer == "sdr":
        matrix = _untagged_matrix(frame)
    elif spc == _SPC_BT709:
        matrix = "bt709"
    elif spc in _SPC_BT2020 or (transfer != "sdr" and spc not in _SPC_BT601):
        matrix = "bt2020"  # HDR tagged only by its transfer is BT.2020 all the same
    else:
        matrix = "bt601"
    if fmt.startswith(("rgb", "bgr", "gbr", "gray")):
        full, matrix = True, "bt601"  # no matrix; swscale's RGB input is full range
    return FootageColour(matrix, full, transfer)


def _untagged_matrix(frame: Any) -> str:
    """The matrix an SDR picture without a matrix tag was most likely coded with: its primaries'
    television system when those are tagged, else its size's (``SD_MAX``)."""
    primaries = int(getattr(frame, "color_primaries", 2) or 2)
    if primaries == _PRI_BT709:
        return "bt709"
    if primaries in _PRI_SD:
        return "bt601"
    width, height = int(getattr(frame, "width", 0)), int(getattr(frame, "height", 0))
    return "bt709" if width > SD_MAX[0] or height > SD_MAX[1] else "bt601"


def _swscale_args(colour: FootageColour) -> dict[str, Any]:
    from av.video.reformatter import ColorRange, Colorspace

    src = {
        "bt601": Colorspace.ITU601,
        "bt709": Colorspace.ITU709,
        "bt2020": Colorspace.BT2020,
    }[colour.matrix]
    return {
        "src_colorspace": src,
        "src_color_range": ColorRange.JPEG if colour.full_range else ColorRange.MPEG,
    }


class Converter:
    """Decoded footage frame → (yuv420p ``av.VideoFrame`` at ``size`` in the renderer's colour,
    RGB uint8 at ``small`` for tracking), rotated by ``rotation`` degrees counter-clockwise."""

    def __init__(
        self,
        colour: FootageColour,
        size: tuple[int, int],
        small: tuple[int, int],
        rotation: int = 0,
        crop: tuple[int, int, int, int] | None = None,
    ) -> None:
        self.colour = colour
        self.size, self.small, self.rotation = size, small, rotation % 360
        self.crop = crop  # (x0, y0, x1, y1) of the turned picture kept (``twins.borders``)
        self._src = _swscale_args(colour)
        self._tone: _ToneMap | None = _ToneMap(colour.transfer) if colour.hdr else None

    def __call__(self, frame: Any) -> tuple[Any, np.ndarray]:
        import av

        w, h = self.size
        if self.colour.native and not self.rotation and self.crop is None:
            picture = frame.reformat(width=w, height=h, format="yuv420p", **self._src)
            rgb = frame.reformat(
                format="rgb24",
                width=self.small[0],
                height=self.small[1],
                interpolation="FAST_BILINEAR",
                **self._src,
            ).to_ndarray()
            return picture, rgb
        # Through RGB: swscale's own YUV → YUV conversion between matrices rounds chroma down
        # (a grey came back green by 3 levels of R and B); its YUV → RGB is exact to a level.
        # Footage with bars cut off (``crop``) is read at its own size, turned, cut, then scaled
        # (the bars are rare; a few ms a 1080p frame more than letting swscale scale).
        turned = self.rotation in (90, 270)
        rot_w, rot_h = (None, None) if self.crop is not None else (h, w) if turned else (w, h)
        if self._tone is None:
            rgb = frame.reformat(format="rgb24", width=rot_w, height=rot_h, **self._src)
            rgb = rgb.to_ndarray()
        else:
            rgb48 = frame.reformat(format="rgb48le", width=rot_w, height=rot_h, **self._src)
            rgb = self._tone(rgb48.to_ndarray())
        if self.rotation:
            rgb = np.rot90(rgb, k=self.rotation // 90)
        if self.crop is not None:
            x0, y0, x1, y1 = self.crop
            shrink = cv2.INTER_AREA if w < x1 - x0 else cv2.INTER_LINEAR
            rgb = cv2.resize(rgb[y0:y1, x0:x1], self.size, interpolation=shrink)
        rgb = np.ascontiguousarray(rgb)
        picture = av.VideoFrame.from_numpy_buffer(yuv.from_rgb(rgb), format="yuv420p")
        return picture, cv2.resize(rgb, self.small, interpolation=cv2.INTER_LINEAR)

    def close(self) -> None:
        """Let go of the tone map's threads, if it started any."""
        if self._tone is not None:
            self._tone.close()


class _ToneMap:
    """16-bit non-linear BT.2020 RGB (HLG or PQ) → 8-bit SDR BT.709 RGB.

    Per pixel: the signal to linear light by table (HLG: scene light, then the BT.2100 OOTF for a
    1,000 cd/m² display, its gain from the pixel's luminance; PQ: display light), in units of
    the reference white; BT.2020 → BT.709 primaries; then one table per channel: the knee above
    ``KNEE`` and the BT.1886 display's inverse gamma, to 8 bits.
    """

    def __init__(self, transfer: str) -> None:
        signal = np.arange(1024, dtype=np.float64) / 1023.0  # 10 bits of the 16
        if transfer == "hlg":
            low = signal**2 / 3.0
            high = (np.exp((np.maximum(signal, 0.5) - _HLG_C) / _HLG_A) + _HLG_B) / 12.0
            self._linear = np.where(signal <= 0.5, low, high).astype(np.float32)
            self._gain = HLG_PEAK / HDR_REFERENCE_WHITE
            self._ceiling = HLG_PEAK / HDR_REFERENCE_WHITE
        else:
            p = signal ** (1.0 / _PQ_M2)
            nits = 10000.0 * (np.maximum(p - _PQ_C1, 0.0) / (_PQ_C2 - _PQ_C3 * p)) ** (1.0 / _PQ_M1)
            self._linear = (nits / HDR_REFERENCE_WHITE).astype(np.float32)
            self._gain = 0.0
            self._ceiling = PQ_CEILING
        self._hlg = transfer == "hlg"
        light = np.linspace(0.0, self._ceiling, _LUT_STEPS)
        # Extended Reinhard on the light above the knee: slope 1 at the knee, white at the
        # ceiling, so every highlight up to the format's peak stays distinct.
        t = np.maximum(light - KNEE, 0.0) / (1 - KNEE)
        top = (self._ceiling - KNEE) / (1 - KNEE)
        rolled = np.where(light <= KNEE, light, KNEE + (1 - KNEE) * t * (1 + t / top**2) / (1 + t))
        self._encode = np.round(255.0 * np.clip(rolled, 0.0, 1.0) ** (1.0 / SDR_GAMMA))
        self._encode = self._encode.astype(np.uint8)
        self._scale = (_LUT_STEPS - 1) / self._ceiling
        self._pool: ThreadPoolExecutor | None = None

    def __call__(self, rgb48: np.ndarray) -> np.ndarray:
        """Tone-map ``rgb48`` in bands of rows, one per core (NumPy's indexing and OpenCV's
        calls release the GIL: 85-91 → 42-45 ms a 1080p frame on the 2-core machine)."""
        bands = min(os.cpu_count() or 1, 4, max(1, rgb48.shape[0] // 64))
        if bands == 1:
            return self._band(rgb48)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(bands, thread_name_prefix="tone-map")
        edges = np.linspace(0, rgb48.shape[0], bands + 1).astype(int)
        parts = [rgb48[a:b] for a, b in pairwise(edges)]
        return np.concatenate(list(self._pool.map(self._band, parts)))

    def close(self) -> None:
        """Stop the band threads (a later call starts them again)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def _band(self, rgb48: np.ndarray) -> np.ndarray:
        light = self._linear[rgb48 >> 6]  # (h, w, 3) float32; indexing beats take() here
        if self._hlg:
            luma = cv2.transform(light, _BT2020_LUMA)
            gain = cv2.pow(np.maximum(luma, 1e-6), 0.2) * np.float32(self._gain)
            light = cv2.multiply(light, cv2.merge([gain, gain, gain]))
        light = cv2.transform(light, _BT2020_TO_BT709 * self._scale)
        index = np.clip(light, 0, _LUT_STEPS - 1).astype(np.uint16)
        return self._encode[index]
