"""API latency: from ``POST /v3/videos`` to ``completed`` for a short video, through a real server.

    python benchmarks/latency.py [--runs 12] [--resolution 1080p] [--gap 1.3]

Starts ``twinstudio serve`` (its own process, a temporary data folder, a free port on 127.0.0.1,
one worker), waits for the public demo look, renders one video to warm the voice up, then submits
the same short script ``--runs`` times, one at a time, ``--gap`` seconds apart (the worker idles
between them, as it does between a user's requests), polling ``GET /v3/videos/{id}`` every 50 ms.
The figure is what an API user waits: submit to ``completed``, including the queue, the render,
the GIF and thumbnail, and storing the files. Writes ``benchmarks/out/latency.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from report import provenance

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out" / "latency.json"
SCRIPT = "Hello! This is my digital twin, rendered on a CPU."
LOOK = "look_demo_astronaut"
VOICE = "en_US-joe-medium"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _call(url: str, key: str = "", body: dict[str, Any] | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method="POST" if body is not None else "GET")
    req.add_header("x-api-key", key)
    req.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


def _video(base: str, key: str, resolution: str) -> tuple[float, float]:
    """Submit one video and wait for it: (seconds waited, video duration)."""
    body = {"type": "avatar", "avatar_id": LOOK, "script": SCRIPT, "voice_id": VOICE,
            "resolution": resolution, "aspect_ratio": "16:9"}  # fmt: skip
    t0 = time.perf_counter()
    status, created = _call(f"{base}/v3/videos", key, body)
    if status != 200:
        raise RuntimeError(f"POST /v3/videos answered {status}: {created}")
    video_id = created["data"]["video_id"]
    while True:
        _, got = _call(f"{base}/v3/videos/{video_id}", key)
        state = got["data"]["status"]
        if state == "completed":
            return time.perf_counter() - t0, float(got["data"]["duration"])
        if state == "failed":
            raise RuntimeError(f"{video_id} failed: {got['data'].get('failure_message')}")
        if time.perf_counter() - t0 > 300:
            raise RuntimeError(f"{video_id} still {state} after 300 s")
        time.sleep(0.05)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=12)
    ap.add_argument("--resolution", default="1080p", choices=("720p", "1080p"))
    ap.add_argument("--gap", type=float, default=1.3, help="seconds between videos")
    args = ap.parse_args()
    started = time.time()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    serve = Path(sys.executable).with_name("twinstudio")
    with tempfile.TemporaryDirectory(prefix="latency-") as data:
        env = {**os.environ, "TWINSTUDIO_DATA_DIR": data, "TWINSTUDIO_PORT": str(port)}
        log = open(Path(data) / "serve.log", "w")  # noqa: SIM115  (closed below)
        server = subprocess.Popen([str(serve), "serve"], env=env, stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + 120
            while True:  # up: the API answers (401 without a key); then the demo look is trained
                try:
                    if _call(f"{base}/v3/voices")[0] == 401:
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError(f"the server did not start; see {data}/serve.log")
                time.sleep(0.2)
            key = (Path(data) / "bootstrap-key").read_text().strip()
            while True:
                try:
                    _video(base, key, args.resolution)  # warm-up: voice loaded, look ready
                    break
                except RuntimeError as err:
                    if time.monotonic() > deadline:
                        raise
                    print(f"waiting for the demo look: {err}", file=sys.stderr)
                    time.sleep(1.0)
            waits, duration = [], 0.0
            for _ in range(args.runs):
                time.sleep(args.gap)
                waited, duration = _video(base, key, args.resolution)
                waits.append(round(waited, 3))
                print(f"{waited:.2f} s for {duration:.2f} s of video", flush=True)
        finally:
            server.terminate()
            server.wait(timeout=30)
            log.close()
    result = {
        **provenance(started),
        "resolution": args.resolution,
        "video_s": duration,
        "gap_s": args.gap,
        "waits_s": waits,
        "mean_s": round(statistics.mean(waits), 3),
        "median_s": round(statistics.median(waits), 3),
        "min_s": min(waits),
        "max_s": max(waits),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k != "waits_s"}))
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
