"""Webhook delivery in its own low-priority process.

The server (and ``twinstudio worker``) start this beside themselves so that delivering events never
competes with rendering for the interpreter lock, and at a lower CPU priority (nice 10) so a
flood of events to a slow receiver leaves render throughput unchanged. The child dies with its
parent (``PR_SET_PDEATHSIG``); deliveries it held are released on the next start.

    python -m twinstudio.webhooks.runner --db-url URL [--threads N]
"""

from __future__ import annotations

import argparse
import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading

from twinstudio.db.base import Database
from twinstudio.webhooks.delivery import DeliveryPool

NICENESS = 10
_PR_SET_PDEATHSIG = 1


def _child_setup() -> None:
    """Lower our priority and ask the kernel to kill us when the parent dies."""
    os.nice(NICENESS)
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass  # not Linux: the child notices its parent is gone by polling getppid()


class DeliveryProcess:
    """Starts and stops the delivery child process."""

    def __init__(self, db_url: str, threads: int = 2) -> None:
        self.db_url = db_url
        self.threads = threads
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        cmd = [
            sys.executable,
            "-m",
            "twinstudio.webhooks.runner",
            "--db-url",
            self.db_url,
            "--threads",
            str(self.threads),
            "--parent",
            str(os.getpid()),
        ]
        self.proc = subprocess.Popen(cmd)

    def shutdown(self, timeout: float = 10.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db-url", required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--parent", type=int, default=0)
    args = parser.parse_args(argv)
    _child_setup()
    if args.parent and os.getppid() != args.parent:
        return  # the parent died before we could watch it
    logging.basicConfig(
        level=os.environ.get("TWINSTUDIO_LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s webhooks: %(message)s",
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)  # as the server: only what matters
    db = Database(args.db_url)
    pool = DeliveryPool(db, count=args.threads)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    pool.start()
    while not done.wait(1.0):
        if args.parent and os.getppid() != args.parent:
            break  # the parent died (non-Linux fallback)
    pool.shutdown()
    db.dispose()


if __name__ == "__main__":
    main()
