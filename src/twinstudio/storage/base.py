"""The storage interface: where videos, twin packs and uploaded assets live.

Keys are relative POSIX paths such as ``videos/vid_…/video.mp4``. Backends: ``local`` (files
under the data folder, served by this server through HMAC-signed URLs) and, for scaling out, an
S3-compatible backend. Code that needs a file on disk asks for ``local_copy`` / ``local_tree``.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from pathlib import Path

from twinstudio.registry import Registry

_KEY_RE = re.compile(r"^[A-Za-z0-9_.\-]+(/[A-Za-z0-9_.\-]+)*$")


def check_key(key: str) -> str:
    """Refuse keys that could escape the store (``..``, absolute paths, odd characters)."""
    if not _KEY_RE.match(key) or any(part in {".", ".."} for part in key.split("/")):
        raise ValueError(f"invalid storage key {key!r}")
    return key


class Storage(ABC):
    """Where files live. Implementations must be safe to call from several threads."""

    @abstractmethod
    def put_file(self, key: str, src: Path, content_type: str | None = None) -> None:
        """Store the file at ``src`` under ``key`` (atomically: readers never see half a file)."""

    @abstractmethod
    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None:
        """Store ``data`` under ``key``."""

    @abstractmethod
    def local_copy(self, key: str, dest_dir: Path) -> Path:
        """A path on this machine holding the object (may be the stored file itself: read only)."""

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def delete_prefix(self, prefix: str) -> int:
        """Delete every object under ``prefix``; returns how many were removed."""

    @abstractmethod
    def url(self, key: str, ttl_seconds: int, filename: str | None = None) -> str:
        """A presigned, expiring URL a client can download the object from."""

    def put_tree(self, prefix: str, src_dir: Path) -> None:
        """Store every file below ``src_dir`` under ``prefix/<relative path>``."""
        for path in sorted(src_dir.rglob("*")):
            if path.is_file():
                self.put_file(f"{prefix}/{path.relative_to(src_dir).as_posix()}", path)

    @abstractmethod
    def local_tree(self, prefix: str, dest_dir: Path) -> Path:
        """A folder on this machine with every object under ``prefix`` (read only)."""


backends: Registry[Storage] = Registry("storage backend")
