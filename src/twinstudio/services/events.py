"""Domain events, written to the webhook outbox in the same transaction as the status change."""

from __future__ import annotations

from sqlalchemy.orm import Session

from twinstudio.db.models import Look, Video
from twinstudio.services.context import AppContext
from twinstudio.webhooks.events import record


def video_succeeded(ctx: AppContext, session: Session, video: Video) -> None:
    """``avatar_video.success`` for the video's account and its callback_url."""
    url = (
        ctx.storage.url(video.video_key, ctx.settings.url_ttl_seconds) if video.video_key else None
    )
    record(
        session,
        video.account_id,
        "avatar_video.success",
        {"video_id": video.id, "url": url, "callback_id": video.callback_id},
        callback_url=video.callback_url,
    )


def video_failed(ctx: AppContext, session: Session, video: Video) -> None:
    """``avatar_video.fail`` for the video's account and its callback_url."""
    record(
        session,
        video.account_id,
        "avatar_video.fail",
        {
            "video_id": video.id,
            "msg": video.failure_message,
            "code": video.failure_code,
            "callback_id": video.callback_id,
        },
        callback_url=video.callback_url,
    )


def training_succeeded(ctx: AppContext, session: Session, look: Look) -> None:
    """``avatar_training.success`` for the look's account (public looks announce nothing)."""
    if look.account_id:
        record(
            session,
            look.account_id,
            "avatar_training.success",
            {"avatar_id": look.id, "group_id": look.group_id, "status": look.status},
        )


def training_failed(ctx: AppContext, session: Session, look: Look) -> None:
    """``avatar_training.fail`` for the look's account."""
    if look.account_id:
        record(
            session,
            look.account_id,
            "avatar_training.fail",
            {
                "avatar_id": look.id,
                "group_id": look.group_id,
                "code": look.error_code,
                "msg": look.error_message,
            },
        )
