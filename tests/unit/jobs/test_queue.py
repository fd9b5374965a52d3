"""The job table: atomic claims, leases, heartbeats and take-over after a worker dies."""

from __future__ import annotations

import subprocess
import sys
import threading

from sqlalchemy import update

from twinstudio.db.models import Job
from twinstudio.jobs import queue
from twinstudio.jobs.worker import release_dead_local_leases


def _enqueue(ctx, n: int = 1) -> list[int]:  # type: ignore[no-untyped-def]
    ids = []
    with ctx.db.session() as s:
        for i in range(n):
            ids.append(queue.enqueue(s, "test", f"ref{i}").id)
    return ids


def test_claim_takes_each_job_once_across_threads(ctx) -> None:  # type: ignore[no-untyped-def]
    _enqueue(ctx, 20)
    taken: list[int] = []
    lock = threading.Lock()

    def grab(name: str) -> None:
        while (job := queue.claim(ctx.db, name, 60)) is not None:
            with lock:
                taken.append(job.id)

    threads = [threading.Thread(target=grab, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(taken) == sorted(set(taken)) and len(taken) == 20


def test_running_job_is_not_claimed_until_lease_expires(ctx) -> None:  # type: ignore[no-untyped-def]
    (job_id,) = _enqueue(ctx)
    job = queue.claim(ctx.db, "a", 60)
    assert job is not None and job.id == job_id and job.attempts == 1
    assert queue.claim(ctx.db, "b", 60) is None
    with ctx.db.session() as s:  # the lease runs out (worker died)
        s.execute(update(Job).where(Job.id == job_id).values(lease_expires_at=0))
    again = queue.claim(ctx.db, "b", 60)
    assert again is not None and again.id == job_id and again.attempts == 2
    assert not queue.heartbeat(ctx.db, job_id, "a", 60)  # a lost it
    assert queue.heartbeat(ctx.db, job_id, "b", 60)
    with ctx.db.session() as s:
        assert not queue.finish(s, job_id, "a")
        assert queue.finish(s, job_id, "b")
    with ctx.db.session() as s:
        assert s.get(Job, job_id).status == "done"


def test_dead_local_worker_lease_is_released(ctx) -> None:  # type: ignore[no-untyped-def]
    import socket

    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead_pid = int(dead.stdout)
    (job_id,) = _enqueue(ctx)
    assert queue.claim(ctx.db, f"{socket.gethostname()}:{dead_pid}:w0", 3600) is not None
    assert queue.claim(ctx.db, "other", 60) is None
    assert release_dead_local_leases(ctx) == 1
    job = queue.claim(ctx.db, "other", 60)
    assert job is not None and job.id == job_id


def test_retry_later_requeues_after_delay(ctx) -> None:  # type: ignore[no-untyped-def]
    (job_id,) = _enqueue(ctx)
    assert queue.claim(ctx.db, "a", 60) is not None
    queue.retry_later(ctx.db, job_id, "a", 3600, "flaky")
    assert queue.claim(ctx.db, "a", 60) is None
    queue.retry_later(ctx.db, job_id, "nobody", 0, "x")  # not the owner: no effect
    with ctx.db.session() as s:
        row = s.get(Job, job_id)
        assert row.status == "queued" and row.last_error == "flaky"
