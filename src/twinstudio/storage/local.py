"""Local-disk storage with HMAC-signed, expiring download URLs served by the API server."""

from __future__ import annotations

import hashlib
import hmac
import os
import shutil
import time
import uuid
from pathlib import Path
from urllib.parse import quote, urlencode

from twinstudio.storage.base import Storage, check_key


def sign(key: str, expires: int, secret: bytes) -> str:
    """The signature of a download link for ``key`` valid until ``expires`` (unix seconds)."""
    msg = f"{key}\n{expires}".encode()
    return hmac.new(secret, msg, hashlib.sha256).hexdigest()


def verify(key: str, expires: int, signature: str, secret: bytes, now: float | None = None) -> bool:
    """True when ``signature`` is right for ``key``/``expires`` and the link has not expired."""
    if (now if now is not None else time.time()) > expires:
        return False
    return hmac.compare_digest(sign(key, expires, secret), signature)


class LocalStorage(Storage):
    """Files under ``root``; URLs point at ``{base_url}/files/{key}?expires=…&sig=…``."""

    def __init__(self, root: Path, base_url: str, secret: bytes) -> None:
        self.root = root
        self.base_url = base_url.rstrip("/")
        self.secret = secret
        root.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        return self.root / check_key(key)

    def _atomic_target(self, key: str) -> tuple[Path, Path]:
        dest = self.path(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        return dest, dest.with_name(f".{dest.name}.{uuid.uuid4().hex}.tmp")

    def put_file(self, key: str, src: Path, content_type: str | None = None) -> None:
        dest, tmp = self._atomic_target(key)
        shutil.copyfile(src, tmp)
        os.replace(tmp, dest)

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None:
        dest, tmp = self._atomic_target(key)
        tmp.write_bytes(data)
        os.replace(tmp, dest)

    def local_copy(self, key: str, dest_dir: Path) -> Path:
        path = self.path(key)
        if not path.is_file():
            raise FileNotFoundError(key)
        return path

    def local_tree(self, prefix: str, dest_dir: Path) -> Path:
        path = self.path(prefix)
        if not path.is_dir():
            raise FileNotFoundError(prefix)
        return path

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def delete_prefix(self, prefix: str) -> int:
        path = self.path(prefix)
        if path.is_file():
            path.unlink()
            return 1
        if not path.is_dir():
            return 0
        count = sum(1 for p in path.rglob("*") if p.is_file())
        shutil.rmtree(path, ignore_errors=True)
        return count

    def url(self, key: str, ttl_seconds: int, filename: str | None = None) -> str:
        expires = int(time.time()) + ttl_seconds
        query = {"expires": str(expires), "sig": sign(key, expires, self.secret)}
        return f"{self.base_url}/files/{quote(check_key(key))}?{urlencode(query)}"
