"""Webhook delivery benchmark: 1,000 events to a slow receiver, and render speed beside it.

    python benchmarks/webhooks.py [--events 1000] [--delay-ms 50] [--threads 2]

Writes ``benchmarks/out/webhooks.json``. Everything runs on 127.0.0.1 in a temporary data folder:
a real HTTP receiver (its own process) that answers after ``delay-ms``, the real outbox and delivery threads, and a
real render (the public demo look, 720p) timed alone and again while the 1,000 events go out.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"
SCRIPT = (
    "Twinstudio renders talking videos on an ordinary computer. Webhooks tell your systems the "
    "moment a video is ready, and they never hold the renderer back."
)


RECEIVER = """
import os, sys, time
os.nice(19)  # it stands for another machine: keep it out of the render's way
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
delay, log = float(sys.argv[1]), open(sys.argv[2], "a", buffering=1)
class H(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        time.sleep(delay)
        log.write(self.headers["webhook-id"] + "\\n")
        self.send_response(200)
        self.end_headers()
    def log_message(self, *a):
        pass
srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
print(srv.server_address[1], flush=True)
srv.serve_forever()
"""


class SlowReceiver:
    """A receiver in its own process (as a real one would be), answering after ``delay_s``."""

    def __init__(self, delay_s: float, log: Path) -> None:
        self.log = log
        log.touch()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", RECEIVER, str(delay_s), str(log)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())

    def seen(self) -> list[str]:
        return self.log.read_text().split()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait()


def render_once(pack: Path, work: Path) -> float:
    from twinstudio.render import render_video
    from twinstudio.render.types import RenderOptions
    from twinstudio.speech import synthesize

    speech = synthesize(SCRIPT, "en_US-joe-medium")
    start = time.perf_counter()
    render_video(pack, speech, RenderOptions(resolution="720p"), work)
    return speech.duration_s / (time.perf_counter() - start)  # seconds of video per second


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--delay-ms", type=float, default=50.0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="twinstudio-bench-"))
    os.environ.update(
        TWINSTUDIO_DATA_DIR=str(tmp / "data"),
        TWINSTUDIO_WEBHOOK_ALLOW_PRIVATE="true",
        TWINSTUDIO_DEMO="false",
    )
    sys.path.insert(0, str(ROOT / "src"))
    from twinstudio.config import get_settings
    from twinstudio.db.models import Account
    from twinstudio.services import webhooks as endpoints
    from twinstudio.services.context import build_context
    from twinstudio.services.keys import create_key
    from twinstudio.services.requests import EndpointCreate
    from twinstudio.twins import train_twin
    from twinstudio.twins.demo import demo_source
    from twinstudio.webhooks.events import record
    from twinstudio.webhooks.runner import DeliveryProcess

    ctx = build_context(get_settings())
    receiver = SlowReceiver(args.delay_ms / 1000, tmp / "received.log")
    url = f"http://127.0.0.1:{receiver.port}/hook"
    with ctx.db.session() as s:
        account = s.get(Account, create_key(s, "bench").account_id)
        endpoints.create_endpoint(s, account, EndpointCreate(url=url))
        account_id = account.id

    pack = tmp / "pack"
    train_twin(demo_source(), pack, kind="photo")
    render_once(pack, tmp / "warm")  # load models once
    alone = sorted(render_once(pack, tmp / f"alone{i}") for i in range(3))[1]  # median of 3

    with ctx.db.session() as s:
        for i in range(args.events):
            record(
                s,
                account_id,
                "avatar_video.success",
                {"video_id": f"vid_{i}", "url": None, "callback_id": None},
            )
    pool = DeliveryProcess(ctx.settings.db_url, threads=args.threads)
    start = time.perf_counter()
    pool.start()
    while (
        len(receiver.seen()) < 50 and time.perf_counter() - start < 60
    ):  # delivery in full swing first
        time.sleep(0.05)
    beside = []
    while len(receiver.seen()) < args.events * 0.8 and len(beside) < 5:
        beside.append(render_once(pack, tmp / f"beside{len(beside)}"))
    during = sorted(beside)[len(beside) // 2]
    while len(receiver.seen()) < args.events and time.perf_counter() - start < 600:
        time.sleep(0.05)
    elapsed = time.perf_counter() - start
    pool.shutdown()
    seen = receiver.seen()
    receiver.stop()

    result = {
        "events": args.events,
        "receiver_delay_ms": args.delay_ms,
        "delivery_threads": args.threads,
        "delivered": len(seen),
        "unique_ids": len(set(seen)),
        "seconds": round(elapsed, 2),
        "events_per_second": round(len(seen) / elapsed, 1),
        "ceiling_events_per_second": round(args.threads * 1000 / args.delay_ms, 1),
        "render_speed_alone_x_realtime": round(alone, 2),
        "renders_during_delivery": len(beside),
        "render_speed_during_delivery_x_realtime": round(during, 2),
        "render_speed_ratio": round(during / alone, 3),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "webhooks.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
