"""Cursor pagination as HeyGen does it: ``limit`` + opaque ``token`` → ``has_more``/``next_token``."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import Session

from twinstudio.errors import InvalidParameter

T = TypeVar("T")


@dataclass(frozen=True)
class Page:
    items: list[Any]
    has_more: bool
    next_token: str | None


def check_limit(limit: int | None, default: int, maximum: int) -> int:
    if limit is None:
        return default
    if not 1 <= limit <= maximum:
        raise InvalidParameter(f"limit must be between 1 and {maximum}.", param="limit")
    return limit


def _decode(token: str | None) -> int:
    if not token:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode() + b"==="))
        offset = int(data["o"])
        if offset < 0:
            raise ValueError
        return offset
    except Exception as exc:
        raise InvalidParameter(
            "token is not a cursor this server issued; pass next_token from the previous page.",
            param="token",
        ) from exc


def _encode(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def paginate(session: Session, query: Select[Any], limit: int, token: str | None) -> Page:
    """Run ``query`` (already ordered) for one page."""
    offset = _decode(token)
    rows = list(session.scalars(query.offset(offset).limit(limit + 1)))
    has_more = len(rows) > limit
    return Page(
        items=rows[:limit],
        has_more=has_more,
        next_token=_encode(offset + limit) if has_more else None,
    )


def paginate_list(items: list[T], limit: int, token: str | None) -> Page:
    """Paginate an in-memory list (the voice catalog)."""
    offset = _decode(token)
    page = items[offset : offset + limit]
    has_more = offset + limit < len(items)
    return Page(
        items=page, has_more=has_more, next_token=_encode(offset + limit) if has_more else None
    )
