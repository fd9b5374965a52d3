"""Accounts and API keys. Keys are shown once; only their SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from twinstudio.db.base import new_id, now
from twinstudio.db.models import Account, ApiKey
from twinstudio.errors import AuthenticationFailed, NotFound

KEY_PREFIX = "tsk_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class CreatedKey:
    key_id: str
    account_id: str
    name: str
    secret: str  # the key itself: shown once, never stored


def create_key(session: Session, name: str, account_id: str | None = None) -> CreatedKey:
    """A new key. Without ``account_id`` a new account named after the key is made for it."""
    if account_id is None:
        account = Account(id=new_id("acc"), name=name)
        session.add(account)
        session.flush()
        account_id = account.id
    elif session.get(Account, account_id) is None:
        raise NotFound(f"No account {account_id!r}.", param="account_id")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        id=new_id("key"),
        account_id=account_id,
        name=name,
        prefix=secret[:10],
        key_hash=hash_key(secret),
    )
    session.add(key)
    session.flush()
    return CreatedKey(key_id=key.id, account_id=account_id, name=name, secret=secret)


def authenticate(session: Session, secret: str | None) -> Account:
    """The account a key belongs to; AuthenticationFailed for a missing, unknown or revoked key."""
    if not secret:
        raise AuthenticationFailed("Missing API key: send it in the x-api-key header.")
    key = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(secret)))
    if key is None or key.revoked_at is not None:
        raise AuthenticationFailed(
            "Invalid API key. Create one with `twinstudio keys create --name NAME`."
        )
    t = now()
    if key.last_used_at is None or t - key.last_used_at > 60:  # avoid a write on every request
        key.last_used_at = t
    account = session.get(Account, key.account_id)
    if account is None:
        raise AuthenticationFailed("Invalid API key: its account no longer exists.")
    return account


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.created_at)))


def revoke_key(session: Session, key_id_or_prefix: str) -> ApiKey:
    key = session.scalar(
        select(ApiKey).where((ApiKey.id == key_id_or_prefix) | (ApiKey.prefix == key_id_or_prefix))
    )
    if key is None:
        raise NotFound(f"No API key {key_id_or_prefix!r}; see `twinstudio keys list`.")
    key.revoked_at = now()
    return key
