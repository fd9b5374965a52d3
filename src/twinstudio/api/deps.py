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
    return authenticate(session, x_api_key)


CtxDep = Annotated[AppContext, Depends(get_ctx)]
SessionDep = Annotated[Session, Depends(get_session)]
AccountDep = Annotated[Account, Depends(get_account)]
