"""Uploaded assets (footage, images, audio): type sniffed from the bytes, never from the name."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from twinstudio.db.base import new_id
from twinstudio.db.models import Account, Asset
from twinstudio.errors import InvalidParameter, PayloadTooLarge
from twinstudio.services.context import AppContext

# (mime type, kind, file extension)
SUPPORTED = {
    "image/png": ("image", "png"),
    "image/jpeg": ("image", "jpg"),
    "image/heic": ("image", "heic"),
    "image/heif": ("image", "heif"),
    "image/avif": ("image", "avif"),
    "image/webp": ("image", "webp"),
    "video/mp4": ("video", "mp4"),
    "video/quicktime": ("video", "mov"),
    "video/webm": ("video", "webm"),
    "audio/mpeg": ("audio", "mp3"),
    "audio/wav": ("audio", "wav"),
    "audio/mp4": ("audio", "m4a"),
    "audio/ogg": ("audio", "ogg"),
}


def sniff(head: bytes) -> str | None:
    """The MIME type of a file from its first bytes, or None when it is none we accept."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        image = _heif_image(head)
        if image:
            return image
        if brand == b"qt  ":
            return "video/quicktime"
        if brand in {b"M4A ", b"M4B "}:
            return "audio/mp4"
        return "video/mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm"
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "audio/wav"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "audio/mpeg"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    return None


# ISO-BMFF brands of still images (HEIF, ISO/IEC 23008-12): an iPhone photo's "heic", AVIF's
# "avif", and the generic "mif1". Such a file starts with an ``ftyp`` box as an MP4 does; the
# brands tell them apart (a HEIC photo taken for an MP4 went to the video decoder).
_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis"}
_AVIF_BRANDS = {b"avif", b"avis"}
_HEIF_BRANDS = {b"mif1", b"mif2", b"msf1"}


def _heif_image(head: bytes) -> str | None:
    """The image type of an ISO-BMFF file whose major or compatible brands name a still
    image format (``ftyp``: size, "ftyp", major brand, minor version, compatible brands)."""
    size = int.from_bytes(head[:4], "big")
    end = min(len(head), size if size >= 16 else 16)
    brands = {head[8:12]} | {head[i : i + 4] for i in range(16, end - 3, 4)}
    if head[8:12] in _AVIF_BRANDS or (b"avif" in brands and not brands & _HEIC_BRANDS):
        return "image/avif"
    if brands & _HEIC_BRANDS:
        return "image/heic"
    if head[8:12] in _HEIF_BRANDS:
        return "image/heif"
    return None


@dataclass(frozen=True)
class StoredUpload:
    path: Path
    mime_type: str
    kind: str
    size: int


def receive(stream: BinaryIO, dest: Path, max_bytes: int) -> int:
    """Copy an upload to ``dest`` in chunks, refusing it once it passes ``max_bytes``."""
    size = 0
    with dest.open("wb") as out:
        while chunk := stream.read(1 << 20):
            size += len(chunk)
            if size > max_bytes:
                raise PayloadTooLarge(
                    f"The file is larger than the {max_bytes // (1024 * 1024)} MB limit. "
                    "Upload a shorter or more compressed file (the operator can raise "
                    "TWINSTUDIO_MAX_ASSET_MB / TWINSTUDIO_MAX_FOOTAGE_MB)."
                )
            out.write(chunk)
    return size


def classify(ctx: AppContext, path: Path, size: int, param: str = "file") -> StoredUpload:
    """Sniff the type of a received file and apply the size limit of its kind."""
    with path.open("rb") as f:
        head = f.read(64)
    if size == 0:
        raise InvalidParameter("The file is empty.", param=param)
    mime = sniff(head)
    if mime is None:
        raise InvalidParameter(
            "Unsupported file type: upload PNG, JPEG, HEIC, AVIF or WebP images, MP4/MOV/WebM "
            "video, or MP3/WAV/M4A/OGG audio (the type is read from the file's bytes, not its "
            "name).",
            param=param,
        )
    kind, _ = SUPPORTED[mime]
    limit = ctx.settings.max_footage_bytes if kind == "video" else ctx.settings.max_asset_bytes
    if size > limit:
        raise PayloadTooLarge(
            f"This {kind} is {size // (1024 * 1024)} MB; the limit for {kind} files is "
            f"{limit // (1024 * 1024)} MB."
        )
    return StoredUpload(path=path, mime_type=mime, kind=kind, size=size)


def create_asset(
    ctx: AppContext, session: Session, account: Account, upload: StoredUpload, filename: str = ""
) -> Asset:
    """Store a classified upload and record it for ``account``."""
    asset_id = new_id("asset")
    ext = SUPPORTED[upload.mime_type][1]
    key = f"assets/{account.id}/{asset_id}.{ext}"
    ctx.storage.put_file(key, upload.path, upload.mime_type)
    asset = Asset(
        id=asset_id,
        account_id=account.id,
        kind=upload.kind,
        mime_type=upload.mime_type,
        size_bytes=upload.size,
        storage_key=key,
        filename=filename[:300],
    )
    session.add(asset)
    session.flush()
    return asset


def get_asset(
    session: Session,
    account: Account,
    asset_id: str,
    param: str = "asset_id",
    kind: str | None = None,
) -> Asset:
    """The account's asset; 400 naming ``param`` when unknown, another account's, or the wrong kind."""
    asset = session.scalar(
        select(Asset).where(Asset.id == asset_id, Asset.account_id == account.id)
    )
    if asset is None:
        raise InvalidParameter(
            f"No asset {asset_id!r} in this account; upload it with POST /v3/assets.", param=param
        )
    if kind is not None and asset.kind != kind:
        raise InvalidParameter(
            f"Asset {asset_id!r} is {asset.kind}, but {param} needs {kind}.", param=param
        )
    return asset


def asset_view(ctx: AppContext, asset: Asset) -> dict[str, object]:
    return {
        "asset_id": asset.id,
        "id": asset.id,
        "url": ctx.storage.url(asset.storage_key, ctx.settings.url_ttl_seconds),
        "mime_type": asset.mime_type,
        "size_bytes": asset.size_bytes,
        "kind": asset.kind,
        "created_at": int(asset.created_at),
    }


def copy_asset_to(ctx: AppContext, asset: Asset, dest: Path) -> Path:
    """Copy an asset's file into a job's folder."""
    src = ctx.storage.local_copy(asset.storage_key, dest.parent)
    if src != dest:
        shutil.copyfile(src, dest)
    return dest
