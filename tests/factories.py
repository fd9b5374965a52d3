"""Plain factory functions for test data (no HTTP)."""

from __future__ import annotations

from twinstudio.db.base import new_id
from twinstudio.db.models import AvatarGroup, Look
from twinstudio.services.context import AppContext
from twinstudio.services.keys import CreatedKey, create_key


def make_key(ctx: AppContext, name: str = "test") -> CreatedKey:
    with ctx.db.session() as s:
        return create_key(s, name)


def make_look(
    ctx: AppContext,
    account_id: str | None,
    *,
    status: str = "completed",
    matting: bool = False,
    avatar_type: str = "video_avatar",
) -> str:
    """A look row (no pack): enough for validation tests, which never render."""
    with ctx.db.session() as s:
        group = AvatarGroup(id=new_id("group"), account_id=account_id, name="Test person")
        s.add(group)
        s.flush()
        look = Look(
            id=new_id("look"),
            group_id=group.id,
            account_id=account_id,
            name="Test look",
            avatar_type=avatar_type,
            status=status,
            matting=matting,
            pack_prefix="looks/x/pack",
            default_voice_id=None,
        )
        s.add(look)
        return look.id
