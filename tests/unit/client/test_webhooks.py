"""verify_webhook: the Standard Webhooks scheme, checked against the reference package."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook

from twinstudio.client import WebhookVerificationError, verify_webhook

SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
NOW = 1_800_000_000
BODY = json.dumps(
    {"event_type": "avatar_video.success", "event_data": {"video_id": "vid_1"}}
).encode()


def _signed(body: bytes = BODY, ts: int = NOW, msg_id: str = "evt_1") -> dict[str, str]:
    sig = Webhook(SECRET).sign(msg_id, datetime.fromtimestamp(ts, UTC), body.decode())
    return {"Webhook-Id": msg_id, "Webhook-Timestamp": str(ts), "Webhook-Signature": sig}


def test_a_genuine_delivery_verifies() -> None:
    payload = verify_webhook(SECRET, _signed(), BODY, now=NOW + 10)
    assert payload["event_data"]["video_id"] == "vid_1"
    assert verify_webhook(SECRET, _signed(), BODY.decode(), now=NOW)["event_type"]


def test_one_of_several_signatures_is_enough() -> None:
    headers = _signed()
    headers["Webhook-Signature"] = "v1,AAAA " + headers["Webhook-Signature"]
    verify_webhook(SECRET, headers, BODY, now=NOW)


def test_a_tampered_body_is_refused() -> None:
    with pytest.raises(WebhookVerificationError, match="signature"):
        verify_webhook(SECRET, _signed(), BODY.replace(b"vid_1", b"vid_2"), now=NOW)


def test_another_secret_is_refused() -> None:
    other = "whsec_" + base64.b64encode(b"x" * 32).decode()
    with pytest.raises(WebhookVerificationError):
        verify_webhook(other, _signed(), BODY, now=NOW)


def test_too_old_and_future_timestamps_are_refused() -> None:
    with pytest.raises(WebhookVerificationError, match="too old"):
        verify_webhook(SECRET, _signed(), BODY, now=NOW + 301)
    with pytest.raises(WebhookVerificationError, match="future"):
        verify_webhook(SECRET, _signed(), BODY, now=NOW - 301)


def test_missing_or_malformed_headers_are_refused() -> None:
    headers = _signed()
    del headers["Webhook-Signature"]
    with pytest.raises(WebhookVerificationError, match="missing"):
        verify_webhook(SECRET, headers, BODY, now=NOW)
    with pytest.raises(WebhookVerificationError, match="timestamp"):
        verify_webhook(SECRET, {**_signed(), "Webhook-Timestamp": "soon"}, BODY, now=NOW)
    with pytest.raises(WebhookVerificationError, match="secret"):
        verify_webhook("whsec_***", _signed(), BODY, now=NOW)
