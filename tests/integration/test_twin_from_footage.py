"""A private twin trained from real footage through the CLI (the same path as POST /v3/avatars)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import probe
from tests.server import Server


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "twinstudio.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=600,
    )


def test_keys_create_prints_key_last(tmp_path: Path) -> None:
    env = {"TWINSTUDIO_DATA_DIR": str(tmp_path / "data")}
    out = cli("keys", "create", "--name", "ci", env=env)
    assert out.returncode == 0, out.stderr
    key = out.stdout.strip().splitlines()[-1]
    assert key.startswith("tsk_") and len(key) > 30
    listed = cli("keys", "list", env=env)
    assert "ci" in listed.stdout and key not in listed.stdout  # secrets are never listed
    assert cli("keys", "revoke", "key_nope", env=env).returncode != 0


@pytest.mark.slow
def test_twin_from_clip_renders(server: Server, footage: Path, tmp_path: Path) -> None:
    clip = footage / "clips" / "videoretalking_man_suit_window_6s.mp4"
    env = {"TWINSTUDIO_DATA_DIR": str(server.data_dir), "TWINSTUDIO_BASE_URL": server.url}
    out = cli("twins", "create", str(clip), "--name", "Suit", env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    look_id = out.stdout.strip().splitlines()[-1]
    h = {"x-api-key": server.key}
    look = httpx.get(f"{server.url}/v3/avatars/looks/{look_id}", headers=h).json()["data"]
    assert look["status"] == "completed" and look["avatar_type"] == "video_avatar"
    assert look["quality"] and look["preview_image_url"]
    private = httpx.get(
        f"{server.url}/v3/avatars/looks?avatar_type=digital_twin&ownership=private", headers=h
    ).json()
    assert look_id in [lk["id"] for lk in private["data"]]
    # the clip's own speech drives the render (no new words are put in this person's mouth)
    audio = httpx.post(
        f"{server.url}/v3/assets",
        headers=h,
        files={"file": ("a.wav", _clip_audio_wav(clip, tmp_path).read_bytes())},
    ).json()["data"]
    vid = httpx.post(
        f"{server.url}/v3/videos",
        headers=h,
        json={
            "avatar_id": look_id,
            "audio_asset_id": audio["asset_id"],
            "resolution": "720p",
            "aspect_ratio": "16:9",
        },
    ).json()["data"]["video_id"]
    done = server.wait_for(f"/v3/videos/{vid}", {"completed", "failed"}, timeout=300)
    assert done["status"] == "completed", done
    mp4 = tmp_path / "twin.mp4"
    mp4.write_bytes(httpx.get(done["video_url"]).content)
    info = probe(mp4)
    assert (info["vcodec"], info["acodec"], info["width"], info["height"]) == (
        "h264",
        "aac",
        1280,
        720,
    )
    # rename, then delete: every file of the video and of the twin goes
    renamed = httpx.patch(
        f"{server.url}/v3/avatars/looks/{look_id}", headers=h, json={"name": "Suit 2"}
    )
    assert renamed.status_code == 200 and renamed.json()["data"]["name"] == "Suit 2"
    files = server.data_dir / "files"
    assert (files / "videos" / vid).is_dir() and (files / "looks" / look_id).is_dir()
    assert httpx.delete(f"{server.url}/v3/videos/{vid}", headers=h).status_code == 200
    assert not (files / "videos" / vid).exists()
    assert httpx.delete(f"{server.url}/v3/avatars/looks/{look_id}", headers=h).status_code == 200
    assert not (files / "looks" / look_id).exists()
    assert httpx.get(f"{server.url}/v3/avatars/looks/{look_id}", headers=h).status_code == 404
    assert httpx.get(f"{server.url}/v3/avatars/{look['group_id']}", headers=h).status_code == 404
    # the footage files are never kept: everything made here lives in tmp_path


def _clip_audio_wav(clip: Path, tmp: Path) -> Path:
    import wave

    import av
    import numpy as np

    out = tmp / "clip.wav"
    chunks = []
    with av.open(str(clip)) as c:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=22050)
        for frame in c.decode(audio=0):
            for f in resampler.resample(frame):
                chunks.append(f.to_ndarray().reshape(-1))
    pcm = np.concatenate(chunks).astype("<i2")
    with wave.open(str(out), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(22050)
        w.writeframes(pcm.tobytes())
    return out
