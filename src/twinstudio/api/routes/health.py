"""Health and files: ``/healthz`` and the signed download links of local storage."""

from __future__ import annotations

import mimetypes
from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse, PlainTextResponse
from sqlalchemy import text

from twinstudio import __version__
from twinstudio.api.deps import CtxDep
from twinstudio.errors import Forbidden, NotFound
from twinstudio.storage.local import LocalStorage, verify

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(ctx: CtxDep) -> dict[str, Any]:
    with ctx.db.session() as s:
        s.execute(text("SELECT 1"))
    return {"status": "ok", "version": __version__}


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(ctx: CtxDep) -> PlainTextResponse:
    """Prometheus-style metrics (queue depth, statuses, webhook backlog) for operators."""
    from twinstudio.services.metrics import render

    return PlainTextResponse(render(ctx), media_type="text/plain; version=0.0.4")


@router.get("/files/{key:path}", include_in_schema=False)
def download(key: str, ctx: CtxDep, expires: int = Query(0), sig: str = Query("")) -> FileResponse:
    """Serve a stored file to whoever holds a valid, unexpired signed link."""
    storage = ctx.storage
    if not isinstance(storage, LocalStorage):
        raise NotFound("Files are served by the storage backend, not this server.")
    if not verify(key, expires, sig, storage.secret):
        raise Forbidden(
            "This link is invalid or has expired; GET the object again for a fresh one."
        )
    try:
        path = storage.path(key)
    except ValueError as exc:
        raise Forbidden("Invalid file link.") from exc
    if not path.is_file():
        raise NotFound("This file no longer exists.")
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if path.suffix == ".srt":
        media_type = "application/x-subrip"
    return FileResponse(path, media_type=media_type, filename=path.name)
