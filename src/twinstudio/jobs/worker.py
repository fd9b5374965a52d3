"""The worker loop: claim a job, keep its lease alive, run its handler, record the outcome.

Handlers are registered per job kind. A handler that raises :class:`MediaError` fails its job
with that code and message (a person can act on it); any other exception is logged with its stack
trace and the job is retried later, up to ``max_attempts`` claims, then failed with a plain message.
``Shutdown`` derives from ``BaseException`` so a handler's ``except Exception`` cannot swallow it.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from twinstudio.db.base import now
from twinstudio.db.models import Job
from twinstudio.errors import MediaError
from twinstudio.jobs import queue
from twinstudio.jobs.scratch import sweep
from twinstudio.memory import keep_heap_flat
from twinstudio.services.context import AppContext

log = logging.getLogger(__name__)


class Shutdown(BaseException):
    """Raised inside a handler's progress callback when the worker is stopping."""


class LeaseLost(BaseException):
    """The job was taken over by another worker; stop working on it."""


@dataclass
class JobRun:
    """What a handler gets: the job's identity plus progress and completion hooks."""

    ctx: AppContext
    job_id: int
    kind: str
    ref_id: str
    attempts: int
    max_attempts: int
    owner: str
    stop: threading.Event
    on_progress: Callable[[float], None] | None = None
    lost: threading.Event = field(default_factory=threading.Event, repr=False)
    _last_progress: float = field(default=0.0, repr=False)

    def progress(self, fraction: float) -> None:
        """Report progress 0..1 (throttled); raises Shutdown/LeaseLost to stop the handler."""
        if self.stop.is_set():
            raise Shutdown()
        if self.lost.is_set():  # deleted, or taken over after a missed heartbeat
            raise LeaseLost()
        t = time.monotonic()
        if self.on_progress is not None and (t - self._last_progress > 0.5 or fraction >= 1.0):
            self._last_progress = t
            self.on_progress(min(max(fraction, 0.0), 1.0))

    def complete(
        self, apply: Callable[[Session], None], *, failed: bool = False, error: str | None = None
    ) -> None:
        """Run ``apply`` and finish the job in one transaction, only while we hold the lease."""
        with self.ctx.db.session() as s:
            if not queue.finish(s, self.job_id, self.owner, failed=failed, error=error):
                raise LeaseLost()
            apply(s)


Handler = Callable[[JobRun], None]
FailHandler = Callable[[JobRun, str, str], None]


@dataclass
class JobKind:
    run: Handler
    fail: FailHandler  # (run, code, message): record the failure on the domain row
    progress: Callable[[AppContext, str, float], None] | None = None


HANDLERS: dict[str, JobKind] = {}


def register(kind: str, job_kind: JobKind) -> None:
    HANDLERS[kind] = job_kind


def owner_prefix() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def owner_died_here(owner: str | None) -> bool:
    """True when a lease ``owner`` ("host:pid:…") is a process of this host that no longer exists.

    Jobs and webhook deliveries both name their lease holders this way, so after a SIGKILL the
    next start can release their leases at once instead of waiting for them to run out.
    """
    parts = (owner or "").split(":")
    if len(parts) < 2 or parts[0] != socket.gethostname() or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    return pid != os.getpid() and not pid_alive(pid)


def release_dead_local_leases(ctx: AppContext) -> int:
    """Expire job leases held by dead processes of this host (see :func:`owner_died_here`)."""
    released = 0
    with ctx.db.session() as s:
        rows = s.execute(
            select(Job.id, Job.lease_owner).where(Job.status == queue.JobStatus.RUNNING.value)
        ).all()
        for job_id, lease_owner in rows:
            if owner_died_here(lease_owner):
                s.execute(update(Job).where(Job.id == job_id).values(lease_expires_at=now() - 1))
                released += 1
    return released


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Worker:
    """Claims and runs jobs until ``stop`` is set. Run several in threads for parallelism."""

    def __init__(
        self, ctx: AppContext, name: str, stop: threading.Event, poll_seconds: float = 0.5
    ):
        self.ctx = ctx
        self.owner = f"{owner_prefix()}:{name}"
        self.stop = stop
        self.poll_seconds = poll_seconds

    def run_forever(self) -> None:
        while not self.stop.is_set():
            try:
                worked = self.run_one()
            except Exception:
                log.exception("worker %s: unexpected error", self.owner)
                worked = False
            if not worked and not self.stop.is_set():
                queue.wait_for_work(self.poll_seconds)  # woken at once by a job enqueued here

    def run_one(self) -> bool:
        """Claim and run one job; False when there was none."""
        lease = self.ctx.settings.lease_seconds
        job = queue.claim(self.ctx.db, self.owner, lease, kinds=list(HANDLERS))
        if job is None:
            return False
        kind = HANDLERS[job.kind]
        run = JobRun(
            ctx=self.ctx,
            job_id=job.id,
            kind=job.kind,
            ref_id=job.ref_id,
            attempts=job.attempts,
            max_attempts=job.max_attempts,
            owner=self.owner,
            stop=self.stop,
        )
        if kind.progress is not None:
            progress_fn = kind.progress
            run.on_progress = lambda f: progress_fn(self.ctx, run.ref_id, f)
        if job.attempts > job.max_attempts:
            self._fail(
                run,
                kind,
                "internal_error",
                "This job failed repeatedly and was stopped. Try again; if it keeps failing, "
                "check the server log for this id.",
            )
            return True
        beat_stop = threading.Event()
        beat = threading.Thread(target=self._heartbeat, args=(run, beat_stop), daemon=True)
        beat.start()
        try:
            kind.run(run)
        except MediaError as exc:
            self._fail(run, kind, exc.code, exc.message)
        except Shutdown:
            log.info("job %s: worker stopping; the job goes back to the queue", job.id)
            queue.retry_later(self.ctx.db, job.id, self.owner, 0.0, "worker shut down")
        except LeaseLost:
            log.info("job %s: taken over by another worker", job.id)
        except Exception as exc:
            log.exception("job %s (%s %s) failed", job.id, job.kind, job.ref_id)
            if job.attempts >= job.max_attempts:
                self._fail(
                    run,
                    kind,
                    "internal_error",
                    "Rendering failed unexpectedly after several tries. Try again; if it "
                    "keeps failing, check the server log for this id.",
                )
            else:
                queue.retry_later(self.ctx.db, job.id, self.owner, 2.0 * job.attempts, repr(exc))
        finally:
            beat_stop.set()
            beat.join(timeout=5)
        return True

    def _fail(self, run: JobRun, kind: JobKind, code: str, message: str) -> None:
        try:
            kind.fail(run, code, message)
        except LeaseLost:
            log.info("job %s: lease lost while failing it", run.job_id)

    def _heartbeat(self, run: JobRun, stop: threading.Event) -> None:
        interval = max(1.0, self.ctx.settings.lease_seconds / 3)
        while not stop.wait(interval):
            if not queue.heartbeat(
                self.ctx.db, run.job_id, self.owner, self.ctx.settings.lease_seconds
            ):
                run.lost.set()
                return


class WorkerPool:
    """N worker threads inside this process (the embedded, single-machine mode)."""

    def __init__(self, ctx: AppContext, count: int) -> None:
        self.ctx = ctx
        self.count = count
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        # Before any worker thread exists (``serve`` and ``worker`` start none earlier): a thread
        # keeps the malloc arena it first allocates from (twinstudio.memory).
        keep_heap_flat()
        release_dead_local_leases(self.ctx)
        sweep(self.ctx.settings.work_dir)  # job folders a killed worker left behind
        for i in range(self.count):
            worker = Worker(self.ctx, f"w{i}", self.stop)
            t = threading.Thread(
                target=worker.run_forever, name=f"twinstudio-worker-{i}", daemon=True
            )
            t.start()
            self.threads.append(t)

    def shutdown(self, timeout: float = 10.0) -> None:
        self.stop.set()
        queue.wake()  # idle workers see the stop now, not at their next poll
        for t in self.threads:
            t.join(timeout=timeout)
