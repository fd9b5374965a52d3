"""Local storage and its signed URLs."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from twinstudio.storage.local import LocalStorage, sign, verify


def test_put_and_delete(tmp_path: Path) -> None:
    st = LocalStorage(tmp_path / "files", "http://h:1", b"k")
    st.put_bytes("videos/v1/a.txt", b"hello")
    st.put_bytes("videos/v1/b.txt", b"world")
    assert st.exists("videos/v1/a.txt")
    assert st.local_copy("videos/v1/a.txt", tmp_path).read_bytes() == b"hello"
    assert st.delete_prefix("videos/v1") == 2
    assert not st.exists("videos/v1/a.txt")


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs", "a/../../b", "a//b", "a/./b", ""])
def test_keys_cannot_escape(tmp_path: Path, key: str) -> None:
    st = LocalStorage(tmp_path, "http://h:1", b"k")
    with pytest.raises(ValueError):
        st.put_bytes(key, b"x")


def test_signed_url_roundtrip_tamper_and_expiry(tmp_path: Path) -> None:
    st = LocalStorage(tmp_path, "http://h:1", b"secret")
    url = st.url("videos/v1/video.mp4", 60)
    parts = urlsplit(url)
    q = parse_qs(parts.query)
    key = parts.path.removeprefix("/files/")
    expires, sig = int(q["expires"][0]), q["sig"][0]
    assert verify(key, expires, sig, b"secret")
    assert not verify("videos/v2/video.mp4", expires, sig, b"secret")  # other file
    assert not verify(key, expires + 1000, sig, b"secret")  # extended expiry
    assert not verify(key, expires, sig, b"other-secret")
    assert not verify(key, expires, sig, b"secret", now=time.time() + 61)  # expired
    assert sign(key, expires, b"secret") == sig
