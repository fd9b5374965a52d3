"""Job folders: each job's scratch space under the work dir, and what a killed worker left there.

A render or a training works in its own folder under ``TWINSTUDIO_WORK_DIR`` (the footage or
pack copied from storage, the spooled speech, the MP4 being written), and removes it when it
ends, whether it succeeded or failed. A worker that is killed (``SIGKILL``, the OOM killer, a
lost machine) cannot: the job itself is retried elsewhere once its lease runs out, but its
folder stayed on that machine's disk, hundreds of MB for a 1080p twin, until someone noticed.

So the folder holds an exclusive ``flock`` on a ``.owner`` file inside it for as long as its job
runs. The kernel drops that lock the moment the owning process dies, however it dies, so
:func:`sweep` (run when a worker starts) can tell a folder nobody works in from one that
another worker process on the same machine is still using, without asking the database: it
removes only folders whose lock it can take. The file is locked before it takes its name, so a
sweep never sees a live job's file unlocked. A folder without it (killed in the instant between
its creation and its lock) is removed once it is older than :data:`UNLOCKED_GRACE_S`.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

_LOGGER = logging.getLogger(__name__)

OWNER = ".owner"
UNLOCKED_GRACE_S = 3600.0  # a folder with no lock file at all: surely abandoned after an hour


@contextlib.contextmanager
def job_folder(work_dir: Path, prefix: str) -> Iterator[Path]:
    """A fresh folder ``<work_dir>/<prefix>…``, locked while the ``with`` block runs, then
    removed (with everything in it)."""
    work_dir.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=work_dir))
    # Locked under another name first, then renamed: a sweep never finds the file unlocked.
    fd = os.open(folder / f"{OWNER}.new", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.rename(folder / f"{OWNER}.new", folder / OWNER)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        os.close(fd)  # the lock goes with it, after the folder is gone


def _abandoned(folder: Path, now: float) -> bool:
    """True when no live process holds ``folder``'s lock (or it never had one, long ago)."""
    try:
        fd = os.open(folder / OWNER, os.O_RDWR)
    except FileNotFoundError:
        try:
            return now - folder.stat().st_mtime > UNLOCKED_GRACE_S
        except OSError:
            return False
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False  # its owner is alive
    finally:
        os.close(fd)
    return True


def sweep(work_dir: Path) -> list[Path]:
    """Remove the job folders under ``work_dir`` that no live process works in; returns them.
    Safe while other workers share ``work_dir``: a folder in use is never touched."""
    if not work_dir.is_dir():
        return []
    now = time.time()
    removed = []
    for folder in sorted(work_dir.iterdir()):
        if folder.is_dir() and not folder.is_symlink() and _abandoned(folder, now):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    if removed:
        _LOGGER.info(
            "removed %d job folder(s) left by a stopped worker: %s",
            len(removed),
            ", ".join(f.name for f in removed),
        )
    return removed
