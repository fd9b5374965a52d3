"""A real ``twinstudio serve`` process on 127.0.0.1 for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    data_dir: Path
    port: int = field(default_factory=free_port)
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def key(self) -> str:
        return (self.data_dir / "bootstrap-key").read_text().strip()

    def start(self, timeout: float = 90.0) -> Server:
        env = {
            **os.environ,
            "TWINSTUDIO_DATA_DIR": str(self.data_dir),
            "TWINSTUDIO_PORT": str(self.port),
            "TWINSTUDIO_HOST": "127.0.0.1",
            "PYTHONUNBUFFERED": "1",
            **self.env,
        }
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.data_dir.parent / f"server-{self.port}.log"
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "twinstudio.cli", "serve"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"server did not start in {timeout} s:\n{self.log()}")

    def log(self) -> str:
        return (
            self.log_path.read_text(errors="replace")[-5000:]
            if self.log_path and self.log_path.exists()
            else ""
        )

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers run, like a crash or an OOM kill."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def wait_for(self, path: str, until: set[str], timeout: float = 300.0) -> dict:  # type: ignore[type-arg]
        deadline = time.time() + timeout
        data: dict = {}  # type: ignore[type-arg]
        while time.time() < deadline:
            data = httpx.get(
                f"{self.url}{path}", headers={"x-api-key": self.key}, timeout=10
            ).json()["data"]
            if data["status"] in until:
                return data
            time.sleep(0.5)
        raise AssertionError(f"{path} still {data.get('status')} after {timeout} s\n{self.log()}")
