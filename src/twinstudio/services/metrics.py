"""Prometheus text-format metrics for operators: what is queued, running, done and failing."""

from __future__ import annotations

from sqlalchemy import func, select

from twinstudio.db.base import now
from twinstudio.db.models import Job, Look, Video, WebhookDelivery
from twinstudio.services.context import AppContext


def _line(name: str, value: float, labels: dict[str, str] | None = None) -> str:
    if labels:
        inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        return f"{name}{{{inner}}} {value:g}"
    return f"{name} {value:g}"


def render(ctx: AppContext) -> str:
    """All metrics as Prometheus exposition text."""
    out: list[str] = []
    with ctx.db.session() as s:
        out += ["# HELP twinstudio_videos Videos by status.", "# TYPE twinstudio_videos gauge"]
        for status, n in s.execute(select(Video.status, func.count()).group_by(Video.status)):
            out.append(_line("twinstudio_videos", n, {"status": status}))
        out += ["# HELP twinstudio_looks Looks (twins) by status.", "# TYPE twinstudio_looks gauge"]
        for status, n in s.execute(select(Look.status, func.count()).group_by(Look.status)):
            out.append(_line("twinstudio_looks", n, {"status": status}))
        out += [
            "# HELP twinstudio_jobs Background jobs by kind and status.",
            "# TYPE twinstudio_jobs gauge",
        ]
        for kind, status, n in s.execute(
            select(Job.kind, Job.status, func.count()).group_by(Job.kind, Job.status)
        ):
            out.append(_line("twinstudio_jobs", n, {"kind": kind, "status": status}))
        oldest = s.scalar(select(func.min(Job.created_at)).where(Job.status == "queued"))
        out += [
            "# HELP twinstudio_queue_oldest_seconds Age of the oldest queued job.",
            "# TYPE twinstudio_queue_oldest_seconds gauge",
            _line("twinstudio_queue_oldest_seconds", round(now() - oldest, 1) if oldest else 0),
        ]
        out += [
            "# HELP twinstudio_webhook_deliveries Webhook deliveries by status.",
            "# TYPE twinstudio_webhook_deliveries gauge",
        ]
        for status, n in s.execute(
            select(WebhookDelivery.status, func.count()).group_by(WebhookDelivery.status)
        ):
            out.append(_line("twinstudio_webhook_deliveries", n, {"status": status}))
        done = s.execute(
            select(
                func.count(),
                func.sum(Video.duration),
                func.sum(Video.completed_at - Video.created_at),
            ).where(Video.status == "completed")
        ).one()
        out += [
            "# HELP twinstudio_rendered_video_seconds_total Seconds of video rendered.",
            "# TYPE twinstudio_rendered_video_seconds_total counter",
            _line("twinstudio_rendered_video_seconds_total", round(done[1] or 0.0, 3)),
            "# HELP twinstudio_video_turnaround_seconds_total Creation-to-completion time, summed.",
            "# TYPE twinstudio_video_turnaround_seconds_total counter",
            _line("twinstudio_video_turnaround_seconds_total", round(done[2] or 0.0, 3)),
        ]
    return "\n".join(out) + "\n"
