"""/v3/assets: multipart upload of footage, images and audio."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, UploadFile

from twinstudio.api.deps import AccountDep, CtxDep, SessionDep
from twinstudio.services import assets as service

router = APIRouter(prefix="/v3/assets", tags=["assets"])


@router.post("")
def upload_asset(
    file: Annotated[UploadFile, File(description="The file; its type is read from its bytes")],
    ctx: CtxDep,
    session: SessionDep,
    account: AccountDep,
) -> dict[str, Any]:
    limit = max(ctx.settings.max_asset_bytes, ctx.settings.max_footage_bytes)
    with tempfile.TemporaryDirectory(dir=ctx.settings.work_dir) as tmp:
        path = Path(tmp) / "upload"
        size = service.receive(file.file, path, limit)
        upload = service.classify(ctx, path, size)
        asset = service.create_asset(ctx, session, account, upload, file.filename or "")
    return {"data": service.asset_view(ctx, asset)}
