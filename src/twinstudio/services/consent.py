"""Consent: a twin's looks wait in ``pending_consent`` until the person on the footage records (or
uploads) a short statement that they agree. The link is signed, so the person needs no API key."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from twinstudio.db.base import now
from twinstudio.db.models import Account, AvatarGroup, Look
from twinstudio.errors import Forbidden, InvalidParameter, NotFound
from twinstudio.services import assets as asset_service
from twinstudio.services.context import AppContext
from twinstudio.services.looks import get_group
from twinstudio.storage.local import sign, verify

CONSENT_TTL = 7 * 24 * 3600
STATEMENT = (
    "I, {name}, agree that twinstudio may create a digital twin of my face and voice from my "
    "recording, and that the owner of this twin may make videos of me with it."
)


def consent_link(ctx: AppContext, group_id: str) -> str:
    expires = int(time.time()) + CONSENT_TTL
    sig = sign(f"consent/{group_id}", expires, ctx.settings.signing_key())
    return f"{ctx.settings.base_url()}/consent/{group_id}?{urlencode({'expires': expires, 'sig': sig})}"


def check_link(ctx: AppContext, group_id: str, expires: int, sig: str) -> None:
    if not verify(f"consent/{group_id}", expires, sig, ctx.settings.signing_key()):
        raise Forbidden("This consent link is invalid or has expired; ask for a new one.")


def request_consent(
    ctx: AppContext, session: Session, account: Account, group_id: str
) -> AvatarGroup:
    group = get_group(session, account, group_id)
    if group.account_id != account.id:
        raise NotFound(f"No avatar group {group_id!r} of yours.")
    if group.consent_status == "waived":
        group.consent_status = "pending"
    return group


def record_consent(ctx: AppContext, group_id: str, upload_path: Path, size: int) -> AvatarGroup:
    """Store the consent recording with the twin and release its looks."""
    upload = asset_service.classify(ctx, upload_path, size, param="file")
    if upload.kind not in ("video", "audio"):
        raise InvalidParameter(
            "The consent statement must be a video or audio recording.", param="file"
        )
    ext = asset_service.SUPPORTED[upload.mime_type][1]
    with ctx.db.session() as s:
        group = s.get(AvatarGroup, group_id)
        if group is None:
            raise NotFound("This twin no longer exists.")
        ctx.storage.put_file(f"groups/{group_id}/consent.{ext}", upload_path, upload.mime_type)
        group.consent_status = "completed"
        for look in s.scalars(
            select(Look).where(Look.group_id == group_id, Look.status == "pending_consent")
        ):
            look.status = "completed"
            look.updated_at = now()
        return group


def page_context(ctx: AppContext, group_id: str) -> dict[str, Any]:
    with ctx.db.session() as s:
        group = s.get(AvatarGroup, group_id)
        if group is None:
            raise NotFound("This twin no longer exists.")
        return {
            "name": group.name,
            "status": group.consent_status,
            "statement": STATEMENT.format(name=group.name),
        }
