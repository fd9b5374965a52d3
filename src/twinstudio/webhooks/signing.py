"""The Standard Webhooks scheme (https://www.standardwebhooks.com), as the ``standardwebhooks``
package verifies it: ``webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">``,
keyed with the base64-decoded part of a ``whsec_…`` secret. Several signatures are sent
space-separated while a rotated secret is still in its grace period."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """One ``v1,…`` signature of a message."""
    to_sign = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), to_sign, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secrets_: list[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers, signed with every secret given."""
    sigs = " ".join(signature(s, msg_id, timestamp, body) for s in secrets_)
    out = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "content-type": "application/json",
    }
    if sigs:
        out["webhook-signature"] = sigs
    return out


def verify(
    secret: str,
    headers_: dict[str, str],
    body: bytes,
    tolerance_s: int = 300,
    now: float | None = None,
) -> bool:
    """Check a received webhook (what receivers do; the SDK's helper uses this)."""
    import time

    lower = {k.lower(): v for k, v in headers_.items()}
    try:
        msg_id, ts = lower["webhook-id"], int(lower["webhook-timestamp"])
        sent = lower["webhook-signature"].split()
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - ts) > tolerance_s:
        return False
    expected = signature(secret, msg_id, ts, body)
    return any(hmac.compare_digest(expected, s) for s in sent)
