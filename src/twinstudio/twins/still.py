"""Reading a still image (a photo twin's portrait, a video's background) as the sRGB it shows.

The renderer works in sRGB (BT.601 once coded), so a still must be read in the colours it was
made to show, not as the raw numbers in its file. Many are not sRGB: iPhone photos (JPEGs
exported from HEIC) carry a Display P3 ICC profile, cameras and editors write Adobe RGB, print
work comes as CMYK JPEGs with a profile. Read as if they were sRGB, P3 pictures come out
desaturated and shifted (saturated reds, lips and skin off by several levels). So
:func:`read_still` converts an embedded profile's colours to sRGB with LittleCMS
(``PIL.ImageCms``), turns the picture upright by its EXIF orientation, flattens transparency
onto white and brings 16-bit and palette images to 8-bit RGB. A profile LittleCMS cannot use
never fails an upload: the picture is read as untagged (as before) and a warning logged.

An iPhone's own photos are HEIC (HEVC-coded HEIF), which Pillow alone cannot open; they are read
through ``pillow-heif`` (libheif), registered with Pillow the first time a still is read. HEIF
turns its pictures with its own ``irot``/``imir`` boxes, which libheif applies as it decodes (its
default), and pillow-heif sets the EXIF orientation to 1 (keeping the old value as
``original_orientation``), so ``exif_transpose`` does not turn the picture a second time. Its
ICC profile (an iPhone's Display P3) goes through the same conversion as a JPEG's, and a 10-bit
photo comes out scaled to 8 bits. AVIF and WebP are read by Pillow itself.
"""

from __future__ import annotations

import io
import logging
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from twinstudio.errors import FootageError

if TYPE_CHECKING:
    from PIL import Image, ImageCms

__all__ = ["FLATTEN_ONTO", "read_still"]

log = logging.getLogger(__name__)

# Where a still is transparent it shows this colour. A portrait photo or a backdrop image with
# see-through parts is seen on white by nearly every viewer (browsers, phone galleries, documents),
# so white is what its owner expects; the RGB hidden under fully transparent pixels is arbitrary
# (often black, or junk left by the editor).
FLATTEN_ONTO = (255, 255, 255)

# Modes whose pixels go through a profile as they are, and the mode of the colours that come out.
_PROFILE_MODES = {"RGB": "RGB", "L": "RGB", "CMYK": "RGB"}


def read_still(path: Path, *, what: str = "image") -> np.ndarray:
    """RGB uint8 (H, W, 3) of the image file ``path``, in sRGB, upright, without transparency.

    ``what`` names the kind of picture in the error's advice ("portrait photo", "image").
    Raises ``FootageError("not_an_image")`` when the file cannot be read as an image.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = Path(path)
    _register_heif()
    try:
        with Image.open(path) as img:
            icc = img.info.get("icc_profile")
            upright = ImageOps.exif_transpose(img)
            picture = _eight_bit(_flattened(upright))
            if icc:
                picture = _to_srgb(picture, icc, path.name)
            rgb = np.asarray(picture.convert("RGB"))
    except Image.DecompressionBombError as exc:
        raise FootageError(
            "not_an_image",
            f"{path.name} is too large to read safely ({exc}). Upload a JPEG or PNG {what} of "
            "at most 40 megapixels (4K is plenty).",
        ) from exc
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise FootageError(
            "not_an_image",
            f"{path.name} could not be read as an image. Upload the {what} as JPEG, PNG, HEIC, "
            "AVIF or WebP.",
        ) from exc
    return rgb


@cache
def _register_heif() -> bool:
    """Let Pillow open HEIC/HEIF files (once per process); False when pillow-heif is missing."""
    try:
        from pillow_heif import register_heif_opener
    except ImportError:  # an install without it still reads every other format
        log.warning("pillow-heif is not installed: HEIC photos cannot be read")
        return False
    register_heif_opener()
    return True


def _flattened(img: Image.Image) -> Image.Image:
    """``img`` with any transparency composited onto :data:`FLATTEN_ONTO`; else ``img``."""
    from PIL import Image

    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    elif img.mode == "PA":
        img = img.convert("RGBA")
    elif img.mode in ("RGB", "L") and "transparency" in img.info:  # a tRNS colour key
        img = img.convert(img.mode + "A")
    if img.mode not in ("RGBA", "LA", "RGBa", "La"):
        return img
    colour = img.mode[0]  # "R" or "L": keep greyscale grey so a grey profile still applies
    base_mode = "RGB" if colour == "R" else "L"
    fill = FLATTEN_ONTO if base_mode == "RGB" else round(float(np.mean(FLATTEN_ONTO)))
    straight = img.convert(base_mode + "A")  # premultiplied (RGBa, La) → straight alpha
    out = Image.new(base_mode, straight.size, fill)
    out.paste(straight.convert(base_mode), mask=straight.getchannel("A"))
    out.info = dict(img.info)
    return out


def _eight_bit(img: Image.Image) -> Image.Image:
    """16-bit greyscale (mode I;16*, I) scaled to 8 bits; Pillow's own convert clips at 255."""
    from PIL import Image

    if not img.mode.startswith("I"):
        return img
    wide = np.asarray(img).astype(np.int64)
    narrow = ((np.clip(wide, 0, 65535) + 128) // 257).astype(np.uint8)
    out = Image.fromarray(narrow)  # uint8 (H, W) → mode L
    out.info = dict(img.info)
    return out


def _to_srgb(img: Image.Image, icc: bytes, name: str) -> Image.Image:
    """``img`` converted from its embedded ``icc`` profile to sRGB; as it was if that fails."""
    from PIL import ImageCms

    if img.mode not in _PROFILE_MODES:
        img = img.convert("RGB")
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        # Relative colorimetric: in-gamut colours (skin, most of any photo) land exactly where
        # the profile says, and only colours sRGB cannot show are clipped to its edge. The
        # matrix/TRC profiles photos carry (Display P3, Adobe RGB) have no perceptual tables,
        # so LittleCMS would fall back to colorimetric for them anyway; asking for it makes
        # CMYK profiles (which do have perceptual tables) behave the same way. Black point
        # compensation maps a print profile's black to sRGB black instead of a washed-out grey
        # (a no-op for display profiles, whose black is already zero).
        converted = ImageCms.profileToProfile(
            img,
            source,
            _srgb(),
            renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC,
            outputMode=_PROFILE_MODES[img.mode],
            flags=ImageCms.Flags.BLACKPOINTCOMPENSATION,
        )
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError) as exc:
        log.warning("%s: its colour profile could not be used, read as sRGB (%s)", name, exc)
        return img
    assert converted is not None  # not in place
    return converted


@cache
def _srgb() -> ImageCms.ImageCmsProfile:
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
