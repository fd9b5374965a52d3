"""Fetching media from a URL a client gave us (footage, audio, background images).

Only http(s); link-local addresses (cloud metadata services) are always refused, and private or
loopback addresses unless the operator allows them (TWINSTUDIO_FETCH_ALLOW_PRIVATE=true).
"""

from __future__ import annotations

import ipaddress
import os
import socket
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from twinstudio.errors import InvalidParameter, MediaError


def allow_private() -> bool:
    return os.environ.get("TWINSTUDIO_FETCH_ALLOW_PRIVATE", "").lower() in {"1", "true", "yes"}


def check_url(url: str, param: str, *, private_ok: bool | None = None) -> str:
    """Validate the form of a URL (scheme and host); 400 naming ``param`` otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise InvalidParameter(f"{param} must be an http(s) URL, got {url[:200]!r}.", param=param)
    return url


def _check_address(host: str, param: str, private_ok: bool) -> None:
    try:
        infos = socket.getaddrinfo(host, None)
    except socket.gaierror as exc:
        raise MediaError(
            "fetch_failed", f"Could not resolve the host of {param} ({host})."
        ) from exc
    for info in infos:
        addr = ipaddress.ip_address(info[4][0])
        if addr.is_link_local or addr.is_multicast or addr.is_unspecified:
            raise MediaError("fetch_refused", f"{param} points at a reserved address ({addr}).")
        if (addr.is_private or addr.is_loopback) and not private_ok:
            raise MediaError(
                "fetch_refused",
                f"{param} points at a private address ({addr}); use a public URL or upload the "
                "file with POST /v3/assets (operators can allow this with "
                "TWINSTUDIO_FETCH_ALLOW_PRIVATE=true).",
            )


def download(url: str, dest: Path, *, param: str, max_bytes: int, timeout: float = 60.0) -> Path:
    """Download ``url`` to ``dest`` (no redirects to other hosts' private addresses, size-capped)."""
    check_url(url, param)
    host = urlsplit(url).hostname or ""
    _check_address(host, param, allow_private())
    try:
        with httpx.stream("GET", url, timeout=timeout, follow_redirects=False) as resp:
            if resp.status_code != 200:
                raise MediaError(
                    "fetch_failed",
                    f"Downloading {param} failed with HTTP {resp.status_code}; check the URL is "
                    "public and points straight at the file (redirects are not followed).",
                )
            size = 0
            with dest.open("wb") as out:
                for chunk in resp.iter_bytes(1 << 20):
                    size += len(chunk)
                    if size > max_bytes:
                        raise MediaError(
                            "file_too_large",
                            f"{param} is larger than {max_bytes // (1024 * 1024)} MB.",
                        )
                    out.write(chunk)
    except httpx.HTTPError as exc:
        raise MediaError("fetch_failed", f"Could not download {param}: {exc}.") from exc
    return dest
