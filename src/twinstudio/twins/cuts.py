"""The mouth bank's stored cuts (``mouths.npz``): written as they are made, read one at a time.

A cut is one footage frame's lower face, unwarped, encoded as lossless WebP (pack revision 3;
older packs hold JPEG, and the decoder tells them apart by their bytes). Bank cuts are stored
*lossless*: a cut is resampled once more when it is pasted, and every loss adds up on the finest
detail (teeth edges, lip lines). JPEG at quality 95 already took ~8 % of a 1080p mouth's
Laplacian variance (and higher JPEG qualities add ringing, which reads as false detail);
lossless WebP keeps the footage's pixels exactly at ~2.5 × the size of that JPEG and ~10 ms to
encode a 1080p cut with the fastest method (OpenCV's own WebP writer takes ~170 ms: it offers no
effort setting).

The file is an ordinary uncompressed ``.npz`` (``data``: every cut's bytes end to end,
``offsets`` (N+1,), ``format``), so ``numpy.load`` reads it. What this module adds is that
neither side holds the bank in memory, whose size grows with the footage: 1080p cuts take
~70 KB each, 255 MB for two minutes of footage, 1.3 GB for the ten minutes training accepts.

- :class:`MouthCropWriter` spools each encoded cut to an anonymous temporary file as it comes,
  and :meth:`~MouthCropWriter.save` copies it into the archive in blocks. Before, the cuts were
  kept in a list and joined into one buffer to save: training on two minutes of 1080p footage
  peaked at 905 MB, ~570 MB of it those two copies.
- :class:`MouthCrops` reads a cut with one positioned read (``os.pread``) of its bytes inside
  the archive's stored ``data`` member: the bank stays in the page cache, shared and
  reclaimable, not in the renderer's memory. Before, ``data`` was loaded whole: a render with
  that two-minute twin peaked 230 MB above one with a 7-second twin. A compressed archive (not
  written by twinstudio) is still read whole.
"""

from __future__ import annotations

import io
import os
import shutil
import struct
import tempfile
import zipfile
from pathlib import Path
from typing import IO, Any

import numpy as np

JPEG_QUALITY = 95  # older packs' cuts (revision ≤ 2), and the fallback without WebP support
CUT_FORMAT = "webp-lossless"
_DATA = "data.npy"
_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")  # a zip member's local file header (30 bytes)


class MouthCropWriter:
    """Collects encoded crops (lossless WebP) in a temporary file; :meth:`save` writes them as
    one ``.npz`` (bytes + offsets, no pickle). ``spool_dir``: where that file lives (unlinked
    at once, so nothing is left behind; the system's temporary folder by default)."""

    def __init__(self, lossless: bool = True, spool_dir: Path | None = None) -> None:
        self.format = CUT_FORMAT if lossless and _webp_available() else "jpeg"
        self._spool: IO[bytes] = tempfile.TemporaryFile(dir=spool_dir)  # noqa: SIM115 - closed by save()/close()
        self._sizes: list[int] = []

    def add(self, crop_rgb: np.ndarray) -> None:
        """Encode one cut (RGB) and append it."""
        if self.format == CUT_FORMAT:
            chunk = _encode_webp_lossless(crop_rgb)
        else:
            import cv2

            ok, buf = cv2.imencode(
                ".jpg", crop_rgb[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]
            )
            if not ok:  # pragma: no cover - OpenCV only fails on empty input
                raise ValueError("could not encode a mouth crop")
            chunk = buf.tobytes()
        self._spool.write(chunk)
        self._sizes.append(len(chunk))

    def __len__(self) -> int:
        return len(self._sizes)

    def save(self, path: Path) -> None:
        """Write the ``.npz`` (uncompressed, so :class:`MouthCrops` can read cuts in place) and
        let the spooled bytes go."""
        offsets = np.concatenate([[0], np.cumsum(self._sizes, dtype=np.int64)]).astype(np.int64)
        total = int(offsets[-1])
        with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
            with archive.open(_DATA, "w", force_zip64=True) as member:
                header = {"descr": "|u1", "fortran_order": False, "shape": (total,)}
                np.lib.format.write_array_header_2_0(member, header)
                self._spool.seek(0)
                shutil.copyfileobj(self._spool, member, 1 << 20)
            for name, array in (("offsets", offsets), ("format", np.array(self.format))):
                with archive.open(f"{name}.npy", "w") as member:
                    np.lib.format.write_array(member, array, allow_pickle=False)
        self.close()

    def close(self) -> None:
        """Drop the spooled cuts (``save`` does this too)."""
        self._spool.close()


def _webp_available() -> bool:
    try:
        from PIL import features
    except ImportError:  # pragma: no cover - Pillow is a dependency
        return False
    return bool(features.check("webp"))


def _encode_webp_lossless(crop_rgb: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    # method 0: the fastest effort (4x faster than 1 for ~25 % more bytes); still exact.
    Image.fromarray(np.ascontiguousarray(crop_rgb)).save(buf, "WEBP", lossless=True, method=0)
    return buf.getvalue()


def _stored_data_start(f: IO[bytes]) -> int | None:
    """Byte position of the ``data`` array's first element inside the archive open as ``f``,
    when that member is stored uncompressed as a flat uint8 array (else None: read it whole)."""
    with zipfile.ZipFile(f) as archive:
        info = archive.getinfo(_DATA)
    if info.compress_type != zipfile.ZIP_STORED:
        return None
    f.seek(info.header_offset)
    fields = _LOCAL_HEADER.unpack(f.read(_LOCAL_HEADER.size))
    if fields[0] != b"PK\x03\x04":
        return None
    f.seek(fields[-2] + fields[-1], os.SEEK_CUR)  # the name and the extra field
    version = np.lib.format.read_magic(f)
    read_header = {
        (1, 0): np.lib.format.read_array_header_1_0,
        (2, 0): np.lib.format.read_array_header_2_0,
    }.get(version)
    if read_header is None:
        return None
    shape, fortran, dtype = read_header(f)
    if dtype != np.uint8 or len(shape) != 1 or fortran:
        return None
    return f.tell()


class MouthCrops:
    """Random access to the crops saved by ``MouthCropWriter`` (read and decoded on demand, one
    cut at a time); reads the lossless WebP cuts of revision 3 and the JPEG cuts of older packs
    alike. Thread-safe: reads are positioned, nothing is shared but the open file."""

    def __init__(self, path: Path) -> None:
        self._file: Any = None
        self._file = open(path, "rb")  # noqa: SIM115 - kept open for the reads; see close()
        self._start = _stored_data_start(self._file)
        self._file.seek(0)
        with np.load(self._file, allow_pickle=False) as z:
            self._offsets = z["offsets"]
            self.format = str(z["format"]) if "format" in z.files else "jpeg"
            # A compressed archive has no place to read a cut from: its data is held whole.
            self._data: np.ndarray | None = z["data"] if self._start is None else None
        if self._start is None:
            self.close()

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def raw(self, i: int) -> bytes:
        """Cut ``i``'s encoded bytes."""
        lo, hi = int(self._offsets[i]), int(self._offsets[i + 1])
        if self._data is not None:
            return self._data[lo:hi].tobytes()
        assert self._start is not None
        return os.pread(self._file.fileno(), hi - lo, self._start + lo)

    def get(self, i: int) -> np.ndarray:
        """Cut ``i`` decoded, RGB."""
        import cv2

        buf = np.frombuffer(self.raw(i), np.uint8)
        bgr = cv2.imdecode(buf, cv2.IMREAD_COLOR)
        if bgr is None:
            raise ValueError(f"mouth bank cut {i} could not be decoded ({self.format})")
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    def close(self) -> None:
        """Close the archive (also done when the object is collected)."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def __del__(self) -> None:
        self.close()

    def __enter__(self) -> MouthCrops:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
