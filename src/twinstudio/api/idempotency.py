"""``Idempotency-Key`` on POSTs: a repeat within 24 h replays the first answer; a repeat while the
first is still being handled gets 409 ``request_in_progress``; the same key with a different
body is refused."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from fastapi.responses import JSONResponse
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from twinstudio.db.base import now
from twinstudio.db.models import Account, IdempotencyRecord
from twinstudio.errors import InvalidParameter, RequestInProgress, TwinstudioError
from twinstudio.services.context import AppContext

KEY_RE = re.compile(r"^[A-Za-z0-9_:.\-]{1,255}$")
TTL = 24 * 3600


def run_idempotent(
    ctx: AppContext,
    account: Account,
    key: str | None,
    fingerprint_src: Any,
    handler: Callable[[], tuple[int, dict[str, Any]]],
) -> JSONResponse:
    """Call ``handler`` once per (account, key); replay its answer for later repeats."""
    if key is None:
        status, body = handler()
        return JSONResponse(body, status_code=status)
    if not KEY_RE.match(key):
        raise InvalidParameter(
            "Idempotency-Key must be 1-255 characters of A-Z a-z 0-9 _ : . -",
            param="Idempotency-Key",
        )
    fingerprint = hashlib.sha256(
        json.dumps(fingerprint_src, sort_keys=True, default=str).encode()
    ).hexdigest()
    with ctx.db.session() as s:
        s.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < now() - TTL))
    try:
        with ctx.db.session() as s:
            s.add(IdempotencyRecord(account_id=account.id, key=key, fingerprint=fingerprint))
    except IntegrityError:
        with ctx.db.session() as s:
            rec = s.get(IdempotencyRecord, (account.id, key))
            if rec is None:
                raise RequestInProgress(
                    "A request with this Idempotency-Key is being handled."
                ) from None
            if rec.fingerprint != fingerprint:
                raise InvalidParameter(
                    "This Idempotency-Key was used with a different request body.",
                    param="Idempotency-Key",
                ) from None
            if rec.status_code is None:
                raise RequestInProgress(
                    "A request with this Idempotency-Key is still being handled; retry shortly."
                ) from None
            return JSONResponse(
                json.loads(rec.body or "{}"),
                status_code=rec.status_code,
                headers={"Idempotent-Replayed": "true"},
            )
    try:
        status, body = handler()
    except TwinstudioError as exc:
        if exc.status < 500:  # a refusal is an answer too: replay it
            _store(
                ctx,
                account,
                key,
                exc.status,
                {
                    "error": {
                        "code": exc.code,
                        "message": exc.message,
                        "param": exc.param,
                        "doc_url": None,
                    }
                },
            )
        else:
            _forget(ctx, account, key)
        raise
    except BaseException:
        _forget(ctx, account, key)
        raise
    _store(ctx, account, key, status, body)
    return JSONResponse(body, status_code=status)


def _store(ctx: AppContext, account: Account, key: str, status: int, body: dict[str, Any]) -> None:
    with ctx.db.session() as s:
        rec = s.get(IdempotencyRecord, (account.id, key))
        if rec is not None:
            rec.status_code = status
            rec.body = json.dumps(body)


def _forget(ctx: AppContext, account: Account, key: str) -> None:
    with ctx.db.session() as s:
        s.execute(
            delete(IdempotencyRecord).where(
                IdempotencyRecord.account_id == account.id, IdempotencyRecord.key == key
            )
        )
