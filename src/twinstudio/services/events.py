"""Domain events written in the same transaction as the status change they announce."""

from __future__ import annotations

from sqlalchemy.orm import Session

from twinstudio.db.models import Look, Video


def video_succeeded(session: Session, video: Video) -> None:
    """``avatar_video.success`` for the video's account and its callback_url."""


def video_failed(session: Session, video: Video) -> None:
    """``avatar_video.fail`` for the video's account and its callback_url."""


def training_succeeded(session: Session, look: Look) -> None:
    """``avatar_training.success`` for the look's account."""


def training_failed(session: Session, look: Look) -> None:
    """``avatar_training.fail`` for the look's account."""
