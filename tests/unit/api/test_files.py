"""Signed download links served by the API: valid → file, tampered or expired → 403."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi.testclient import TestClient


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_signed_links(client: TestClient, ctx) -> None:  # type: ignore[no-untyped-def]
    ctx.storage.put_bytes("videos/vid_x/subtitles.srt", b"1\n00:00:00,000 --> 00:00:01,000\nHi\n")
    url = _path(ctx.storage.url("videos/vid_x/subtitles.srt", 60))
    ok = client.get(url)
    assert ok.status_code == 200 and ok.content.startswith(b"1\n00:00:00,000")
    tampered = url.replace("vid_x", "vid_y")
    assert client.get(tampered).status_code == 403
    bad_sig = url[:-4] + ("0000" if not url.endswith("0000") else "1111")
    r = client.get(bad_sig)
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    expired = _path(ctx.storage.url("videos/vid_x/subtitles.srt", -5))
    assert client.get(expired).status_code == 403
    assert client.get("/files/videos/vid_x/subtitles.srt").status_code == 403  # unsigned
