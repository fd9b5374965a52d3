"""Job folders: locked while their job runs, removed after it, swept when their worker died."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from twinstudio.jobs import scratch
from twinstudio.jobs.scratch import OWNER, job_folder, sweep


def test_a_job_folder_is_removed_when_its_job_ends_even_by_an_error(tmp_path: Path) -> None:
    with job_folder(tmp_path, "vid_1-") as folder:
        assert folder.parent == tmp_path and folder.name.startswith("vid_1-")
        assert (folder / OWNER).exists() and not (folder / f"{OWNER}.new").exists()
        (folder / "video.mp4").write_bytes(b"x" * 100)
    assert not folder.exists()
    with pytest.raises(RuntimeError), job_folder(tmp_path, "vid_2-") as folder:
        raise RuntimeError("render failed")
    assert not folder.exists()


def test_sweep_never_touches_a_folder_in_use_even_by_this_process(tmp_path: Path) -> None:
    with job_folder(tmp_path, "vid_1-") as folder:
        (folder / "speech").mkdir()
        assert sweep(tmp_path) == []  # another thread's job: its lock is held
        assert (folder / "speech").is_dir()


def test_sweep_removes_what_a_killed_worker_left(tmp_path: Path) -> None:
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path\n"
            "from twinstudio.jobs.scratch import job_folder\n"
            "with job_folder(Path(sys.argv[1]), 'vid_9-') as f:\n"
            "    (f / 'video.mp4.part').write_bytes(b'x' * 1000)\n"
            "    print(f, flush=True)\n"
            "    time.sleep(60)\n",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        folder = Path(child.stdout.readline().strip())
        assert (folder / "video.mp4.part").exists()
        assert sweep(tmp_path) == []  # alive: kept
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
        assert folder.exists()  # a killed job cannot clean up after itself
        assert sweep(tmp_path) == [folder]
        assert not folder.exists()
    finally:
        if child.poll() is None:
            child.kill()


def test_a_folder_without_a_lock_file_is_kept_until_it_is_old(tmp_path: Path) -> None:
    fresh, old = tmp_path / "vid_1-abc", tmp_path / "vid_2-def"
    fresh.mkdir()
    old.mkdir()
    long_ago = time.time() - scratch.UNLOCKED_GRACE_S - 60
    os.utime(old, (long_ago, long_ago))
    (tmp_path / "stray.txt").write_text("not a folder")
    assert sweep(tmp_path) == [old]
    assert fresh.is_dir() and (tmp_path / "stray.txt").exists()


def test_sweep_of_a_missing_work_dir_does_nothing(tmp_path: Path) -> None:
    assert sweep(tmp_path / "nope") == []
