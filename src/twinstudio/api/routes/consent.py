"""The consent page and its upload (signed links, no API key), and the API call that makes them."""

from __future__ import annotations

import html
import tempfile
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, File, Query, UploadFile
from fastapi.responses import HTMLResponse

from twinstudio.api.deps import AccountDep, CtxDep, SessionDep
from twinstudio.services import assets as asset_service
from twinstudio.services import consent as service
from twinstudio.services.looks import group_view

router = APIRouter(tags=["avatars"])


@router.post("/v3/avatars/{group_id}/consent")
def request_consent(
    group_id: str, ctx: CtxDep, session: SessionDep, account: AccountDep
) -> dict[str, Any]:
    """A link where the person on the footage records or uploads their consent."""
    group = service.request_consent(ctx, session, account, group_id)
    return {
        "data": {
            "avatar_group": group_view(ctx, session, group),
            "url": service.consent_link(ctx, group_id),
        }
    }


@router.get("/consent/{group_id}", include_in_schema=False, response_class=HTMLResponse)
def consent_page(
    group_id: str, ctx: CtxDep, expires: int = Query(0), sig: str = Query("")
) -> HTMLResponse:
    service.check_link(ctx, group_id, expires, sig)
    info = service.page_context(ctx, group_id)
    template = (
        files("twinstudio.web").joinpath("templates/consent.html").read_text(encoding="utf-8")
    )
    done = info["status"] == "completed"
    page = (
        template.replace("{{NAME}}", html.escape(info["name"]))
        .replace("{{STATEMENT}}", html.escape(info["statement"]))
        .replace("{{STATE_CLASS}}", "done" if done else "")
        .replace(
            "{{STATE_TEXT}}",
            "Consent already recorded. You may record again to replace it." if done else "",
        )
        .replace(
            "{{UPLOAD_URL}}",
            f"/consent/{group_id}/upload?{urlencode({'expires': expires, 'sig': sig})}",
        )
    )
    return HTMLResponse(page)


@router.post("/consent/{group_id}/upload", include_in_schema=False)
def consent_upload(
    group_id: str,
    ctx: CtxDep,
    file: Annotated[UploadFile, File()],
    expires: int = Query(0),
    sig: str = Query(""),
) -> dict[str, Any]:
    service.check_link(ctx, group_id, expires, sig)
    with tempfile.TemporaryDirectory(dir=ctx.settings.work_dir) as tmp:
        path = Path(tmp) / "consent"
        size = asset_service.receive(file.file, path, ctx.settings.max_asset_bytes)
        group = service.record_consent(ctx, group_id, path, size)
    return {"data": {"group_id": group.id, "consent_status": group.consent_status}}


@router.get("/v3/avatars/recording-script")
def recording_script(account: AccountDep) -> dict[str, Any]:
    """(ours) A ~2-minute script that shows every mouth shape, for people recording a twin."""
    from twinstudio.twins.recording_script import RECORDING_SCRIPT

    words = len(RECORDING_SCRIPT.split())
    return {
        "data": {
            "script": RECORDING_SCRIPT,
            "words": words,
            "minutes_at_150_wpm": round(words / 150, 1),
            "tips": [
                "Face the camera at eye level, in even light from the front.",
                "Only you in the picture; keep your head and shoulders in frame.",
                "Speak naturally; pause with your mouth closed between paragraphs.",
                "Record at 1080p, 25 or 30 fps, in a quiet room.",
            ],
        }
    }
