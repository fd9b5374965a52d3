"""The job table as a queue: enqueue, claim with a lease, heartbeat, finish.

The database is the source of truth. A claim is one conditional UPDATE, so two workers (threads or
machines) can never both own a job; a running job whose lease expired (its worker was killed) is
claimable again and is retried, up to ``max_attempts`` claims.

Idle workers poll the table. Those in the process that enqueued (the embedded, single-machine
mode) are also woken the moment the enqueuing transaction commits (:func:`wait_for_work`), so a
video starts at once instead of at the next poll (up to 0.5 s later; 0.25 s on average).
Workers on other machines keep polling: the table stays the only channel between processes.
"""

from __future__ import annotations

import enum
import threading

from sqlalchemy import and_, event, or_, select, update
from sqlalchemy.orm import Session

from twinstudio.db.base import Database, now
from twinstudio.db.models import Job


class JobStatus(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


# Set when a transaction that enqueued a job commits; idle workers of this process wait on it.
_work = threading.Event()
_NEW_JOBS = "twinstudio.new_jobs"  # a session.info flag: this transaction enqueued


def enqueue(session: Session, kind: str, ref_id: str, *, max_attempts: int = 3) -> Job:
    """Add a job in the caller's transaction (so it exists iff the caller's row does); this
    process's idle workers are woken when that transaction commits."""
    job = Job(kind=kind, ref_id=ref_id, status=JobStatus.QUEUED.value, max_attempts=max_attempts)
    session.add(job)
    session.flush()
    session.info[_NEW_JOBS] = True
    return job


@event.listens_for(Session, "after_commit")
def _wake_after_commit(session: Session) -> None:
    # After the commit, never before it: a worker woken earlier would not see the job yet.
    if session.info.pop(_NEW_JOBS, False):
        _work.set()


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_NEW_JOBS, None)


def wait_for_work(timeout: float) -> bool:
    """Block until a job is enqueued in this process (or :func:`wake` is called), at most
    ``timeout`` seconds; True when woken. Every waiting worker wakes; they race to claim."""
    woken = _work.wait(timeout)
    _work.clear()
    return woken


def wake() -> None:
    """Wake this process's idle workers (to see a stop flag, or look at the table again)."""
    _work.set()


def _claimable(t: float):  # type: ignore[no-untyped-def]
    return or_(
        and_(Job.status == JobStatus.QUEUED.value, Job.run_after <= t),
        and_(Job.status == JobStatus.RUNNING.value, Job.lease_expires_at < t),
    )


def claim(
    db: Database, owner: str, lease_seconds: int, kinds: list[str] | None = None
) -> Job | None:
    """Atomically take the oldest claimable job for ``owner``; None when there is none."""
    for _ in range(5):
        t = now()
        with db.session() as s:
            query = select(Job.id).where(_claimable(t)).order_by(Job.id).limit(1)
            if kinds:
                query = query.where(Job.kind.in_(kinds))
            job_id = s.scalar(query)
            if job_id is None:
                return None
            result = s.execute(
                update(Job)
                .where(Job.id == job_id, _claimable(t))
                .values(
                    status=JobStatus.RUNNING.value,
                    lease_owner=owner,
                    lease_expires_at=t + lease_seconds,
                    attempts=Job.attempts + 1,
                )
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                return s.get(Job, job_id)
        # another worker won the race for that row: look again
    return None


def heartbeat(db: Database, job_id: int, owner: str, lease_seconds: int) -> bool:
    """Extend the lease; False when the job is no longer ours (taken over or finished)."""
    with db.session() as s:
        result = s.execute(
            update(Job)
            .where(
                Job.id == job_id, Job.lease_owner == owner, Job.status == JobStatus.RUNNING.value
            )
            .values(lease_expires_at=now() + lease_seconds)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def finish(
    session: Session, job_id: int, owner: str, *, failed: bool = False, error: str | None = None
) -> bool:
    """Mark the job done/failed in the caller's transaction; False if we lost the lease."""
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.lease_owner == owner)
        .values(
            status=(JobStatus.FAILED if failed else JobStatus.DONE).value,
            finished_at=now(),
            lease_expires_at=None,
            last_error=error,
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def cancel(session: Session, ref_id: str, reason: str) -> int:
    """Fail the queued or running jobs of ``ref_id`` (its row was deleted); their workers notice
    at the next heartbeat that the lease is gone and stop. Returns how many were cancelled."""
    result = session.execute(
        update(Job)
        .where(
            Job.ref_id == ref_id, Job.status.in_([JobStatus.QUEUED.value, JobStatus.RUNNING.value])
        )
        .values(status=JobStatus.FAILED.value, last_error=reason, lease_owner=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def retry_later(db: Database, job_id: int, owner: str, delay: float, error: str) -> None:
    """Give the job back to the queue after ``delay`` seconds (a transient failure)."""
    with db.session() as s:
        s.execute(
            update(Job)
            .where(Job.id == job_id, Job.lease_owner == owner)
            .values(
                status=JobStatus.QUEUED.value,
                lease_owner=None,
                lease_expires_at=None,
                run_after=now() + delay,
                last_error=error,
            )
        )
