"""The seed's "Full example", unchanged but for BASE, the key and the IDs, against a real server."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from tests.integration.conftest import probe
from tests.server import Server

SCRIPT = "Welcome to our product demo. Let me walk you through the new features."
VOICE = "en_US-joe-medium"


def seed_full_example(
    BASE: str, API_KEY: str, avatar_id: str, voice_id: str, **extra: object
) -> dict:
    # --- the seed's code, verbatim apart from the constants and the extra fields ---
    HEADERS = {"x-api-key": API_KEY, "Content-Type": "application/json"}
    resp = requests.post(
        f"{BASE}/v3/videos",
        headers=HEADERS,
        json={
            "avatar_id": avatar_id,
            "script": SCRIPT,
            "voice_id": voice_id,
            "resolution": "1080p",
            "aspect_ratio": "16:9",
            **extra,
        },
    )
    video_id = resp.json()["data"]["video_id"]
    print(f"Video created: {video_id}")
    while True:
        status_resp = requests.get(f"{BASE}/v3/videos/{video_id}", headers=HEADERS)
        data = status_resp.json()["data"]
        print(f"Status: {data['status']}")
        if data["status"] == "completed":
            print(f"Download: {data['video_url']}")
            break
        elif data["status"] == "failed":
            print(f"Error: {data.get('failure_message')}")
            break
        time.sleep(1)  # the seed sleeps 10 s; 1 s keeps the test short
    return data


def _speech_duration(text: str, **settings: float) -> float:
    from twinstudio.speech import VoiceSettings, synthesize

    return synthesize(text, VOICE, VoiceSettings(**settings)).duration_s


@pytest.mark.slow
def test_seed_example_1080p_16x9(server: Server, tmp_path: Path) -> None:
    looks = requests.get(
        f"{server.url}/v3/avatars/looks?ownership=public", headers={"x-api-key": server.key}
    ).json()
    demo = next(look for look in looks["data"] if look["id"] == "look_demo_astronaut")
    assert demo["status"] == "completed", demo
    data = seed_full_example(server.url, server.key, demo["id"], VOICE)
    assert data["status"] == "completed", data
    mp4 = tmp_path / "video.mp4"
    r = requests.get(data["video_url"])
    assert r.status_code == 200
    mp4.write_bytes(r.content)
    info = probe(mp4)
    assert (info["vcodec"], info["acodec"], info["width"], info["height"]) == (
        "h264",
        "aac",
        1920,
        1080,
    )
    assert info["pix_fmt"] == "yuv420p"
    assert abs(float(info["duration"]) - _speech_duration(SCRIPT)) <= 0.2
    assert abs(data["duration"] - _speech_duration(SCRIPT)) <= 0.2
    head = mp4.read_bytes()[:4096]
    assert head.find(b"moov") != -1 and (
        head.find(b"mdat") == -1 or head.find(b"moov") < head.find(b"mdat")
    ), "faststart"
    for name in ("thumbnail_url", "gif_url", "subtitle_url"):
        got = requests.get(data[name])
        assert got.status_code == 200 and got.content, name
    assert requests.get(data["thumbnail_url"]).content[:3] == b"\xff\xd8\xff"
    assert requests.get(data["gif_url"]).content[:6] in (b"GIF89a", b"GIF87a")
    srt = requests.get(data["subtitle_url"]).text
    assert "00:00:00" in srt and "Welcome" in srt
    tampered = data["video_url"].replace("sig=", "sig=0")
    assert requests.get(tampered).status_code == 403


@pytest.mark.slow
def test_720p_portrait_with_voice_settings_and_background(server: Server, tmp_path: Path) -> None:
    settings = {"speed": 1.25, "pitch": 20.0}
    data = seed_full_example(
        server.url,
        server.key,
        "look_demo_astronaut",
        VOICE,
        resolution="720p",
        aspect_ratio="9:16",
        voice_settings=settings,
        fit="contain",
        background={"type": "color", "value": "#2040C0"},
    )
    assert data["status"] == "completed", data
    mp4 = tmp_path / "v.mp4"
    mp4.write_bytes(requests.get(data["video_url"]).content)
    info = probe(mp4)
    assert (info["width"], info["height"]) == (720, 1280)
    assert abs(float(info["duration"]) - _speech_duration(SCRIPT, **settings)) <= 0.2
    assert float(info["duration"]) < _speech_duration(SCRIPT) * 0.9  # speed changed the output


@pytest.mark.slow
def test_burned_captions_give_a_second_video(server: Server, tmp_path: Path) -> None:
    import av
    import numpy as np

    data = seed_full_example(
        server.url,
        server.key,
        "look_demo_astronaut",
        VOICE,
        resolution="720p",
        aspect_ratio="9:16",
        caption={"file_format": "srt", "style": {"position": "bottom"}},
    )
    assert data["status"] == "completed", data
    plain, captioned = tmp_path / "plain.mp4", tmp_path / "captioned.mp4"
    plain.write_bytes(requests.get(data["video_url"]).content)
    captioned.write_bytes(requests.get(data["captioned_video_url"]).content)
    a, b = probe(plain), probe(captioned)
    assert (b["width"], b["height"], b["vcodec"], b["acodec"]) == (720, 1280, "h264", "aac")
    assert abs(float(a["duration"]) - float(b["duration"])) <= 0.1

    def frame(path: Path, n: int) -> np.ndarray:
        with av.open(str(path)) as c:
            for i, f in enumerate(c.decode(video=0)):
                if i == n:
                    return f.to_ndarray(format="rgb24").astype(int)
        raise AssertionError("too few frames")

    diff = np.abs(frame(plain, 30) - frame(captioned, 30)).mean(axis=2)
    bottom, top = diff[int(1280 * 0.7) :], diff[: int(1280 * 0.5)]
    assert bottom.mean() > 5 * max(top.mean(), 0.5), (
        bottom.mean(),
        top.mean(),
    )  # text at the bottom only


@pytest.mark.slow
def test_background_image_asset_fills_contain_bars(server: Server, tmp_path: Path) -> None:
    import io

    import av
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (250, 20, 20)).save(buf, format="PNG")
    h = {"x-api-key": server.key}
    asset = requests.post(
        f"{server.url}/v3/assets", headers=h, files={"file": ("bg.png", buf.getvalue())}
    ).json()
    data = seed_full_example(
        server.url,
        server.key,
        "look_demo_astronaut",
        VOICE,
        resolution="720p",
        fit="contain",
        background={"type": "image", "asset_id": asset["data"]["asset_id"]},
    )
    assert data["status"] == "completed", data
    mp4 = tmp_path / "bg.mp4"
    mp4.write_bytes(requests.get(data["video_url"]).content)
    with av.open(str(mp4)) as c:
        frame = next(c.decode(video=0)).to_ndarray(format="rgb24").astype(int)
    left = (
        frame[:, :40].reshape(-1, 3).mean(axis=0)
    )  # a square photo in 16:9: the bars show the image
    assert left[0] > 180 and left[1] < 80 and left[2] < 80, left


@pytest.mark.slow
def test_expressiveness_moves_the_mouth_more_or_less(server: Server, tmp_path: Path) -> None:
    """``expressiveness`` (ours) reaches the render: the inner lips, tracked on the delivered
    frames, part further at "high" than at "low"; an out-of-range value is a 400 naming it."""
    import av
    import numpy as np

    from twinstudio.twins.faces import INNER_LIP_PAIRS, FaceTracker, inter_ocular

    spread = {}
    tracker = FaceTracker()
    for level in ("low", "high"):
        data = seed_full_example(server.url, server.key, "look_demo_astronaut", VOICE,
                                 resolution="720p", expressiveness=level)  # fmt: skip
        assert data["status"] == "completed", data
        mp4 = tmp_path / f"{level}.mp4"
        mp4.write_bytes(requests.get(data["video_url"]).content)
        gaps = []
        with av.open(str(mp4)) as container:
            for frame in container.decode(video=0):
                lm = tracker.landmarks(frame.to_ndarray(format="rgb24"))
                if lm is not None:
                    gap = np.mean([lm[lo, 1] - lm[up, 1] for up, lo in INNER_LIP_PAIRS])
                    gaps.append(gap / float(inter_ocular(lm)))
        assert len(gaps) > 50
        spread[level] = float(np.std(gaps))
    tracker.close()
    assert spread["high"] > 1.2 * spread["low"], spread
    bad = requests.post(
        f"{server.url}/v3/videos",
        headers={"x-api-key": server.key},
        json={"avatar_id": "look_demo_astronaut", "script": "Hi.", "voice_id": VOICE,
              "expressiveness": 3},
    )  # fmt: skip
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "expressiveness"
    assert "0.5 to 1.5" in bad.json()["error"]["message"]
