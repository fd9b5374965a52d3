"""Event types and the outbox: an event and its deliveries are rows written in the caller's
transaction, so they exist exactly when the status change they announce was committed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from twinstudio.db.base import new_id
from twinstudio.db.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

EVENT_TYPES: dict[str, str] = {
    "avatar_video.success": "A video finished rendering; event_data has video_id, url and callback_id.",
    "avatar_video.fail": "A video failed; event_data has video_id, msg and callback_id.",
    "avatar_training.success": "A Digital Twin (look) finished training; event_data has avatar_id and group_id.",
    "avatar_training.fail": "Training a Digital Twin failed; event_data has avatar_id, group_id, code and msg.",
}


def record(
    session: Session,
    account_id: str,
    event_type: str,
    data: dict[str, Any],
    callback_url: str | None = None,
) -> WebhookEvent:
    """Write an event plus one pending delivery per subscribed endpoint (and the callback URL)."""
    assert event_type in EVENT_TYPES, event_type
    event = WebhookEvent(id=new_id("evt"), account_id=account_id, event_type=event_type, data=data)
    session.add(event)
    session.flush()
    endpoints = session.scalars(
        select(WebhookEndpoint).where(
            WebhookEndpoint.account_id == account_id, WebhookEndpoint.status == "enabled"
        )
    )
    for ep in endpoints:
        if ep.events is None or event_type in ep.events:
            session.add(WebhookDelivery(event_id=event.id, endpoint_id=ep.id, url=ep.url))
    if callback_url:
        session.add(WebhookDelivery(event_id=event.id, endpoint_id=None, url=callback_url))
    return event


def payload(event: WebhookEvent) -> dict[str, Any]:
    """The JSON body receivers get (HeyGen's shape plus the event id)."""
    return {
        "event_id": event.id,
        "event_type": event.event_type,
        "event_data": event.data,
        "created_at": int(event.created_at),
    }
