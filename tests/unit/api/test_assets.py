"""Uploads are typed from their bytes: a phone's photo formats (HEIC, AVIF, WebP) are images, not
the MP4 video their ``ftyp`` box makes them look like, and can be a photo look's portrait."""

from __future__ import annotations

import io
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from tests.factories import make_key
from twinstudio.services.assets import sniff


def _picture() -> Image.Image:
    rng = np.random.default_rng(3)
    return Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8))


def _image_bytes(fmt: str) -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    buf = io.BytesIO()
    _picture().save(buf, format=fmt)
    return buf.getvalue()


def _media_bytes(container: str, video: bool) -> bytes:
    """A short MP4 (H.264) or M4A (AAC) written by PyAV, as cameras and phones write them."""
    import av

    buf = io.BytesIO()
    with av.open(buf, "w", format=container) as out:
        if video:
            stream = out.add_stream("libx264", rate=25)
            stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
            for i in range(5):
                frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), i * 40, np.uint8))
                out.mux(stream.encode(frame))
        else:
            stream = out.add_stream("aac", rate=16000, layout="mono")
            pcm = np.zeros((1, 16000), np.float32)
            frame = av.AudioFrame.from_ndarray(pcm, format="fltp", layout="mono")
            frame.sample_rate, frame.time_base, frame.pts = 16000, Fraction(1, 16000), 0
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return buf.getvalue()


@pytest.mark.parametrize(
    ("fmt", "mime"),
    [("HEIF", "image/heic"), ("AVIF", "image/avif"), ("WEBP", "image/webp"),
     ("PNG", "image/png"), ("JPEG", "image/jpeg")],
)  # fmt: skip
def test_still_formats_are_images(fmt: str, mime: str) -> None:
    assert sniff(_image_bytes(fmt)[:64]) == mime


def test_mp4_video_and_m4a_audio_are_still_told_apart_from_photos() -> None:
    assert sniff(_media_bytes("mp4", video=True)[:64]) == "video/mp4"
    assert sniff(_media_bytes("ipod", video=False)[:64]) == "audio/mp4"


def test_heif_brands() -> None:
    def ftyp(major: bytes, *compatible: bytes) -> bytes:
        body = major + bytes(4) + b"".join(compatible)
        return (8 + len(body)).to_bytes(4, "big") + b"ftyp" + body + bytes(16)

    assert sniff(ftyp(b"mif1", b"mif1", b"heic")) == "image/heic"  # many phones' HEIC
    assert sniff(ftyp(b"mif1", b"mif1", b"miaf", b"MiHB")) == "image/heif"
    assert sniff(ftyp(b"mif1", b"avif", b"mif1", b"miaf")) == "image/avif"
    assert sniff(ftyp(b"heix", b"mif1", b"heix")) == "image/heic"  # 10-bit HEIC
    assert sniff(ftyp(b"isom", b"isom", b"iso2", b"avc1", b"mp41")) == "video/mp4"
    assert sniff(ftyp(b"qt  ", b"qt  ")) == "video/quicktime"


@pytest.mark.parametrize(("fmt", "ext"), [("HEIF", "heic"), ("AVIF", "avif"), ("WEBP", "webp")])
def test_a_phone_photo_uploads_as_an_image_and_can_make_a_photo_look(
    client: TestClient,
    ctx,  # type: ignore[no-untyped-def]
    fmt: str,
    ext: str,
) -> None:
    h = {"x-api-key": make_key(ctx).secret}
    up = client.post(
        "/v3/assets", headers=h, files={"file": (f"IMG_0001.{ext}", _image_bytes(fmt))}
    )
    assert up.status_code == 200, up.text
    asset = up.json()["data"]
    assert asset["kind"] == "image" and asset["mime_type"] == f"image/{ext}", asset

    def look(kind: str) -> Any:
        body = {
            "type": kind,
            "name": "Me",
            "file": {"type": "asset_id", "asset_id": asset["asset_id"]},
        }
        return client.post("/v3/avatars", headers=h, json=body)

    made = look("photo")
    assert made.status_code == 200, made.text
    assert made.json()["data"]["avatar_item"]["avatar_type"] == "photo_avatar"
    # As video footage the same photo is refused by name, not sent to the video decoder.
    video = look("video")
    assert video.status_code == 400
    assert "image" in video.json()["error"]["message"]
