"""Dependencies shared by the routes: the app context, a DB session, the calling account."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.orm import Session

from twinstudio.db.models import Account
from twinstudio.services.context import AppContext
from twinstudio.services.keys import authenticate


def get_ctx(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


def get_session(ctx: Annotated[AppContext, Depends(get_ctx)]) -> Iterator[Session]:
    with ctx.db.session() as session:
        yield session


def get_account(
    session: Annotated[Session, Depends(get_session)],
    x_api_key: Annotated[str | None, Header()] = None,
) -> Account:
    """The caller's account. The key's ``last_used_at`` (written at most once a minute) is
    committed at once: SQLite has one writer at a time, and a write left pending in the
    request's session would hold the lock while the route writes in sessions of its own
    (``Idempotency-Key`` records, a new video), which would then wait for it until timing out."""
    account = authenticate(session, x_api_key)
    session.commit()  # (the update may already be flushed: ``dirty`` can be empty)
    return account


CtxDep = Annotated[AppContext, Depends(get_ctx)]
SessionDep = Annotated[Session, Depends(get_session)]
AccountDep = Annotated[Account, Depends(get_account)]
