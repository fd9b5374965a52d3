"""The worker loop: outcomes of handlers (success, media failure, crash + retry)."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy.orm import Session

from twinstudio.db.models import Job
from twinstudio.errors import MediaError
from twinstudio.jobs import queue
from twinstudio.jobs.worker import HANDLERS, JobKind, JobRun, Worker

outcomes: dict[str, tuple[str, str]] = {}


def _fail(run: JobRun, code: str, message: str) -> None:
    run.complete(lambda _s: outcomes.__setitem__(run.ref_id, (code, message)), failed=True)


def _ok(run: JobRun) -> None:
    run.progress(0.5)
    run.complete(lambda _s: outcomes.__setitem__(run.ref_id, ("ok", "")))


def _media_error(run: JobRun) -> None:
    raise MediaError("no_face", "No face was found; record facing the camera.")


calls = {"n": 0}


def _crash_once(run: JobRun) -> None:
    calls["n"] += 1
    if calls["n"] == 1:
        raise RuntimeError("boom")
    _ok(run)


def _run_all(ctx) -> None:  # type: ignore[no-untyped-def]
    worker = Worker(ctx, "t", threading.Event())
    for _ in range(10):
        with ctx.db.session() as s:
            s.query(Job).filter(Job.status == "queued").update({"run_after": 0})
        if not worker.run_one():
            break


def _status(ctx, job_id: int) -> str:  # type: ignore[no-untyped-def]
    with ctx.db.session() as s:
        return s.get(Job, job_id).status  # type: ignore[union-attr]


def test_outcomes(ctx) -> None:  # type: ignore[no-untyped-def]
    HANDLERS["t_ok"] = JobKind(run=_ok, fail=_fail)
    HANDLERS["t_media"] = JobKind(run=_media_error, fail=_fail)
    HANDLERS["t_crash"] = JobKind(run=_crash_once, fail=_fail)
    try:
        with ctx.db.session() as s:
            ids = [
                queue.enqueue(s, kind, f"r-{kind}").id for kind in ("t_ok", "t_media", "t_crash")
            ]
        _run_all(ctx)
        assert outcomes["r-t_ok"] == ("ok", "")
        assert outcomes["r-t_media"][0] == "no_face"
        assert outcomes["r-t_crash"] == ("ok", "")  # retried after the crash
        assert [_status(ctx, i) for i in ids] == ["done", "failed", "done"]
        with ctx.db.session() as s:
            assert s.get(Job, ids[2]).attempts == 2  # type: ignore[union-attr]
    finally:
        for k in ("t_ok", "t_media", "t_crash"):
            HANDLERS.pop(k, None)


def test_complete_is_atomic_with_domain_change(ctx) -> None:  # type: ignore[no-untyped-def]
    """If applying the domain change raises, the job is not marked done either."""
    with ctx.db.session() as s:
        job_id = queue.enqueue(s, "t_atomic", "r").id
    job = queue.claim(ctx.db, "me", 60)
    assert job is not None
    run = JobRun(
        ctx=ctx,
        job_id=job_id,
        kind="t_atomic",
        ref_id="r",
        attempts=1,
        max_attempts=3,
        owner="me",
        stop=threading.Event(),
    )

    def broken(_s: Session) -> None:
        raise ValueError("domain update failed")

    with pytest.raises(ValueError):
        run.complete(broken)
    assert _status(ctx, job_id) == "running"


def test_an_idle_worker_starts_a_job_the_moment_it_is_committed(ctx) -> None:  # type: ignore[no-untyped-def]
    """Polling every 60 s, the worker still runs a job enqueued in this process at once (woken
    by the commit), and sees its stop flag at once on shutdown's wake."""
    HANDLERS["t_wake"] = JobKind(run=_ok, fail=_fail)
    stop = threading.Event()
    worker = Worker(ctx, "idle", stop, poll_seconds=60.0)
    thread = threading.Thread(target=worker.run_forever, daemon=True)
    try:
        queue.wait_for_work(0)  # forget wakes left by earlier tests' commits
        thread.start()
        time.sleep(0.3)  # found nothing: now waiting
        with ctx.db.session() as s:
            job_id = queue.enqueue(s, "t_wake", "r-wake").id
        deadline = time.monotonic() + 10
        while _status(ctx, job_id) != "done" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _status(ctx, job_id) == "done"
        assert outcomes["r-wake"] == ("ok", "")
    finally:
        stop.set()
        queue.wake()
        thread.join(timeout=10)
        HANDLERS.pop("t_wake", None)
    assert not thread.is_alive()


def test_a_rolled_back_enqueue_wakes_no_one(ctx) -> None:  # type: ignore[no-untyped-def]
    queue.wait_for_work(0)
    with pytest.raises(RuntimeError), ctx.db.session() as s:
        queue.enqueue(s, "t_never", "r-never")
        raise RuntimeError("the caller's transaction fails")
    assert queue.wait_for_work(0.05) is False
    with ctx.db.session() as s:
        assert s.query(Job).filter(Job.ref_id == "r-never").count() == 0
