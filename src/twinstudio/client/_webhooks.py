"""Check that a webhook really comes from your twinstudio server (Standard Webhooks scheme).

The server signs ``"{webhook-id}.{webhook-timestamp}.{body}"`` with HMAC-SHA256, keyed with the
base64 part of the endpoint's ``whsec_…`` secret, and sends ``webhook-signature: v1,<base64>``
(several, space-separated, while a rotated secret is in its grace period). The ``standardwebhooks``
package checks the same; this helper needs nothing beyond the standard library.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

from twinstudio.client._exceptions import WebhookVerificationError

__all__ = ["verify_webhook"]

SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE_S = 300


def _secret_key(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise WebhookVerificationError("the webhook secret is not a valid whsec_… value") from exc


def verify_webhook(
    secret: str,
    headers: Mapping[str, str],
    body: bytes | str,
    *,
    tolerance: float = DEFAULT_TOLERANCE_S,
    now: float | None = None,
) -> dict[str, Any]:
    """Verify a delivery and return its decoded JSON payload.

    ``headers`` are the request's headers (any case); ``body`` the raw bytes as received, not
    re-serialised JSON. A timestamp more than ``tolerance`` seconds from ``now`` is refused, so a
    captured delivery cannot be replayed later. Raises :class:`WebhookVerificationError`.
    """
    raw = body.encode() if isinstance(body, str) else bytes(body)
    lower = {k.lower(): v for k, v in headers.items()}
    msg_id = lower.get("webhook-id")
    stamp = lower.get("webhook-timestamp")
    sent = lower.get("webhook-signature")
    if not msg_id or not stamp or not sent:
        raise WebhookVerificationError(
            "missing webhook-id, webhook-timestamp or webhook-signature header"
        )
    try:
        timestamp = int(stamp)
    except ValueError as exc:
        raise WebhookVerificationError(f"invalid webhook-timestamp {stamp!r}") from exc
    current = time.time() if now is None else now
    if timestamp < current - tolerance:
        raise WebhookVerificationError("the webhook timestamp is too old (replayed?)")
    if timestamp > current + tolerance:
        raise WebhookVerificationError("the webhook timestamp is too far in the future")
    digest = hmac.new(_secret_key(secret), f"{msg_id}.{timestamp}.".encode() + raw, hashlib.sha256)
    expected = base64.b64encode(digest.digest()).decode()
    for candidate in sent.split():
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(expected, value):
            break
    else:
        raise WebhookVerificationError("no webhook signature matches this secret")
    try:
        payload = json.loads(raw)
    except ValueError as exc:
        raise WebhookVerificationError("the webhook body is not JSON") from exc
    if not isinstance(payload, dict):
        raise WebhookVerificationError("the webhook body is not a JSON object")
    return payload
