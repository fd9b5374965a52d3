"""Nothing is lost when the server dies: renders and webhook events survive a SIGKILL."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from tests.receiver import Receiver
from tests.server import Server

LONG_SCRIPT = " ".join(
    [
        "Twinstudio renders talking videos on an ordinary computer, without sending anything to a cloud."
    ]
    * 6
)
FAST_WEBHOOKS = {
    "TWINSTUDIO_WEBHOOK_ALLOW_PRIVATE": "true",
    "TWINSTUDIO_WEBHOOK_BASE_DELAY_S": "0.5",
    "TWINSTUDIO_WEBHOOK_MAX_DELAY_S": "1",
    "TWINSTUDIO_LEASE_SECONDS": "30",
    "TWINSTUDIO_REQUIRE_CONSENT": "false",
}


@pytest.mark.slow
def test_sigkill_during_render_then_restart_completes(tmp_path: Path) -> None:
    rx = Receiver(fail_first=2).start()
    srv = Server(tmp_path / "data", env=FAST_WEBHOOKS).start()
    try:
        srv.wait_for("/v3/avatars/looks/look_demo_astronaut", {"completed"}, timeout=180)
        h = {"x-api-key": srv.key}
        ep = httpx.post(f"{srv.url}/v3/webhooks/endpoints", json={"url": rx.url}, headers=h).json()[
            "data"
        ]
        resp = httpx.post(
            f"{srv.url}/v3/videos",
            headers=h,
            json={
                "avatar_id": "look_demo_astronaut",
                "script": LONG_SCRIPT,
                "voice_id": "en_US-joe-medium",
                "resolution": "720p",
                "callback_url": rx.url,
                "callback_id": "order-7",
            },
        )
        video_id = resp.json()["data"]["video_id"]
        deadline = time.time() + 120
        while time.time() < deadline:
            v = httpx.get(f"{srv.url}/v3/videos/{video_id}", headers=h).json()["data"]
            if v["status"] == "processing" and v["progress"] >= 15:
                break
            assert v["status"] in ("pending", "processing"), v
            time.sleep(0.2)
        assert v["status"] == "processing", "the render never got going"
        work = srv.data_dir / "work"
        assert any(p.name.startswith(video_id) for p in work.iterdir()), "no job folder"
        parent = srv.proc.pid  # type: ignore[union-attr]
        srv.kill()
        time.sleep(1.0)
        orphans = subprocess.run(
            ["pgrep", "-f", f"twinstudio.webhooks.runner.*--parent {parent}"],
            capture_output=True,
            text=True,
        ).stdout.split()
        assert not orphans, "the webhook delivery process outlived its server"
        srv.start()
        done = srv.wait_for(f"/v3/videos/{video_id}", {"completed", "failed"}, timeout=300)
        assert done["status"] == "completed", done
        assert httpx.get(done["video_url"]).status_code == 200
        # the killed render's folder (spooled speech, the MP4 being written) is gone too
        assert not any(p.name.startswith(video_id) for p in work.iterdir())
        # both the endpoint and the callback_url get the success event, exactly once per event id
        deadline = time.time() + 30
        while time.time() < deadline and len(rx.requests) < 2:
            time.sleep(0.2)
        successes = [r for r in rx.requests if b"avatar_video.success" in r.body]
        assert len(successes) == 2, [r.body for r in rx.requests]
        assert len({r.headers["webhook-id"] for r in successes}) == 1
        for r in successes:
            payload = Webhook(ep["secret"]).verify(r.body, r.headers)
            assert payload["event_data"]["video_id"] == video_id
            assert payload["event_data"]["callback_id"] == "order-7"
    finally:
        srv.stop()
        rx.stop()


@pytest.mark.slow
def test_webhook_survives_restart_while_receiver_is_down(tmp_path: Path) -> None:
    """Receiver down; server restarted; receiver comes up: the event still arrives, once."""
    env = {**FAST_WEBHOOKS, "TWINSTUDIO_DEMO": "false"}
    srv = Server(tmp_path / "data", env=env).start()
    rx = Receiver().start()
    port = rx.server.server_address[1]  # type: ignore[union-attr]
    url = rx.url
    rx.stop()  # down
    try:
        h = {"x-api-key": srv.key}
        ep = httpx.post(f"{srv.url}/v3/webhooks/endpoints", json={"url": url}, headers=h).json()[
            "data"
        ]
        # a training failure is the quickest real event: footage that is not a video
        asset = httpx.post(
            f"{srv.url}/v3/assets",
            headers=h,
            files={"file": ("clip.mp4", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 200)},
        ).json()["data"]
        look = httpx.post(
            f"{srv.url}/v3/avatars",
            headers=h,
            json={
                "type": "video",
                "name": "Broken",
                "file": {"type": "asset_id", "asset_id": asset["asset_id"]},
            },
        ).json()["data"]["avatar_item"]
        failed = srv.wait_for(
            f"/v3/avatars/looks/{look['id']}", {"failed", "completed"}, timeout=60
        )
        assert failed["status"] == "failed" and failed["error"]["code"]
        time.sleep(2)  # a few failed attempts while the receiver is down
        srv.kill()
        srv.start()
        rx2 = Receiver().start(port=port)  # the receiver comes back
        try:
            deadline = time.time() + 30
            while time.time() < deadline and not rx2.requests:
                time.sleep(0.2)
            time.sleep(2)
            assert len(rx2.requests) == 1
            payload = Webhook(ep["secret"]).verify(rx2.requests[0].body, rx2.requests[0].headers)
            assert payload["event_type"] == "avatar_training.fail"
            assert payload["event_data"]["avatar_id"] == look["id"]
        finally:
            rx2.stop()
    finally:
        srv.stop()


@pytest.mark.slow
def test_deleting_a_video_mid_render_stops_it_and_leaves_no_files(tmp_path: Path) -> None:
    srv = Server(tmp_path / "data", env={**FAST_WEBHOOKS, "TWINSTUDIO_LEASE_SECONDS": "6"}).start()
    try:
        srv.wait_for("/v3/avatars/looks/look_demo_astronaut", {"completed"}, timeout=180)
        h = {"x-api-key": srv.key}
        video_id = httpx.post(
            f"{srv.url}/v3/videos",
            headers=h,
            json={
                "avatar_id": "look_demo_astronaut",
                "script": LONG_SCRIPT,
                "voice_id": "en_US-joe-medium",
                "resolution": "720p",
            },
        ).json()["data"]["video_id"]
        srv.wait_for(f"/v3/videos/{video_id}", {"processing"}, timeout=60)
        assert httpx.delete(f"{srv.url}/v3/videos/{video_id}", headers=h).status_code == 200
        assert httpx.get(f"{srv.url}/v3/videos/{video_id}", headers=h).status_code == 404
        # the worker notices at its next heartbeat (lease/3 = 2 s) and stops at its next step
        work = srv.data_dir / "work"
        deadline = time.time() + 60
        while time.time() < deadline and any(p.name.startswith(video_id) for p in work.iterdir()):
            time.sleep(0.5)
        assert not any(p.name.startswith(video_id) for p in work.iterdir()), "the render kept going"
        assert not (srv.data_dir / "files" / "videos" / video_id).exists()
        other = httpx.post(
            f"{srv.url}/v3/videos",
            headers=h,
            json={
                "avatar_id": "look_demo_astronaut",
                "script": "Still working.",
                "voice_id": "en_US-joe-medium",
                "resolution": "720p",
            },
        ).json()["data"]["video_id"]
        assert (
            srv.wait_for(f"/v3/videos/{other}", {"completed", "failed"}, timeout=120)["status"]
            == "completed"
        )
    finally:
        srv.stop()
